"""`coach crm status`, `coach crm connect` and `coach crm poll`, listed in bot.cli.SUB_COMMANDS.
Every command has --help; machine-readable output is --json."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

import aiohttp

from bot.cli.scheduling import _run
from bot.config import Settings
from bot.crm.api import CrmUnauthorized
from bot.crm.connectors import Connectors
from bot.crm.install import install_grant
from bot.crm.outcomes import read_outcomes
from bot.crm.runtime import crm_on, crm_status_line
from bot.crm.sync import mark_broken_and_tell
from bot.crm.tokens import TokenBox
from bot.delivery import DeliveryError
from dialogs.context import CoachContext
from storage import crm, crm_outcomes
from storage.crm_models import CrmStatus
from storage.errors import CoachError
from storage.models import not_null


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def cmd_crm_status(args: argparse.Namespace, settings: Settings) -> int:
    async def work(ctx: CoachContext) -> list[crm.WorkspaceStatus]:
        async with ctx.db() as session:
            return await crm.status_by_workspace(session=session)

    rows = _run(settings, work)
    workspaces: list[dict[str, Any]] = [
            {"workspace": r.workspace, "crm": r.crm, "connected": r.status == CrmStatus.CONNECTED,
             "status": r.status, "reason": r.reason, "last_sync_at": _iso(r.last_sync_at),
             "pending": r.pending, "failed": r.failed}
            for r in rows
    ]
    out = {"enabled": crm_on(settings), "reason": crm_status_line(settings), "workspaces": workspaces}
    if args.json:
        print(json.dumps(out))
        return 0
    print(out["reason"])
    for w in workspaces:
        state = "not connected" if w["crm"] is None else f"{w['crm']} {w['status']}"
        why = f" ({w['reason']})" if w["reason"] else ""
        print(f"{w['workspace']}: {state}{why}; last sync {w['last_sync_at'] or 'never'}; "
              f"{w['pending']} pending, {w['failed']} failed")
    return 0


def _box(settings: Settings) -> TokenBox:
    if settings.secret_key is None:
        raise CoachError("COACH_SECRET_KEY is not set: the CRM stays off without it")
    return TokenBox(settings.secret_key.get_secret_value())


def cmd_crm_connect(args: argparse.Namespace, settings: Settings) -> int:
    box = _box(settings)

    async def work(ctx: CoachContext) -> int:
        async with ctx.db() as session:
            workspace_id, reason = await crm.server_workspace(session=session, named=args.workspace)
        if workspace_id is None:
            raise CoachError(f"cannot connect a CRM: {reason}")
        return workspace_id

    workspace_id = _run(settings, work)
    base = (args.base_url or settings.org.crm.public_url or "").rstrip("/")
    if not base:
        raise CoachError("say where coach serve is reached: --base-url https://… or crm.public_url")
    grant = install_grant(box, crm_id=args.crm, workspace_id=workspace_id)
    url = f"{base}/crm/{args.crm}/install?grant={grant}"
    print(json.dumps({"workspace_id": workspace_id, "crm": args.crm, "url": url, "valid_minutes": 60})
          if args.json else f"Open within an hour, as the {args.crm} admin: {url}")
    return 0


def cmd_crm_poll(args: argparse.Namespace, settings: Settings) -> int:
    """Read every connection now, whatever the replicas' claim of this interval says (the operator
    asked); a read that worked counts as the interval's poll, so the replicas' next is one later."""
    box = _box(settings)

    async def work(ctx: CoachContext) -> list[dict[str, Any]]:
        async with ctx.db() as session:
            connections = await crm.all_connections(session=session)
        out = []
        async with aiohttp.ClientSession() as http:
            connectors = Connectors(settings=settings, box=box, http=http, db=ctx.db, clock=ctx.clock)
            for conn in connections:
                started = ctx.clock()
                try:
                    stored, error = await read_outcomes(ctx, connectors, conn), None
                except DeliveryError as exc:
                    stored, error = [], exc.message
                    if isinstance(exc, CrmUnauthorized):  # as the background poll: broken, admins told
                        await mark_broken_and_tell(ctx, conn, exc.message)
                else:
                    async with ctx.db() as session, session.begin():
                        await crm_outcomes.mark_polled(
                            session=session, connection_id=not_null(conn.id), now=started
                        )
                won = sum(o.outcome == "won" for o in stored)
                out.append({"workspace_id": conn.workspace_id, "crm": conn.crm, "closed_deals": len(stored),
                            "won": won, "lost": len(stored) - won, "error": error})
        return out

    rows = _run(settings, work)
    if args.json:
        print(json.dumps(rows))
    else:
        for r in rows:
            print(f"workspace {r['workspace_id']} ({r['crm']}): "
                  + (f"could not read the deals: {r['error']}" if r["error"] else
                     f"{r['closed_deals']} closed deals ({r['won']} won, {r['lost']} lost)"))
    return 0 if all(r["error"] is None for r in rows) else 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    top = sub.add_parser("crm", help="the CRM sync (HubSpot, Salesforce): status, connect, read deal stages")
    crm_sub = top.add_subparsers(dest="crm_command", required=True, metavar="COMMAND")
    status = crm_sub.add_parser("status", help="per workspace: CRM, connected or not, last sync, "
                                               "pending and failed writes")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(handler=cmd_crm_status)
    connect = crm_sub.add_parser("connect", help="print an install link (valid an hour) that connects a "
                                                 "workspace's CRM by OAuth")
    connect.add_argument("crm", choices=("hubspot", "salesforce"))
    connect.add_argument("--workspace",
                         help="slack:T0123, teams:<tenant id> or web:local (default: the only one)")
    connect.add_argument("--base-url", help="the public address of coach serve (default: crm.public_url)")
    connect.add_argument("--json", action="store_true", help="machine-readable output")
    connect.set_defaults(handler=cmd_crm_connect)
    poll = crm_sub.add_parser("poll", help="read won and lost deals from every connected CRM now")
    poll.add_argument("--json", action="store_true", help="machine-readable output")
    poll.set_defaults(handler=cmd_crm_poll)
