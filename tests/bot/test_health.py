"""GET /healthz (200 with the database, 503 without) and GET /metrics (Prometheus text)."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import make_settings

# A PostgreSQL URL to a port nothing listens on: PostgreSQL is not migrated at start, so the app
# starts and the first health check finds the database gone.
UNREACHABLE = make_settings(database_url="postgresql+asyncpg://coach@127.0.0.1:1/coach")


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


async def test_healthz_is_200_with_the_database(live_app, http) -> None:
    async with http.get(f"{live_app.url}/healthz") as resp:
        assert resp.status == 200
        assert await resp.json() == {"status": "ok", "database": "up"}


@pytest.mark.parametrize("settings", [UNREACHABLE])
async def test_healthz_is_503_when_the_database_does_not_answer(live_app, http) -> None:
    async with http.get(f"{live_app.url}/healthz") as resp:
        assert resp.status == 503
        assert await resp.json() == {"status": "unavailable", "database": "down"}
    async with http.get(f"{live_app.url}/metrics") as resp:
        body = await resp.text()
    counts = samples(body, "coach_http_request_seconds_count")
    assert counts[(("method", "GET"), ("route", "/healthz"), ("status", "503"))] == 1


async def test_metrics_is_prometheus_text_that_counts_requests(live_app, http) -> None:
    for _ in range(3):
        async with http.get(f"{live_app.url}/healthz") as resp:
            assert resp.status == 200
    async with http.get(f"{live_app.url}/no-such-page") as resp:
        assert resp.status == 404
    async with http.get(f"{live_app.url}/metrics") as resp:
        assert resp.status == 200
        assert resp.content_type == "text/plain"
        assert "version=" in resp.headers["Content-Type"]
        body = await resp.text()
    counts = samples(body, "coach_http_request_seconds_count")
    assert counts[(("method", "GET"), ("route", "/healthz"), ("status", "200"))] == 3
    assert counts[(("method", "GET"), ("route", "unmatched"), ("status", "404"))] == 1
    assert "# TYPE coach_http_request_seconds histogram" in body
    assert "# TYPE coach_debriefs_total counter" in body
    # a second scrape sees the first one
    async with http.get(f"{live_app.url}/metrics") as resp:
        again = samples(await resp.text(), "coach_http_request_seconds_count")
    assert again[(("method", "GET"), ("route", "/metrics"), ("status", "200"))] == 1


async def test_each_app_counts_only_its_own_requests(live_app, http, settings) -> None:
    from prometheus_client import generate_latest

    from bot.app import METRICS, create_app

    async with http.get(f"{live_app.url}/healthz") as resp:
        assert resp.status == 200
    other = create_app(settings)  # a second app in one process: no shared global registry
    mine = samples(
        generate_latest(live_app.app[METRICS].registry).decode(), "coach_http_request_seconds_count"
    )
    theirs = samples(generate_latest(other[METRICS].registry).decode(), "coach_http_request_seconds_count")
    assert sum(mine.values()) == 1 and theirs == {}


@pytest.mark.postgres
async def test_the_app_keeps_the_configured_number_of_postgresql_connections(postgres_url, http) -> None:
    """COACH_DATABASE_POOL_SIZE: a burst of health checks never opens more connections than that."""
    import asyncio

    from bot.app import ENGINE, create_app
    from tests.serving import serve

    app = create_app(make_settings(database_url=postgres_url, database_pool_size=3))
    runner, base = await serve(app)
    try:
        url = f"{base}/healthz"

        async def check() -> int:
            async with http.get(url) as resp:
                return resp.status

        assert await asyncio.gather(*(check() for _ in range(30))) == [200] * 30
        pool = app[ENGINE].pool
        assert (pool.size(), pool.checkedin() + pool.checkedout()) == (3, 3)  # type: ignore[attr-defined]
    finally:
        await runner.cleanup()
