"""Won and lost come back: each connection's deals modified since its watermark (HubSpot
hs_lastmodifieddate, Salesforce SystemModstamp) are read; a deal closed won or lost on a company the
coach knows becomes that account's deal outcome (crm_deal_outcome), a reopened one loses it."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot import log_messages as msg
from bot.crm.connectors import Connectors
from dialogs.context import CoachContext
from storage import crm_links, crm_outcomes
from storage.crm_models import CrmConnection
from storage.crm_outcomes import DealOutcome
from storage.models import not_null

log = logging.getLogger("coach.crm")
FIRST_LOOK_BACK = timedelta(days=90)  # a new connection reads the deals closed this far back


async def read_outcomes(ctx: CoachContext, connectors: Connectors, conn: CrmConnection) -> list[DealOutcome]:
    """One read-back for one connection; returns the closed deals stored."""
    api = connectors.api(conn)
    since = conn.outcomes_since or (conn.created_at - FIRST_LOOK_BACK)
    changes = await api.stage_changes(since)
    async with ctx.db() as session, session.begin():
        companies = await crm_links.links_by_company(session=session, workspace_id=conn.workspace_id)
        owners = await crm_links.people_by_owner(session=session, workspace_id=conn.workspace_id)
        known = [
            (deal, companies[c]) for deal in changes.closed for c in deal.company_ids[:1] if c in companies
        ]
        reps = await crm_links.account_reps(session=session, account_ids=[a for _, a in known])
        outcomes = [
            DealOutcome(
                account_id=account,
                person_id=owners.get(deal.owner_id or "") or reps.get(account),
                outcome="won" if deal.won else "lost",
                closed_at=deal.closed_at,
                external_deal_id=deal.id,
            )
            for deal, account in known
        ]
        await crm_outcomes.save_outcomes(
            session=session, workspace_id=conn.workspace_id, crm=conn.crm, outcomes=outcomes
        )
        for deal_id in changes.reopened:
            await crm_outcomes.clear_outcome(session=session, crm=conn.crm, external_deal_id=deal_id)
        await crm_links.release_deals(session=session, deal_ids=[d.id for d in changes.closed])
        if changes.watermark is not None:
            await crm_outcomes.set_outcomes_since(
                session=session, connection_id=not_null(conn.id), since=changes.watermark
            )
    if outcomes:
        log.info(msg.CRM_POLLED.format(count=len(outcomes), crm=conn.crm, workspace=conn.workspace_id))
    return outcomes
