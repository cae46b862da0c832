"""Serving an aiohttp app for a test: on a free port, over real HTTP."""

from __future__ import annotations

from aiohttp import web


async def serve(app: web.Application, host: str = "127.0.0.1") -> tuple[web.AppRunner, str]:
    """Start `app` on a free port of `host`; its runner (`cleanup()` stops it) and base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    return runner, f"http://{host}:{runner.addresses[0][1]}"
