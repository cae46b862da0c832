"""Calendar imports and the event loop: loop lag and request latency while large feeds import.

    .venv/bin/python bench/bench_calendar.py [--quick] [--feeds 50] [--mb 5] [--worker process]

The coach app (`create_app`, a fresh SQLite file, Slack against the fake Web API of tests/fakes,
the web chat) serves on 127.0.0.1 in this process (the fake in a process of its own, bench_slack.py's
`--serve fake`: its log of every call would otherwise grow here, a million objects in a long run
that the collector walks, pausing the loop for a second); its calendar imports run here too, on its event
loop, as the feed poller runs them (`import_calendar`, each feed for its own rep, `--concurrency`
at a time). Generated
feeds: Exchange-style VTIMEZONE, years of past meetings with attendees, a few months ahead, one
weekly series in 50 events. While they import, a ticker measures the loop's scheduling delay every
10 ms and a client in its own process sends signed Slack `/debrief Acme` commands one after another
(each acked, then the modal opened on the fake; `--probe healthz` sends GET /healthz instead). Both
are measured first without any import (baseline), in the same run. `--worker thread` / `inline`
runs the parse with `asyncio.to_thread` / on the loop, to compare. Targets: `/debrief` p99 < 100 ms,
loop lag p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_REQUEST_MS = 100.0
TARGET_LAG_MS = 50.0
TZ = (
    "BEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\nBEGIN:STANDARD\r\nDTSTART:16010101T030000\r\n"
    "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10\r\n"
    "END:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\n"
    "TZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\n"
    "END:VTIMEZONE\r\n"
)
SECRET = "bench-signing-secret-0123456789abcdef"
TEAM = "T111"  # the fake Web API's auth.test team
CLIENT = """
import hashlib, hmac, http.client, sys, threading, time, urllib.parse
port, probe, secret, team = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
n = 0
while not stop.is_set():
    n += 1
    if probe == "healthz":
        method, path, body, headers = "GET", "/healthz", None, {}
    else:
        body = urllib.parse.urlencode({"token": "x", "team_id": team, "channel_id": "C1",
            "user_id": f"U{n % 20}", "user_name": "rep", "command": "/debrief", "text": "Acme",
            "response_url": "https://hooks.invalid/x", "trigger_id": f"{n}.trigger"})
        ts = str(int(time.time()))
        sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
        method, path = "POST", "/slack/events"
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}
    t = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse(); r.read()
    assert r.status == 200, r.status
    print(round((time.perf_counter() - t) * 1000, 3), flush=True)
    time.sleep(0.005)
