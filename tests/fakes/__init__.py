"""Local stand-ins for the services tapbot talks to off this machine (Slack, Microsoft)."""
from __future__ import annotations

from aiohttp import web


class LocalServer:
    """An aiohttp app on a free loopback port (never a fixed one), started and stopped by the test."""

    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def serve(self, app: web.Application) -> None:
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
