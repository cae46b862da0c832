"""Teams turns per second: the coach's `debrief` turns against a bare echo bot on the stock CloudAdapter.

Both bots run in their own process (one at a time), in Emulator mode (no app id, turned on), and send their
replies to the same fake Bot Framework connector (a third process). This process is only the load:
N concurrent conversations, each POSTing one Teams-shaped activity after the other; a turn's latency
is the POST's (CloudAdapter answers after the replies went out).

    .venv/bin/python bench/bench_teams.py [--turns 3000] [--concurrency 20] [--without SHORTCUT ...]
    .venv/bin/python bench/bench_teams.py --shortcuts-each --turns 1000

`--without` turns a library shortcut off in the coach (its module-level switch; the library's public
path runs instead). `--shortcuts-each` runs the coach with all of them on, with each one off on its
own, and with all off, in one run, and prints each one's share of the speed-up (all on against all
off, in bot CPU per turn and in turns/s).

Conversations rotate (each of the N workers cycles through its own set) so that no conversation
goes over Teams' 7 messages per second, which the coach honours and the echo bot does not.
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

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CONVERSATIONS_PER_WORKER = 25
# The coach's library shortcuts: name -> (module, its switch). Off means the library's public path.
SHORTCUTS = {
    "msrest-json": ("bot.teams.msrest_internals", "FAST_SERIALIZE"),
    "person-read": ("storage.sqlite_reader", "SIDE_CONNECTION"),
    "token-client": ("bot.teams.auth", "REUSE_USER_TOKEN_CLIENT"),
    "signing-keys": ("bot.teams.botbuilder_internals", "SIGNING_KEYS_IN_A_THREAD"),
}


def switch_off(names: list[str]) -> None:
    import importlib

    for name in names:
        module, flag = SHORTCUTS[name]
        setattr(importlib.import_module(module), flag, False)


# -- the three servers (each runs in its own process: `--serve ROLE --port P`) -----------------
def serve_connector(port: int) -> None:
    from aiohttp import web

    from tests.fakes.connector import FakeConnector

    fake = FakeConnector()
    # Count the calls instead of keeping them: thousands of recorded card bodies make this process's
    # garbage collections take 50-150 ms by the end of a run, and every bot waiting on a reply then
    # shows it in its p99 (a real connector does not pause for the bot's benchmark).
    counts = {"POST": 0, "PUT": 0, "DELETE": 0}
    handle = fake.handle

    async def counting(request: web.Request) -> web.Response:
        response = await handle(request)
        for call in fake.calls:
            counts[call.method] += 1
        fake.calls.clear()
        return response

    fake.handle = counting  # type: ignore[method-assign]
    app = fake.app()

    async def stats(_: web.Request) -> web.Response:
        return web.json_response({"calls": sum(counts.values()), "posts": counts["POST"],
                                  "puts": counts["PUT"]})

    async def reset(_: web.Request) -> web.Response:
        counts.update(dict.fromkeys(counts, 0))
        return web.json_response({})

    app.router.add_get("/stats", stats)
    app.router.add_post("/reset", reset)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def serve_echo(port: int) -> None:
    """The bare echo bot of botbuilder's samples: stock CloudAdapter, stock authentication."""
    from types import SimpleNamespace

    from aiohttp import web
    from botbuilder.core import ActivityHandler, TurnContext
    from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication

    class EchoBot(ActivityHandler):
        async def on_message_activity(self, turn_context: TurnContext) -> None:
            await turn_context.send_activity(f"Echo: {turn_context.activity.text}")

    config = SimpleNamespace(APP_ID="", APP_PASSWORD="")
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(config))
    bot = EchoBot()

    async def messages(request: web.Request) -> web.StreamResponse:
        return await adapter.process(request, bot) or web.Response(status=201)

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def serve_coach(port: int, database: str, without: list[str]) -> None:
    import logging

    from aiohttp import web

    from bot.app import create_app
    from bot.config import OrgConfig, ServerConfig, Settings

    logging.basicConfig(level=logging.WARNING)
    switch_off(without)
    settings = Settings(database_url=database, config_path=os.devnull,
                        org=OrgConfig(server=ServerConfig(teams_emulator=True)))
    if not settings.is_sqlite:
        import asyncio

        from storage import migrate
        from storage.engine import create_engine

        async def upgrade() -> None:
            engine = create_engine(database)
            await migrate.upgrade(engine)
            await engine.dispose()

        asyncio.run(upgrade())
    web.run_app(create_app(settings), host="127.0.0.1", port=port, print=None, access_log=None)


