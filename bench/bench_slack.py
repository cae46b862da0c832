"""Slack benchmarks: signed /debrief commands against a bare Bolt app, and view submissions on PostgreSQL.

Every server runs in its own process: the fake Slack Web API (tests/fakes/slack_api.py), then the
coach (`create_app`), then a bare Bolt AsyncApp whose /debrief only acks and does the same
`views.open` (the same modal JSON) against the same fake. This process is only the load: signed
requests on N concurrent connections.

    .venv/bin/python bench/bench_slack.py [--commands 2000] [--submissions 2000] [--concurrency 50]
    .venv/bin/python bench/bench_slack.py --shortcuts-each --commands 0 --submissions 1000

`--without bolt-request` runs the coach on Bolt's own `to_bolt_request` (bot/slack/bolt_internals.py
switched off); `--shortcuts-each` compares submissions with it off against all on, in one run.

Part 1 (SQLite, the embedded default): latency of each signed /debrief POST (Slack's 3 s limit),
throughput end to end (until every modal has been opened on the fake), coach / bare ratio.
Part 2 (PostgreSQL, COACH_BENCH_POSTGRES_URL or the test server): view submissions, each a new
modal; latency, and "zero lost": every 200 answered is one stored debrief.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SECRET = "bench-signing-secret-0123456789ab"
TOKEN = "xoxb-test"
TEAM = "T111"
USERS = [f"U{n:04d}" for n in range(50)]
SUBMITTERS = [f"U{n:04d}" for n in range(200)]  # a rep submits one debrief at a time
PG_ADMIN_URL = os.environ.get(
    "COACH_BENCH_POSTGRES_URL",
    os.environ.get("COACH_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"),
)


# -- servers, one process each ------------------------------------------------------------------
def serve_fake(port: int) -> None:
    from tests.fakes.slack_api import FakeSlackApi

    async def run() -> None:
        from aiohttp import web

        fake = FakeSlackApi()
        await fake.start()  # port 0 for its own use; expose it on the agreed port too
        site = web.TCPSite(fake._runner, "127.0.0.1", port)  # type: ignore[arg-type]
        await site.start()
        fake.url = f"http://127.0.0.1:{port}"
        await asyncio.Event().wait()

    asyncio.run(run())


# The coach's Slack library shortcut: name -> (module, its switch). Off means Bolt's to_bolt_request.
SHORTCUTS = {"bolt-request": ("bot.slack.bolt_internals", "FAST_FORM_PAYLOAD")}


def serve_coach(port: int, api: str, database: str, without: list[str]) -> None:
    import importlib

    from aiohttp import web

    from bot.app import create_app
    from bot.config import OrgConfig, ServerConfig, Settings

    for name in without:
        module, flag = SHORTCUTS[name]
        setattr(importlib.import_module(module), flag, False)

    settings = Settings(
        database_url=database,
        org=OrgConfig(server=ServerConfig(webchat=False)),
        slack_signing_secret=SECRET,
        slack_bot_token=TOKEN,
        slack_api_url=api,
    )
    web.run_app(create_app(settings), host="127.0.0.1", port=port, print=None, access_log=None)


def modal_json() -> dict[str, Any]:
    from bot.slack.modal import ModalMeta, debrief_modal
    from dialogs.text import default_texts

    return debrief_modal(default_texts(), "en", "Europe/Amsterdam", meta=ModalMeta(account="Acme")).to_dict()


def serve_bare(port: int, api: str) -> None:
    """A bare Bolt app: /debrief acks and opens the same modal, nothing else."""
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    view = modal_json()

    async def start(app: web.Application) -> Any:
        async with aiohttp.ClientSession() as session:
            bolt = AsyncApp(
                signing_secret=SECRET, client=AsyncWebClient(token=TOKEN, base_url=api, session=session)
            )

            @bolt.command("/debrief")
            async def debrief(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
                await ack()
                await client.views_open(trigger_id=body["trigger_id"], view=view)

            app["bolt"] = bolt
            yield

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(
            await request.app["bolt"].async_dispatch(await to_bolt_request(request))
        )

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.cleanup_ctx.append(start)
    app.router.add_post("/slack/events", events)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A server process of the benchmark: its port, and the CPU time it has used so far."""

    def __init__(self, port: int, pid: int) -> None:
        self.port, self.pid = port, pid

    def cpu_s(self) -> float:
        """User + system CPU seconds of the process (Linux /proc; 0.0 elsewhere)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def server(*args: str) -> Iterator[Server]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", *args, "--port", str(port)], cwd=ROOT)
    try:
        yield Server(port, proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)


async def wait_ready(http: aiohttp.ClientSession, url: str) -> None:
    for _ in range(300):
        with contextlib.suppress(aiohttp.ClientError):
            async with http.get(url) as resp:
                if resp.status < 500:
                    return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


# -- load ---------------------------------------------------------------------------------------
def signed(body: str, content_type: str = "application/x-www-form-urlencoded") -> dict[str, str]:
    from slack_sdk.signature import SignatureVerifier

    ts = str(int(time.time()))
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body),
    }


def command_body(user: str, n: int, trigger: str | None = None) -> str:
    return urlencode(
        {
            "token": "x",
            "team_id": TEAM,
            "team_domain": "bench",
            "channel_id": "C1",
            "channel_name": "sales",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/debrief",
            "text": "Acme",
            "response_url": "https://hooks.invalid/x",
            "trigger_id": trigger or f"{n}.trigger",
        }
    )


def submission_body(view: dict[str, Any], user: str, view_id: str | None = None) -> str:
    """The rep's submission of the opened view, after choosing the ratings and the outcome: the
    view as the coach redraws it for those answers (the details shown), filled in."""
    from bot.slack.modal import redrawn_modal
    from dialogs.text import default_texts
    from tests.bot.slack.conftest import answers, fill

    chosen = {**view, "state": {"values": fill(view, answers())}}
    view = redrawn_modal(default_texts(), "en", "Europe/Amsterdam", chosen).to_dict()
    view_id = view_id or f"V{uuid.uuid4().hex[:12]}"
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "bench"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
        "api_app_id": "A111",
        "token": "x",
        "trigger_id": "1.2.3",
        "view": {
            **view,
            "id": view_id,
            "team_id": TEAM,
            "hash": "1.h",
            "root_view_id": view_id,
            "state": {"values": fill(view, answers())},
            "app_installed_team_id": TEAM,
        },
    }
    return urlencode({"payload": json.dumps(payload)})


async def run_load(
    http: aiohttp.ClientSession, url: str, bodies: list[str], concurrency: int
) -> tuple[list[float], dict[int, int], float]:
    latencies, statuses, took, _ = await run_load_detailed(http, url, bodies, concurrency)
    return latencies, statuses, took


async def run_load_detailed(
    http: aiohttp.ClientSession, url: str, bodies: list[str], concurrency: int
) -> tuple[list[float], dict[int, int], float, list[int]]:
    """Latencies, status counts, wall time, and the indexes of the bodies answered 200."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    answered: list[int] = []
    queue = list(reversed(range(len(bodies))))

    async def worker() -> None:
        while queue:
            index = queue.pop()
            body = bodies[index]
            started = time.perf_counter()
            async with http.post(url, data=body.encode(), headers=signed(body)) as resp:
                await resp.read()
                statuses[resp.status] = statuses.get(resp.status, 0) + 1
                if resp.status == 200:
                    answered.append(index)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, statuses, time.perf_counter() - started, answered


