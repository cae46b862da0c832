"""HubSpot: connecting by OAuth (an install link from `coach crm connect`, tokens refreshed before
they expire), matching the account by name or by the rep's choice, and won deals read back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from bot.crm.install import install_grant
from bot.crm.runtime import CRM
from dialogs import conversation
from storage import crm, crm_outcomes
from storage.crm_links import account_link
from storage.deals import deal_counts
from storage.inbox import take_unseen
from storage.models import Person
from tests.bot.crm.conftest import file, interval_passed, settled, tick
from tests.conftest import LiveApp
from tests.fakes.hubspot_api import FakeHubSpot


@pytest.mark.parametrize("crm_settings", [{"hubspot_client_id": "app-1", "hubspot_client_secret": "s3cret"}])
async def test_oauth_install_then_a_token_refreshed_before_it_expires(
    live_app: LiveApp, hubspot: FakeHubSpot, rep: Person, http: aiohttp.ClientSession
) -> None:
    hubspot.add_company("Acme", "acme.com")
    grant = install_grant(live_app.app[CRM].box, crm_id="hubspot", workspace_id=rep.workspace_id)
    async with http.get(f"{live_app.url}/crm/hubspot/install", params={"grant": grant}) as resp:
        page = await resp.text()  # followed: HubSpot's consent page approves, the callback stores
    assert resp.status == 200 and "HubSpot is now connected" in page
    [exchange] = [c for c in hubspot.calls if c.path == "/oauth/v1/token"]
    assert exchange.body["grant_type"] == "authorization_code"
    assert exchange.body["redirect_uri"] == f"{live_app.url}/crm/hubspot/oauth_callback"
    async with live_app.coach.db() as session:
        conn = await crm.connection_of(session=session, workspace_id=rep.workspace_id)
    assert conn is not None and conn.source == "oauth" and conn.external_org == "424242"
    assert "oauth-" not in conn.tokens and "refresh-" not in conn.tokens  # sealed at rest
    first_token = next(t for t in hubspot.tokens if t.startswith("oauth-"))

    # The app's clock is the real one: bring the token's expiry near instead of waiting for it.
    box = live_app.app[CRM].box
    creds = box.open(conn.tokens)
    soon = creds.__class__(
        creds.access_token, creds.refresh_token, live_app.coach.clock() + timedelta(minutes=2)
    )
    async with live_app.coach.db() as session, session.begin():
        await crm.save_tokens(
            session=session, connection_id=conn.id or 0, tokens=box.seal(soon), now=live_app.coach.clock()
        )
    await file(live_app, rep, account="Acme")
    grants = [c.body["grant_type"] for c in hubspot.calls if c.path == "/oauth/v1/token"]
    assert grants == ["authorization_code", "refresh_token"]
    assert first_token not in hubspot.tokens and len(hubspot.notes) == 1
    [note_call] = hubspot.to("POST", "/crm/v3/objects/notes")
    assert note_call.status == 201


async def test_an_install_link_without_a_valid_grant_is_refused(
    live_app: LiveApp, hubspot: FakeHubSpot, rep: Person, http: aiohttp.ClientSession
) -> None:
    async with http.get(
        f"{live_app.url}/crm/hubspot/install", params={"grant": "forged"}, allow_redirects=False
    ) as resp:
        assert resp.status in (403, 404)
    async with http.get(
        f"{live_app.url}/crm/hubspot/oauth_callback",
        params={"code": "x", "state": "forged"},
        allow_redirects=False,
    ) as resp:
        assert resp.status in (403, 404)
    assert not [c for c in hubspot.calls if c.path == "/oauth/v1/token"]


async def test_an_account_without_a_known_domain_is_matched_by_its_exact_name(
    live_app: LiveApp, hubspot: FakeHubSpot, rep: Person
) -> None:
    globex = hubspot.add_company("Globex", "globex.example")
    hubspot.add_company("Globex Logistics", "globexlog.example")
    await tick(live_app)
    await file(live_app, rep, account="Globex")
    [note] = hubspot.notes.values()
    assert [a["to"]["id"] for a in note["associations"]] == [globex]


async def test_the_rep_picks_the_company_once_and_it_is_remembered(
    live_app: LiveApp, hubspot: FakeHubSpot, rep: Person
) -> None:
    initech_nl = hubspot.add_company("Initech Nederland", "initech.nl")
    hubspot.add_company("Initech Benelux", "initech.be")
    await tick(live_app)
    await file(live_app, rep, account="Initech")
    assert not hubspot.notes  # waits for the rep
    assert rep.id is not None
    async with live_app.coach.db() as session, session.begin():
        [question] = await take_unseen(session=session, person_id=rep.id, limit=5, now=live_app.coach.clock())
    labels = [b["label"] for b in question["buttons"]]
    assert labels == ["Initech Nederland", "Initech Benelux", "None of these"]
    pressed: dict[str, Any] = question["buttons"][0]
    replies = await conversation.reply_to(
        ctx=live_app.coach, person_id=rep.id, channel="web", text=pressed["value"]
    )
    assert "Initech is Initech Nederland in HubSpot" in replies[0].text
    await settled(live_app)
    [note] = hubspot.notes.values()
    assert note["associations"][0]["to"]["id"] == initech_nl
    again = await conversation.reply_to(
        ctx=live_app.coach, person_id=rep.id, channel="web", text=question["buttons"][1]["value"]
    )
    assert "already" in again[0].text  # asked once: a second press changes nothing
    await file(live_app, rep, account="Initech", customer_questions="Second meeting")
    assert (
        len(hubspot.notes) == 2
        and len([c for c in hubspot.calls if c.path.endswith("companies/search")]) == 2
    )


async def test_a_button_that_was_never_offered_is_refused(
    live_app: LiveApp, hubspot: FakeHubSpot, rep: Person
) -> None:
    hubspot.add_company("Initech Nederland", "initech.nl")
    hubspot.add_company("Initech Benelux", "initech.be")
    await tick(live_app)
    await file(live_app, rep, account="Initech")
    assert rep.id is not None
    replies = await conversation.reply_to(
        ctx=live_app.coach, person_id=rep.id, channel="web", text="crm company 1 999999"
    )
    assert "no longer open" in replies[0].text
    async with live_app.coach.db() as session:
        assert await account_link(session=session, account_id=1) is None


async def win_rate(live_app: LiveApp, person_id: int) -> tuple[int, int]:
    """(won, lost) deals of the rep this week and last, as the manager's digest counts them."""
    now = live_app.coach.clock()
    async with live_app.coach.db() as session:
        counts = await deal_counts(
            session=session,
            team_ids=[person_id],
            period_start=now - timedelta(days=7),
            previous_start=now - timedelta(days=14),
            end=now + timedelta(days=1),
            month_starts=[],
        )
    return sum(c.won for c in counts), sum(c.lost for c in counts)


