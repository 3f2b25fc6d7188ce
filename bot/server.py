"""`tapbot serve`: one aiohttp server for Slack (/slack/events), Teams (/api/messages) and /healthz.

Each channel is on only when it is configured; the start-up log says which are.
"""
from __future__ import annotations

import gc
import logging

from aiohttp import web

from bot.config import Settings
from handlers.context import Context

log = logging.getLogger(__name__)


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def build_web_app(settings: Settings, ctx: Context) -> web.Application:
    app = web.Application()
    app.router.add_get("/healthz", healthz)
    from bot.slack import mount_slack
    from bot.teams import mount_teams

    for name, mount in (("Slack", mount_slack), ("Teams", mount_teams)):
        reason = mount(app, settings, ctx)
        if reason:
            log.info("%s is off: %s", name, reason)
        else:
            log.info("%s is on", name)
    # What is built by now (plan, matcher index, SDKs) lives as long as the process; frozen,
    # it is left out of the collector's full passes, which otherwise stall busy servers.
    gc.freeze()
    return app


def serve(settings: Settings, ctx: Context, with_scheduler: bool = False) -> None:
    app = build_web_app(settings, ctx)
    if with_scheduler:
        from bot.scheduler import attach_scheduler

        attach_scheduler(app, settings, ctx)
    log.info("listening on http://%s:%s", settings.host, settings.port)
    web.run_app(app, host=settings.host, port=settings.port, print=None)