def p(latencies: list[float], q: float) -> float:
    return statistics.quantiles(latencies, n=1000)[int(q * 1000) - 1] * 1000 if len(latencies) > 1 else 0.0


async def opens(http: aiohttp.ClientSession, fake: str, method: str = "views.open") -> int:
    async with http.get(f"{fake}/stats") as resp:
        return int((await resp.json()).get(method, 0))


async def until_opened(
    http: aiohttp.ClientSession, fake: str, count: int, *, deadline: float, method: str = "views.open"
) -> None:
    """Wait for the fake to have seen `count` calls of `method` (they follow the acks, in the server)."""
    while await opens(http, fake, method) < count and time.perf_counter() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.02)


async def measure_commands(
    name: str, base: str, fake: str, http: aiohttp.ClientSession, *, n: int, concurrency: int
) -> dict[str, float]:
    await wait_ready(http, f"{base}/healthz")
    url = f"{base}/slack/events"
    start = await opens(http, fake)
    warm = [command_body(u, i) for i, u in enumerate(USERS * 2)]
    await run_load(http, url, warm, concurrency)
    await until_opened(http, fake, start + len(warm), deadline=time.perf_counter() + 60)
    before = await opens(http, fake)
    bodies = [command_body(USERS[i % len(USERS)], i) for i in range(n)]
    started = time.perf_counter()
    latencies, statuses, acked = await run_load(http, url, bodies, concurrency)
    await until_opened(http, fake, before + n, deadline=started + 120)
    total = time.perf_counter() - started
    opened = min(await opens(http, fake) - before, n)
    result = {
        "p50_ms": p(latencies, 0.5),
        "p99_ms": p(latencies, 0.99),
        "acks_per_s": n / acked,
        "end_to_end_per_s": opened / total,
        "opened": opened,
        "ok": statuses.get(200, 0),
    }
    print(
        f"{name:>6}: {n} signed /debrief at {concurrency} connections: p50 {result['p50_ms']:.1f} ms, "
        f"p99 {result['p99_ms']:.1f} ms, {result['acks_per_s']:.0f} acks/s, "
        f"{result['end_to_end_per_s']:.0f} modals opened/s ({opened} opened, {statuses})",
        flush=True,
    )
    return result