# -- load -----------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server(*args: str) -> Iterator[tuple[int, int]]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", *args, "--port", str(port)], cwd=ROOT)
    try:
        yield port, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=15)


async def wait_ready(http: aiohttp.ClientSession, url: str) -> None:
    for _ in range(300):
        try:
            async with http.get(url) as resp:
                if resp.status < 500:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def activity(service_url: str, conversation: str, user: str, text: str | None = None,
             value: dict[str, Any] | None = None, reply_to: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "message", "id": uuid.uuid4().hex[:12], "channelId": "msteams", "serviceUrl": service_url,
        "from": {"id": f"29:{user}", "name": "Bench Rep", "aadObjectId": user},
        "recipient": {"id": "28:bench-bot", "name": "Closing Coach"},
        "conversation": {"conversationType": "personal", "tenantId": "bench-tenant", "id": conversation},
        "channelData": {"tenant": {"id": "bench-tenant"}}, "locale": "en-US",
        "entities": [{"type": "clientInfo", "locale": "en-US", "timezone": "Europe/Amsterdam"}],
    }
    if text is not None:
        body["text"] = text
    if value is not None:
        body["value"] = value
    if reply_to is not None:
        body["replyToId"] = reply_to
    return body


SUBMIT = {
    "coach": "debrief", "account": "Acme", "rating:opening": "no", "agenda_set_by": "customer_formal",
    "rating:interaction": "yes", "rating:situation": "partly", "supplier_check": "not_asked",
    "rating:concessions": "yes", "rating:next_step": "yes", "next_step_what": "Pilot proposal",
    "outcome": "next_step",
}


# Connector calls per turn: the debrief card; or the summary card update on the turn and the tips
# as one card, sent by the outbox scheduler after it.
EXPECTED_CALLS = {"debrief": 1, "submit": 2}


async def run_load(http: aiohttp.ClientSession, bot_url: str, connector_url: str, *, turns: int,
                   concurrency: int, kind: str, tag: str) -> dict[str, float]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def worker(w: int) -> None:
        # Worker w talks in its own chats, one after the other: w-0, w-1, ... w-24, w-0, ...
        for j in range(w, turns, concurrency):
            user = f"{tag}-u{w}-{j // concurrency % CONVERSATIONS_PER_WORKER}"
            body = (activity(connector_url, f"a:{user}", user, text="debrief Acme") if kind == "debrief"
                    else activity(connector_url, f"a:{user}", user,
                                  value={**SUBMIT, "key": f"{tag}-{kind}-{j}"}, reply_to=f"card-{j}"))
            started = time.perf_counter()
            async with http.post(bot_url, json=body) as resp:
                await resp.read()
                statuses[resp.status] = statuses.get(resp.status, 0) + 1
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    ok = sum(v for k, v in statuses.items() if k < 300)
    return {
        "turns": len(latencies), "ok": ok, "seconds": round(elapsed, 2),
        "turns_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 1),
    }


async def measure(name: str, server: tuple[int, int], connector: str, http: aiohttp.ClientSession, *,
                  turns: int, concurrency: int, kind: str) -> dict[str, Any]:
    import psutil

    port, pid = server
    base = f"http://127.0.0.1:{port}"
    await wait_ready(http, f"{base}/healthz")
    # Warm up with the same reps and chats as the run (they have talked to the bot before).
    await run_load(http, f"{base}/api/messages", connector, turns=concurrency * CONVERSATIONS_PER_WORKER,
                   concurrency=concurrency, kind="debrief", tag=name)
    async with http.post(f"{connector}reset"):
        pass
    cpu = psutil.Process(pid).cpu_times()
    result = await run_load(http, f"{base}/api/messages", connector, turns=turns,
                            concurrency=concurrency, kind=kind, tag=name)
    if kind == "submit":  # only the coach takes card submits
        # The tips follow each summary card through the outbox: wait for every one (CPU included).
        waited = time.perf_counter()
        while time.perf_counter() - waited < 60:
            async with http.get(f"{connector}stats") as resp:
                if (await resp.json())["calls"] >= turns * EXPECTED_CALLS["submit"]:
                    break
            await asyncio.sleep(0.05)
        result["tips_after_s"] = round(time.perf_counter() - waited, 2)
    used = psutil.Process(pid).cpu_times()
    result["cpu_ms_per_turn"] = round((used.user + used.system - cpu.user - cpu.system) * 1000 / turns, 2)
    async with http.get(f"{connector}stats") as resp:
        result["connector_calls"] = (await resp.json())["calls"]
    return {"bot": name, "turn": kind, **result}