async def test_a_deal_closed_won_in_hubspot_becomes_the_outcome_of_that_deal(
    live_app: LiveApp, hubspot: FakeHubSpot, rep: Person
) -> None:
    acme = hubspot.add_company("Acme", "acme.com")
    owner = hubspot.add_owner("sanne@ourco.nl")
    deal = hubspot.add_deal("Acme pilot", acme, owner=owner)
    await tick(live_app)
    await file(live_app, rep, account="Acme")
    assert rep.id is not None
    clock = live_app.coach.clock()
    async with live_app.coach.db() as session:
        assert (
            await crm_outcomes.crm_outcomes_for(
                session, [rep.id], clock - timedelta(days=1), clock + timedelta(days=1)
            )
            == []
        )
    assert await win_rate(live_app, rep.id) == (0, 0)
    hubspot.close_deal(deal, won=True)
    await interval_passed(live_app)
    await tick(live_app)
    async with live_app.coach.db() as session:
        [row] = await crm_outcomes.crm_outcomes_for(
            session, [rep.id], clock - timedelta(days=1), clock + timedelta(days=1)
        )
    assert row.outcome == "won" and row.person_id == rep.id
    assert await win_rate(live_app, rep.id) == (1, 0)  # the win rate per deal counts it
    hubspot.deals[deal].update(hs_is_closed="false", hs_is_closed_won="false")  # reopened
    hubspot.deals[deal]["hs_lastmodifieddate"] = hubspot.deals[deal]["closedate"]
    await interval_passed(live_app)
    await tick(live_app)
    async with live_app.coach.db() as session:
        assert (
            await crm_outcomes.crm_outcomes_for(
                session, [rep.id], clock - timedelta(days=1), clock + timedelta(days=1)
            )
            == []
        )