async def part_commands(args: argparse.Namespace, http: aiohttp.ClientSession, fake: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        database = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        off = [f"--without={name}" for name in args.without]
        with server("coach", "--api", f"{fake}/api/", "--db", database, *off) as proc:
            coach = await measure_commands(
                "coach", f"http://127.0.0.1:{proc.port}", fake, http,
                n=args.commands, concurrency=args.concurrency,
            )
    with server("bare", "--api", f"{fake}/api/") as proc:
        bare = await measure_commands(
            "bare", f"http://127.0.0.1:{proc.port}", fake, http, n=args.commands, concurrency=args.concurrency
        )
    ratio = coach["end_to_end_per_s"] / bare["end_to_end_per_s"]
    ack_ratio = coach["acks_per_s"] / bare["acks_per_s"]
    verdict = "PASS" if coach["p99_ms"] < 100 and ratio >= 0.8 else "FAIL"
    print(
        f"/debrief: coach p99 {coach['p99_ms']:.1f} ms (target < 100), throughput coach/bare "
        f"{ratio:.2f} end to end, {ack_ratio:.2f} acks (target >= 0.8): {verdict}",
        flush=True,
    )


async def pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://"), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def part_submissions(args: argparse.Namespace, http: aiohttp.ClientSession, fake: str,
                           without: list[str] | None = None) -> tuple[float, float]:
    """Returns the coach's CPU per submission and the p99 latency (both ms)."""
    import sqlalchemy as sa

    from storage import migrate
    from storage.engine import create_engine
    from storage.models import Debrief

    name = f"coach_bench_{uuid.uuid4().hex[:10]}"
    await pg_admin(f'CREATE DATABASE "{name}"')
    url = f"{PG_ADMIN_URL.rpartition('/')[0]}/{name}"
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        without = args.without if without is None else without
        off = [f"--without={name}" for name in without]
        with server("coach", "--api", f"{fake}/api/", "--db", url, *off) as proc:
            base = f"http://127.0.0.1:{proc.port}"
            await wait_ready(http, f"{base}/healthz")
            events = f"{base}/slack/events"
            # Each rep opens the modal with /debrief; Slack sends back the view the bot opened for
            # them (its private_metadata included), with the rep's answers in its state.
            reps = SUBMITTERS
            triggers = {f"bench-{i}.trigger": u for i, u in enumerate(reps)}
            before = await opens(http, fake)
            await run_load(
                http, events, [command_body(u, i, t) for i, (t, u) in enumerate(triggers.items())],
                args.concurrency,
            )
            await until_opened(http, fake, before + len(reps), deadline=time.perf_counter() + 60)
            async with http.get(f"{fake}/opened") as resp:
                opened = await resp.json()
            views = {triggers[o["trigger_id"]]: o["view"] for o in opened if o["trigger_id"] in triggers}
            assert len(views) == len(reps), f"{len(views)} of {len(reps)} modals opened"
            warm = [submission_body(views[u], u) for u in reps]
            await run_load(http, events, warm, args.concurrency)
            view_ids = [f"V{uuid.uuid4().hex[:12]}" for _ in range(args.submissions)]
            submitters = [reps[i % len(reps)] for i in range(args.submissions)]
            bodies = [submission_body(views[u], u, v) for u, v in zip(submitters, view_ids, strict=True)]
            dms_before = await opens(http, fake, "chat.postMessage")
            cpu_before, load_before = proc.cpu_s(), time.process_time()
            latencies, statuses, took, answered = await run_load_detailed(
                http, events, bodies, args.concurrency
            )
            load_cpu, answered_at = time.process_time() - load_before, time.perf_counter()
            # The tips DM goes out after the answer: wait for all of them (the CPU figure includes them)
            await until_opened(http, fake, dms_before + args.submissions,
                               deadline=answered_at + 60, method="chat.postMessage")
            dm_after = time.perf_counter() - answered_at
            dms = await opens(http, fake, "chat.postMessage") - dms_before
            server_cpu = proc.cpu_s() - cpu_before
            await asyncio.sleep(3)  # a request Slack gave up on (ack after 3 s) may still finish storing
            keys = [f"slack:{v}" for v in view_ids]
            async with engine.connect() as conn:
                stored = set(
                    (
                        await conn.scalars(
                            sa.select(Debrief.idempotency_key).where(Debrief.idempotency_key.in_(keys))
                        )
                    ).all()
                )
        ok = len(answered)
        lost = sum(keys[i] not in stored for i in answered)
        p99 = p(latencies, 0.99)
        verdict = "PASS" if p99 < 150 and lost == 0 else "FAIL"
        label = f" without {', '.join(without)}" if without else ""
        print(
            f"submissions (PostgreSQL{label}): {args.submissions} at {args.concurrency} connections: "
            f"p50 {p(latencies, 0.5):.1f} ms, p99 {p99:.1f} ms (target < 150), "
            f"{args.submissions / took:.0f}/s, answered 200: {ok}, stored: {len(stored)}, "
            f"answered 200 but not stored (lost): {lost} ({statuses}): {verdict}",
            flush=True,
        )
        print(
            f"  tips DMs: {dms} of {args.submissions} sent, the last {dm_after:.2f} s after the last answer; "
            f"CPU per submission: coach {server_cpu / args.submissions * 1000:.2f} ms (its tips DM "
            f"included), this load generator {load_cpu / args.submissions * 1000:.2f} ms",
            flush=True,
        )
        if not args.shortcuts_each:
            await core_baseline(engine, url, n=args.submissions, concurrency=args.concurrency)
        return server_cpu / args.submissions * 1000, p99
    finally:
        await engine.dispose()
        await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def core_baseline(engine: Any, url: str, *, n: int, concurrency: int) -> None:
    """For scale: dialogs.debrief.submit_debrief alone (no HTTP, no Slack) on the same database."""
    from datetime import UTC, datetime, timedelta

    import sqlalchemy as sa

    from bot.app import coach_context
    from bot.config import Settings
    from dialogs.debrief import submit_debrief
    from dialogs.text import default_texts
    from dialogs.validation import Locality, validate_form
    from storage.engine import session_factory
    from storage.models import Person
    from tests.factories import full_form

    ctx = coach_context(Settings(database_url=url), session_factory(engine), default_texts())
    async with ctx.db() as session:
        ids = list((await session.scalars(sa.select(Person.id))).all())
    now = datetime.now(UTC)
    form = full_form(next_meeting_at=now + timedelta(days=9))
    debrief, errors = validate_form(form, texts=ctx.texts, loc=Locality("en", "Europe/Amsterdam", now))
    assert debrief is not None, errors
    latencies: list[float] = []
    todo: list[int] = []

    async def worker() -> None:
        while todo:
            i = todo.pop()
            started = time.perf_counter()
            await submit_debrief(
                ctx=ctx,
                person_id=int(ids[i % len(ids)] or 0),
                debrief=debrief,
                idempotency_key=f"core:{uuid.uuid4().hex}",
                tz="Europe/Amsterdam",
            )
            latencies.append(time.perf_counter() - started)

    todo[:] = range(4 * concurrency)  # warm-up: the pool's connections opened, statements prepared
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    latencies.clear()
    todo[:] = range(n)
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    took = time.perf_counter() - started
    print(
        f"  for scale, the core alone (submit_debrief, no HTTP/Slack, same database, {concurrency} at once): "
        f"p50 {p(latencies, 0.5):.1f} ms, p99 {p(latencies, 0.99):.1f} ms, {n / took:.0f}/s",
        flush=True,
    )