def coach_server(database: str, without: list[str]) -> contextlib.AbstractContextManager[tuple[int, int]]:
    return server("coach", "--db", database, *(f"--without={name}" for name in without))


async def shortcuts_each(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The coach with every shortcut on, each off on its own, all off, and all on again (drift)."""
    configs = [("all on", []), *((f"without {n}", [n]) for n in SHORTCUTS), ("all off", list(SHORTCUTS)),
               ("all on", [])]
    results = []
    limits = aiohttp.TCPConnector(limit=args.concurrency * 2)
    async with aiohttp.ClientSession(connector=limits) as http:
        with server("connector") as (cport, _):
            connector = f"http://127.0.0.1:{cport}/"
            await wait_ready(http, f"{connector}stats")
            for name, without in configs:
                with tempfile.TemporaryDirectory() as tmp, coach_server(
                        args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db", without) as port:
                    for kind, turns in (("debrief", args.turns), ("submit", args.turns // 2)):
                        results.append(await measure(name, port, connector, http, turns=turns,
                                                     concurrency=args.concurrency, kind=kind))
    return results


def keys_stall(rtt: float) -> dict[str, float]:
    """signing-keys: the longest event-loop stall while the signing keys are refreshed, with the
    keys endpoint answering after `rtt` seconds, by botbuilder's own refresh and by the threaded one."""
    import requests
    from botframework.connector.auth import jwt_token_extractor

    from bot.teams import botbuilder_internals

    metadata = jwt_token_extractor._OpenIdMetadata
    stock = metadata._refresh

    class Answer:
        def __init__(self, body: dict[str, Any]) -> None:
            self.body = body

        def raise_for_status(self) -> None:
            pass

        def json(self) -> dict[str, Any]:
            return self.body

    def slow_get(url: str, **_: Any) -> Answer:
        time.sleep(rtt)
        return Answer({"keys": []} if url == "keys" else {"jwks_uri": "keys"})

    async def stall() -> float:
        worst, done = 0.0, False

        async def ticker() -> None:
            nonlocal worst
            while not done:
                before = time.perf_counter()
                await asyncio.sleep(0.001)
                worst = max(worst, time.perf_counter() - before - 0.001)

        tick = asyncio.create_task(ticker())
        await asyncio.sleep(0.01)
        await metadata("openid").get("k1")
        done = True
        await tick
        return worst

    stalls = {}
    real_get, requests.get = requests.get, slow_get  # type: ignore[assignment]
    try:
        for name, threaded in (("botbuilder", False), ("threaded", True)):
            metadata._refresh = stock
            if threaded:
                botbuilder_internals.fetch_signing_keys_in_a_thread()
            stalls[name] = asyncio.run(stall()) * 1000
    finally:
        requests.get, metadata._refresh = real_get, stock  # type: ignore[assignment]
    return stalls


def print_shares(results: list[dict[str, Any]]) -> None:
    """Each shortcut's share of the speed-up: (all on - without it) / (all on - all off)."""
    for kind in ("debrief", "submit"):
        rows = [r for r in results if r["turn"] == kind]
        on = [r for r in rows if r["bot"] == "all on"]
        cpu_on = statistics.mean(r["cpu_ms_per_turn"] for r in on)
        tps_on = statistics.mean(r["turns_per_s"] for r in on)
        off = next(r for r in rows if r["bot"] == "all off")
        cpu_gain, tps_gain = off["cpu_ms_per_turn"] - cpu_on, tps_on - off["turns_per_s"]
        print(f"{kind}: all on {cpu_on:.2f} ms CPU/turn, {tps_on:.1f} turns/s (mean of {len(on)}); "
              f"all off {off['cpu_ms_per_turn']} ms, {off['turns_per_s']} turns/s; "
              f"speed-up {cpu_gain:.2f} ms/turn, {tps_gain:.1f} turns/s")
        for name in SHORTCUTS:
            r = next(r for r in rows if r["bot"] == f"without {name}")
            cpu_share = (r["cpu_ms_per_turn"] - cpu_on) / cpu_gain if cpu_gain > 0 else float("nan")
            tps_share = (tps_on - r["turns_per_s"]) / tps_gain if tps_gain > 0 else float("nan")
            print(f"  {name:<13} off: {r['cpu_ms_per_turn']:>6} ms CPU/turn {r['turns_per_s']:>7} turns/s"
                  f"  share of the speed-up: {cpu_share:>6.0%} of CPU, {tps_share:>6.0%} of turns/s")


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    results = []
    limits = aiohttp.TCPConnector(limit=args.concurrency * 2)
    async with aiohttp.ClientSession(connector=limits) as http:
        with server("connector") as (cport, _):
            connector = f"http://127.0.0.1:{cport}/"
            await wait_ready(http, f"{connector}stats")
            with server("echo") as port:
                results.append(await measure("stock echo bot", port, connector, http, turns=args.turns,
                                             concurrency=args.concurrency, kind="debrief"))
            with tempfile.TemporaryDirectory() as tmp, coach_server(
                    args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db", args.without) as port:
                results.append(await measure("coach", port, connector, http, turns=args.turns,
                                             concurrency=args.concurrency, kind="debrief"))
                results.append(await measure("coach", port, connector, http, turns=args.turns // 2,
                                             concurrency=args.concurrency, kind="submit"))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--database-url", help="the coach's database (default: a fresh SQLite file)")
    parser.add_argument("--without", action="append", default=[], choices=sorted(SHORTCUTS),
                        metavar="SHORTCUT", help=f"turn a library shortcut off ({', '.join(SHORTCUTS)})")
    parser.add_argument("--shortcuts-each", action="store_true",
                        help="each shortcut off on its own against all on and all off; print shares")
    parser.add_argument("--serve", choices=["connector", "echo", "coach"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve == "connector":
        serve_connector(args.port)
        return 0
    if args.serve == "echo":
        serve_echo(args.port)
        return 0
    if args.serve == "coach":
        serve_coach(args.port, args.db, args.without)
        return 0
    results = asyncio.run(shortcuts_each(args) if args.shortcuts_each else main_async(args))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            print(f"{r['bot']:>22} {r['turn']:<8} {r['turns']:>5} turns  {r['turns_per_s']:>7} turns/s  "
                  f"p50 {r['p50_ms']:>6} ms  p99 {r['p99_ms']:>6} ms  "
                  f"bot CPU {r['cpu_ms_per_turn']} ms/turn  ok {r['ok']}  "
                  f"connector calls {r['connector_calls']}")
    for r in results:
        if "tips_after_s" in r:
            print(f"{r['bot']} {r['turn']}: every tips card delivered through the outbox "
                  f"{r['tips_after_s']} s after the last turn")
        if r["ok"] != r["turns"] or r["connector_calls"] != r["turns"] * EXPECTED_CALLS[r["turn"]]:
            print(f"{r['bot']} {r['turn']}: not every turn was answered as it should be", file=sys.stderr)
            return 2
    if args.shortcuts_each:
        print_shares(results)
        stalls = keys_stall(0.1)
        print(f"signing-keys (not a turns/s figure): a key refresh at 100 ms per HTTP call stalls the "
              f"event loop {stalls['botbuilder']:.0f} ms with botbuilder's refresh, "
              f"{stalls['threaded']:.1f} ms with the threaded one")
        return 0
    echo, coach = results[0], results[1]
    ratio = coach["turns_per_s"] / echo["turns_per_s"]
    print(f"coach debrief turns vs stock echo bot: {ratio:.2f}x throughput (target >= 2x), "
          f"p99 {coach['p99_ms']} ms (target < 150 ms)")
    return 0 if ratio >= 2 and coach["p99_ms"] < 150 else 1


if __name__ == "__main__":
    sys.exit(main())
