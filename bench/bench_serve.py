"""`coach serve` start-up: time until /healthz answers 200, and resident memory after start.

    .venv/bin/python bench/bench_serve.py [--quick] [--runs N]

Each run starts a fresh process in a new temp dir (fresh SQLite file, no app.yaml, no channel
credentials: the embedded default) and polls GET /healthz every 10 ms from the moment of spawn.
RSS is read with psutil once /healthz answered and again 1 s later. The baseline is a bare aiohttp
hello-world process with a /healthz route, started and measured the same way.
Targets: /healthz within 3 s of start, RSS after start under 150 MB.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 3.0
TARGET_MB = 150.0

HELLO = """
import sys
from aiohttp import web

async def healthz(request):
    return web.json_response({"status": "ok"})

app = web.Application()
app.router.add_get("/healthz", healthz)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


@dataclass
class Run:
    seconds: float
    rss_mb: float
    rss_settled_mb: float


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def measure(cmd: list[str], port: int, cwd: Path, env: dict[str, str]) -> Run:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd[0]} exited with {proc.returncode}: {proc.stderr.read().decode()}")
            if time.perf_counter() - start > 30:
                raise RuntimeError("no /healthz answer within 30 s")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(0.01)
        seconds = time.perf_counter() - start
        rss = psutil.Process(proc.pid).memory_info().rss / 2**20
        time.sleep(1.0)
        settled = psutil.Process(proc.pid).memory_info().rss / 2**20
        return Run(seconds, rss, settled)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def coach_command() -> list[str]:
    script = Path(sys.executable).with_name("coach")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def bench(runs: int) -> dict[str, list[Run]]:
    results: dict[str, list[Run]] = {"aiohttp hello": [], "coach serve": []}
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("COACH_", "SLACK_", "Microsoft"))}
    base_env["PYTHONPATH"] = str(ROOT)
    for _ in range(runs):  # alternate, so machine load hits both alike
        with tempfile.TemporaryDirectory() as tmp:
            port = free_port()
            results["aiohttp hello"].append(
                measure([sys.executable, "-c", HELLO, str(port)], port, Path(tmp), base_env)
            )
        with tempfile.TemporaryDirectory() as tmp:
            port = free_port()
            env = base_env | {"COACH_DATABASE_URL": f"sqlite+aiosqlite:///{Path(tmp) / 'coach.db'}"}
            results["coach serve"].append(
                measure([*coach_command(), "serve", "--port", str(port)], port, Path(tmp), env)
            )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one run of each")
    parser.add_argument("--runs", type=int, default=5, help="runs of each process (default 5)")
    args = parser.parse_args()
    results = bench(1 if args.quick else args.runs)
    print(f"{'process':<14} {'runs':>4} {'healthz s':>9} {'max s':>6} {'RSS MB':>7} {'RSS +1s':>8}")
    for name, runs in results.items():
        print(
            f"{name:<14} {len(runs):>4} {statistics.median(r.seconds for r in runs):>9.2f} "
            f"{max(r.seconds for r in runs):>6.2f} {statistics.median(r.rss_mb for r in runs):>7.1f} "
            f"{statistics.median(r.rss_settled_mb for r in runs):>8.1f}"
        )
    coach = results["coach serve"]
    slowest = max(r.seconds for r in coach)
    largest = max(r.rss_settled_mb for r in coach)
    print(
        f"coach serve: slowest /healthz {slowest:.2f} s ({'meets' if slowest < TARGET_SECONDS else 'MISSES'} "
        f"< {TARGET_SECONDS:.0f} s), largest RSS {largest:.1f} MB "
        f"({'meets' if largest < TARGET_MB else 'MISSES'} < {TARGET_MB:.0f} MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