async def main(args: argparse.Namespace) -> None:
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        with server("fake") as fake_proc:
            fake = f"http://127.0.0.1:{fake_proc.port}"
            await wait_ready(http, f"{fake}/stats")
            if args.commands:
                await part_commands(args, http, fake)
            if args.shortcuts_each:
                await shortcuts_each(args, http, fake)
            elif args.submissions:
                await part_submissions(args, http, fake)


async def shortcuts_each(args: argparse.Namespace, http: aiohttp.ClientSession, fake: str) -> None:
    """Submissions with every shortcut on, each off, and on again; the CPU and p99 each one saves."""
    on = [await part_submissions(args, http, fake, [])]
    off = {name: await part_submissions(args, http, fake, [name]) for name in SHORTCUTS}
    on.append(await part_submissions(args, http, fake, []))
    cpu_on, p99_on = statistics.mean(c for c, _ in on), statistics.mean(q for _, q in on)
    for name, (cpu, p99) in off.items():
        print(f"{name} off: coach CPU {cpu:.2f} ms/submission, p99 {p99:.1f} ms, against {cpu_on:.2f} ms "
              f"and p99 {p99_on:.1f} ms all on (runs {', '.join(f'{c:.2f} / {q:.1f}' for c, q in on)}): "
              f"it saves {cpu - cpu_on:.2f} ms, {(cpu - cpu_on) / cpu:.0%} of the coach's CPU per "
              f"submission, and {p99 - p99_on:.1f} ms of p99", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--submissions", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--without", action="append", default=[], choices=sorted(SHORTCUTS),
                        metavar="SHORTCUT", help=f"turn a library shortcut off ({', '.join(SHORTCUTS)})")
    parser.add_argument("--shortcuts-each", action="store_true",
                        help="submissions with each shortcut off against all on (PostgreSQL)")
    parser.add_argument("--serve", choices=["fake", "coach", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve == "fake":
        serve_fake(args.port)
    elif args.serve == "coach":
        serve_coach(args.port, args.api, args.db, args.without)
    elif args.serve == "bare":
        serve_bare(args.port, args.api)
    else:
        asyncio.run(main(args))
