"""Which CRM company, deal and owner a debrief belongs to: the account's e-mail domain (from the
calendar's attendees), else its exact name, else the rep is asked once with the likely candidates;
the open deal when there is exactly one, else the rep picks; the rep's CRM user by e-mail.
Every answer is remembered (storage.crm_links)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.crm.api import Company, CrmApi, CrmNotReady, CrmRejected, Deal
from dialogs.crm_entry import crm_name
from storage import crm_links, outbox
from storage.crm import CRM_QUESTION
from storage.crm_links import WriteSubject
from storage.crm_models import CrmAccountLink
from storage.models import not_null

ANSWER_WAIT = 24 * 3600.0  # a write waiting for the rep's answer looks again after a day (or at the answer)
OWNER_RECHECK = timedelta(days=7)  # a rep without a CRM user is looked up again after a week


class Matcher:
    def __init__(
        self, *, db: async_sessionmaker[AsyncSession], clock: Callable[[], datetime], wake: Callable[[], None]
    ) -> None:
        self.db = db
        self.clock = clock
        self.wake = wake  # the scheduler: a question was stored to send at once

    async def company(self, api: CrmApi, subject: WriteSubject) -> CrmAccountLink:
        """The account's CRM company (company_id None: the rep said none of these)."""
        account_id = not_null(subject.account.id)
        async with self.db() as session:
            link = await crm_links.account_link(session=session, account_id=account_id)
        if link is not None:
            return link
        found: list[Company] = []
        by = ""
        if subject.account.domain:
            found, by = await api.companies_by_domain(subject.account.domain), "domain"
        if len(found) != 1:
            named = await api.companies_by_name(subject.account.name)
            if len(named) == 1 or not found:
                found, by = named, "name"
        if len(found) == 1:
            return await self._link(account_id, found[0], by)
        candidates = found or await api.company_candidates(subject.account.name)
        if not candidates:
            raise CrmRejected(
                f"no {crm_name(api.name)} company has the domain "
                f"{subject.account.domain or '(none known)'} or a name like {subject.account.name!r}"
            )
        await self._ask(subject, "company", candidates, api.name)
        raise CrmNotReady("waiting for the rep to pick the CRM company", retry_after=ANSWER_WAIT)

    async def _link(self, account_id: int, company: Company, by: str) -> CrmAccountLink:
        now = self.clock()
        async with self.db() as session, session.begin():
            await crm_links.save_account_link(
                session=session,
                account_id=account_id,
                company_id=company.id,
                company_name=company.name,
                matched_by=by,
                now=now,
            )
        return CrmAccountLink(
            account_id=account_id,
            company_id=company.id,
            company_name=company.name,
            matched_by=by,
            decided_at=now,
        )

    async def deal(self, api: CrmApi, subject: WriteSubject, link: CrmAccountLink) -> str | None:
        """The deal to write onto: the one open deal, the rep's pick among several, or none."""
        if link.deal_decided or link.company_id is None:
            return link.deal_id
        deals = await api.open_deals(link.company_id)
        if len(deals) == 1:
            async with self.db() as session, session.begin():
                await crm_links.save_deal(
                    session=session, account_id=link.account_id, deal_id=deals[0].id, now=self.clock()
                )
            return deals[0].id
        if not deals:
            return None  # none open now: looked up again next time
        await self._ask(subject, "deal", deals, api.name, company=link.company_name)
        raise CrmNotReady("waiting for the rep to pick the deal", retry_after=ANSWER_WAIT)

    async def _ask(
        self, subject: WriteSubject, ask: str, options: Sequence[Company | Deal], crm: str, company: str = ""
    ) -> None:
        account_id = not_null(subject.account.id)
        async with self.db() as session, session.begin():
            await outbox.enqueue(
                session=session,
                dedup_key=crm_links.question_key(ask, account_id),
                kind=CRM_QUESTION,
                person_id=not_null(subject.rep.id),
                due_at=self.clock(),
                payload={
                    "ask": ask,
                    "account_id": account_id,
                    "account": subject.account.name,
                    "crm": crm,
                    "company": company,
                    "candidates": [{"id": o.id, "name": o.name} for o in options],
                },
            )
        self.wake()

    async def owner(self, api: CrmApi, subject: WriteSubject) -> str | None:
        person_id = not_null(subject.rep.id)
        async with self.db() as session:
            known = await crm_links.owner_of(session=session, person_id=person_id)
        now = self.clock()
        if known is not None and (known.owner_id is not None or now - known.matched_at < OWNER_RECHECK):
            return known.owner_id
        owner = await api.owner_by_email(subject.rep.email) if subject.rep.email else None
        async with self.db() as session, session.begin():
            await crm_links.save_owner(session=session, person_id=person_id, owner_id=owner, now=now)
        return owner
