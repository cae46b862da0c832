"""Slack on the shared aiohttp app: Bolt's AsyncApp at POST /slack/events, OAuth install, Socket Mode.

The Bolt app is built at start-up (in cleanup_ctx, after the database) and dispatched through
slack_bolt's aiohttp adapter; AsyncApp.start() is never called. Modes:

- HTTP, one workspace: SLACK_SIGNING_SECRET + SLACK_BOT_TOKEN.
- HTTP, many workspaces: SLACK_SIGNING_SECRET + SLACK_CLIENT_ID/SLACK_CLIENT_SECRET (OAuth at
  /slack/install and /slack/oauth_redirect; installations in our database).
- Socket Mode (behind a firewall): SLACK_APP_TOKEN plus a bot token or OAuth credentials.

Either way only our own workspaces are served (bot/slack/own_team.py): the bot token's team
(auth.test at start), or the teams installed through OAuth; any other team gets 401.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import AsyncIterator, Callable

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from bot import log_messages as msg
from bot.config import Settings
from bot.delivery import register_sender
from bot.keys import COACH, ENGINE, METRICS, SETTINGS
from bot.metrics import Metrics
from bot.request_guard import MalformedBody, refused
from bot.scheduling.scheduler import wake_scheduler
from bot.slack import modal, views
from bot.slack.background import AFTER_ACK_WORK
from bot.slack.bolt_internals import bolt_request
from bot.slack.client import SLACK, SlackRuntime, web_client
from bot.slack.events import WorkspaceEvents
from bot.slack.listeners import SlackDebriefFlow, link_opened, skip_retried_events
from bot.slack.modal_redraw import ModalRedraws
from bot.slack.own_team import OwnWorkspace, own_teams_only
from bot.slack.sender import SlackSender
from bot.slack.verification import SignatureCheck, refusal
from dialogs.context import CoachContext
from storage import slack_store

log = logging.getLogger("coach.slack")

# What the manifest asks for; OAuth installs request the same bot scopes.
BOT_SCOPES = ("commands", "chat:write", "im:history", "im:read", "im:write", "users:read", "files:write")
EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


def build_bolt(
    settings: Settings,
    client: AsyncWebClient,
    *,
    installations: AsyncInstallationStore | None = None,
    states: slack_store.AsyncSQLAlchemyOAuthStateStore | None = None,
    own: OwnWorkspace | None = None,
) -> AsyncApp:
    oauth_settings = None
    if installations is not None:
        assert settings.slack_client_id and settings.slack_client_secret
        oauth_settings = AsyncOAuthSettings(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret.get_secret_value(),
            scopes=list(BOT_SCOPES),
            user_scopes=[],
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
            installation_store=installations,
            state_store=states,
            logger=log,
        )
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    return AsyncApp(
        signing_secret=secret,
        # Our own signature check in Bolt's place (Bolt's logs the whole body of a refused request),
        # then only our workspace(s), else 401; both before Bolt's authorization.
        request_verification_enabled=False,
        before_authorize=SignatureCheck(secret, log, then=own_teams_only(own, installations)),
        client=client,
        installation_store=installations,
        oauth_settings=oauth_settings,
        # Listeners answer Slack themselves and hand slower work to bot.slack.background.
        process_before_response=True,
        raise_error_for_unhandled_request=False,
        logger=log,
    )


def setup(app: web.Application) -> None:
    """Mount Slack's routes and start the channel with the app (call from create_app)."""
    settings = app[SETTINGS]
    app.router.add_post(EVENTS_PATH, events)
    if settings.slack_client_id and settings.slack_client_secret:
        app.router.add_get(INSTALL_PATH, install)
        app.router.add_get(REDIRECT_PATH, oauth_redirect)
    app.cleanup_ctx.append(_runtime)
    register_sender(app, SlackSender(app))