"""


def domain(n: int) -> str:
    return f"customer{n % 300}.com" if n % 3 == 0 else "ourco.nl"  # a third with customers


def make_feed(size: int, now: Any, feed: int) -> bytes:
    """An Exchange-style export of about `size` bytes (5 MB: ~9,000 events, six years of them)."""
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:Microsoft Exchange Server 2010\r\nMETHOD:PUBLISH\r\n"
    parts = [head, TZ]
    total, n = len(parts[0]) + len(TZ), 0
    while total < size:
        start = now + timedelta(days=(n * 5) % 2300 - 2200, hours=n % 9)
        rrule = "RRULE:FREQ=WEEKLY;COUNT=20\r\n" if n % 50 == 0 else ""
        ev = (
            f"BEGIN:VEVENT\r\nUID:bench-{feed}-{n}@example.com\r\nSUMMARY:Call with customer {n % 300}\r\n"
            f"DTSTART;TZID=W. Europe Standard Time:{start:%Y%m%dT%H%M00}\r\n"
            f"DTEND;TZID=W. Europe Standard Time:{start + timedelta(hours=1):%Y%m%dT%H%M00}\r\n{rrule}"
            "ORGANIZER;CN=Sanne:mailto:sanne@ourco.nl\r\n"
            "ATTENDEE;CN=Sanne;ROLE=REQ-PARTICIPANT:mailto:sanne@ourco.nl\r\n"
            f"ATTENDEE;CN=Jan {n};ROLE=REQ-PARTICIPANT:mailto:jan{n % 7}@{domain(n)}\r\n"
            f"ATTENDEE;CN=Piet {n};ROLE=OPT-PARTICIPANT:mailto:piet{n % 5}@{domain(n)}\r\n"
            f"DESCRIPTION:Agenda: 1. pricing 2. pilot scope 3. next steps for the rollout in Q{n % 4 + 1}\r\n"
            "DTSTAMP:20261120T080000Z\r\nSEQUENCE:0\r\nEND:VEVENT\r\n"
        )
        parts.append(ev)
        total, n = total + len(ev), n + 1
    parts.append("END:VCALENDAR\r\n")
    return "".join(parts).encode()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def rss_mb() -> tuple[float, float]:
    """This process's RSS, and that of the parsing processes (its multiprocessing children, not the
    probe client or the fake Slack API), in MB."""
    me = psutil.Process()
    kids = 0
    for child in me.children(recursive=True):
        try:
            if "multiprocessing" in " ".join(child.cmdline()):
                kids += child.memory_info().rss
        except psutil.Error:  # it ended meanwhile
            continue
    return me.memory_info().rss / 1e6, kids / 1e6


async def measure(port: int, probe: str, seconds: float, work: Any = None) -> dict[str, Any]:
    """Loop lag (10 ms ticker) and the probe's latency (own process) for `seconds`, or while `work`
    runs (the client then runs until work is done)."""
    lags: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append((time.perf_counter() - before - 0.01) * 1000)

    client = await asyncio.create_subprocess_exec(  # until its stdin closes
        sys.executable, "-c", CLIENT, str(port), probe, SECRET, TEAM,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    tick = asyncio.create_task(ticker())
    started = time.perf_counter()
    peak = rss_mb()
    if work is not None:
        watcher = asyncio.create_task(work)
        while not watcher.done():
            await asyncio.sleep(0.5)
            now_rss = rss_mb()
            peak = (max(peak[0], now_rss[0]), max(peak[1], now_rss[1]))
        result = watcher.result()
    else:
        await asyncio.sleep(seconds)
        result = None
    elapsed = time.perf_counter() - started
    out, _ = await client.communicate(b"")
    done.set()
    await tick
    requests = [float(line) for line in out.decode().split()]
    return {"lags": lags, "requests": requests, "elapsed": elapsed, "rss": peak, "result": result}


async def listening(port: int) -> None:
    """Until something accepts connections on the port (a server process starting)."""
    for _ in range(300):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return
    raise RuntimeError(f"nothing listens on port {port}")


async def main(args: argparse.Namespace) -> None:
    from aiohttp import web

    from bot.app import create_app
    from bot.config import OrgConfig, ServerConfig, Settings
    from bot.keys import COACH
    from bot.scheduling.calendar import import_calendar
    from bot.scheduling.ical import shutdown_pool
    from tests.factories import make_person
    asyncio.get_running_loop().slow_callback_duration = 0.1

    tmp = Path(tempfile.mkdtemp(prefix="bench-calendar-"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        fake_port = sock.getsockname()[1]
    fake = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bench" / "bench_slack.py"), "--serve", "fake", "--port", str(fake_port),
        cwd=ROOT,
    )
    await listening(fake_port)
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp / 'coach.db'}",
        org=OrgConfig(internal_domains=["ourco.nl"], server=ServerConfig(webchat=True)),
        slack_signing_secret=SECRET,
        slack_bot_token="xoxb-test",  # the fake Web API knows it (auth.test: team T111)
        slack_api_url=f"http://127.0.0.1:{fake_port}/api/",
    )
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    await web.TCPSite(runner, "127.0.0.1", port).start()
    ctx = app[COACH]  # internal_domains from the OrgConfig above
    reps = [await make_person(ctx.db, user_id=f"U{n}", email=f"rep{n}@ourco.nl") for n in range(args.feeds)]
    now = ctx.clock()
    size = int(args.mb * 1024 * 1024)
    print(f"{args.feeds} feeds of {args.mb} MB, worker {args.worker}, concurrency {args.concurrency}")

    base = await measure(port, args.probe, args.baseline)
    sem = asyncio.Semaphore(args.concurrency)
    counts = {"meetings": 0, "beyond": 0, "series": 0}

    async def one(n: int) -> None:
        async with sem:
            data = await asyncio.to_thread(make_feed, size, now, n)
            result = await import_calendar(ctx=ctx, person_id=reps[n].id, data=data, worker=args.worker)
            counts["meetings"] += result.meetings
            counts["beyond"] += result.beyond
            counts["series"] += result.series

    async def imports() -> None:
        await asyncio.gather(*(one(n) for n in range(args.feeds)))

    load = await measure(port, args.probe, 0.0, imports())
    await asyncio.to_thread(shutdown_pool)
    await runner.cleanup()
    fake.terminate()
    await fake.wait()

    seconds = load["elapsed"]
    print(
        f"imported {args.feeds} feeds ({args.feeds * args.mb:.0f} MB) in {seconds:.1f} s: "
        f"{args.feeds / seconds:.2f} feeds/s, {args.feeds * args.mb / seconds:.1f} MB/s; "
        f"{counts['meetings']} meetings ({counts['beyond']} beyond 90 days), {counts['series']} series kept"
    )
    print(f"{'':<12}{'requests':>9}{'req p50':>9}{'req p99':>9}{'lag p50':>9}{'lag p99':>9}{'lag max':>9}"
          f"{'RSS MB':>8}{'pool MB':>8}")
    for name, run in (("baseline", base), ("importing", load)):
        req, lag = run["requests"], run["lags"]
        print(
            f"{name:<12}{len(req):>9}{pct(req, .5):>9.1f}{pct(req, .99):>9.1f}{pct(lag, .5):>9.1f}"
            f"{pct(lag, .99):>9.1f}{max(lag, default=0):>9.1f}{run['rss'][0]:>8.0f}{run['rss'][1]:>8.0f}"
        )
    req99, lag99 = pct(load["requests"], 0.99), pct(load["lags"], 0.99)
    met = {True: "met", False: "MISSED"}
    print(
        f"targets: {args.probe} p99 < {TARGET_REQUEST_MS:.0f} ms: {met[req99 < TARGET_REQUEST_MS]}; "
        f"loop lag p99 < {TARGET_LAG_MS:.0f} ms: {met[lag99 < TARGET_LAG_MS]}"
        f" (mean lag {statistics.fmean(load['lags'] or [0]):.1f} ms)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--mb", type=float, default=5.0, help="size of each feed (MB)")
    parser.add_argument("--worker", choices=("process", "thread", "inline"), default="process")
    parser.add_argument("--concurrency", type=int, default=2, help="imports at a time (default 2)")
    parser.add_argument("--baseline", type=float, default=3.0, help="seconds measured without import")
    parser.add_argument("--probe", choices=("debrief", "healthz"), default="debrief",
                        help="the request timed while feeds import (default: a signed Slack /debrief)")
    parser.add_argument("--debug", action="store_true", help="asyncio debug: log callbacks over 100 ms")
    parser.add_argument("--quick", action="store_true", help="8 feeds of 5 MB")
    ns = parser.parse_args()
    if ns.quick:
        ns.feeds = 8
    asyncio.run(main(ns), debug=ns.debug)