async def _runtime(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    async with aiohttp.ClientSession() as session:
        installations = states = None
        if settings.slack_client_id and settings.slack_client_secret:
            installations = slack_store.installation_store(
                client_id=settings.slack_client_id, engine=app[ENGINE]
            )
            states = slack_store.state_store(engine=app[ENGINE])
        token = settings.slack_bot_token
        single = token.get_secret_value() if token and not installations else None
        client = web_client(settings, session, single)
        own = OwnWorkspace(client) if single else None
        if own is not None:
            await own.learn()  # auth.test: which workspace the token is for (one line if it fails)
        bolt = build_bolt(settings, client, installations=installations, states=states, own=own)
        runtime = SlackRuntime(bolt=bolt, client=client, settings=settings, installations=installations,
                               own=own)
        listeners = register_listeners(bolt, app[COACH], runtime, metrics=app[METRICS],
                                       wake=functools.partial(wake_scheduler, app))
        app[SLACK] = runtime
        app[AFTER_ACK_WORK] = listeners.work
        socket = None
        if settings.slack_app_token:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            app_token = settings.slack_app_token.get_secret_value()
            socket = AsyncSocketModeHandler(bolt, app_token, web_client=client)
            await socket.connect_async()
            log.info(msg.SLACK_SOCKET_MODE)
        try:
            yield
        finally:
            if socket is not None:
                await socket.close_async()
            await listeners.work.drain()


def _unauthorized() -> web.Response:
    return web.json_response({"error": "invalid request"}, status=401)


async def events(request: web.Request) -> web.Response:
    """Commands, interactivity and events, signature-verified here and again by Bolt (401 when
    not); a signed body that does not decode gets 400."""
    runtime = request.app.get(SLACK)
    if runtime is None or not runtime.settings.slack_signing_secret:
        return _unauthorized()  # Socket Mode only: nothing may arrive over HTTP unverified
    secret = runtime.settings.slack_signing_secret.get_secret_value()
    # Verified before anything parses the body: an unsigned body, readable or not, gets 401.
    fault = refusal(secret, await request.read(), request.headers.get("X-Slack-Request-Timestamp"),
                    request.headers.get("X-Slack-Signature"))
    if fault is not None:
        log.warning(msg.SLACK_BAD_SIGNATURE.format(fault=fault))
        return _unauthorized()
    try:
        bolt = await bolt_request(request)
    except MalformedBody as exc:
        refused(request, exc)
        return web.json_response({"error": "malformed request"}, status=exc.status)
    bolt_response = await runtime.bolt.async_dispatch(bolt)
    return await to_aiohttp_response(bolt_response)


async def install(request: web.Request) -> web.Response:
    flow = request.app[SLACK].bolt.oauth_flow
    assert flow is not None
    return await to_aiohttp_response(await flow.handle_installation(await to_bolt_request(request)))


async def oauth_redirect(request: web.Request) -> web.Response:
    flow = request.app[SLACK].bolt.oauth_flow
    assert flow is not None
    return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))


def register_listeners(
    bolt: AsyncApp,
    ctx: CoachContext,
    runtime: SlackRuntime,
    metrics: Metrics | None = None,
    wake: Callable[..., None] | None = None,
) -> SlackDebriefFlow:
    listeners = SlackDebriefFlow(ctx, runtime, metrics, wake)
    bolt.middleware(skip_retried_events)
    bolt.command(re.compile(r"^/debrief"))(listeners.command)
    bolt.options(modal.ACCOUNT)(listeners.account_options)
    bolt.view_submission(modal.CALLBACK_DEBRIEF)(listeners.submission)
    bolt.action(views.ACTION_OPEN)(listeners.work.acked(listeners.open_button))
    bolt.action(views.ACTION_EDIT)(listeners.work.acked(listeners.edit_button))
    bolt.action(re.compile(rf"^{views.ACTION_REPLY}:\d+$"))(listeners.work.acked(listeners.reply_button))
    ModalRedraws(listeners).register(bolt)
    bolt.action(re.compile(rf"^{views.ACTION_LINK}:\d+$"))(link_opened)
    WorkspaceEvents(listeners).register(bolt)
    return listeners
