"""A modal is filed for the signed user only: its private_metadata owner is a hint that is checked,
never identity (a freed person id, a view opened for someone else, a tampered person id)."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from storage.models import Debrief, Person
from tests.bot.slack.conftest import TEAM, USER, SlackClient, answers, debrief_count, open_modal, settle
from tests.conftest import LiveApp
from tests.fakes.slack_api import FakeSlackApi

OTHER = "U222"


async def _person_id(live_app: LiveApp, user: str) -> int | None:
    async with live_app.coach.db() as session:
        return await session.scalar(sa.select(Person.id).where(Person.platform_user_id == user))


async def _debriefs_of(live_app: LiveApp, person_id: int) -> int:
    async with live_app.coach.db() as session:
        query = sa.select(sa.func.count()).select_from(Debrief).where(Debrief.person_id == person_id)
        return int(await session.scalar(query) or 0)


def _refused(text: str) -> dict[str, Any]:
    body = json.loads(text)
    assert body["response_action"] == "errors", body
    return dict(body["errors"])


async def test_a_modal_opened_before_forget_never_lands_under_the_next_person(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    view = await open_modal(slack, slack_api)  # rep A
    first_id = await _person_id(live_app, USER)
    assert first_id is not None
    assert json.loads(view["private_metadata"])["owner"][2] == first_id  # the hint the modal carries
    status, _ = await slack.command("forget confirm")
    assert status == 200
    await settle(live_app)
    assert await _person_id(live_app, USER) is None
    await open_modal(slack, slack_api, user=OTHER)  # rep B appears after A is gone
    second_id = await _person_id(live_app, OTHER)
    assert second_id is not None and second_id != first_id  # ids are never handed out again

    for signer in (USER, OTHER):  # A's old modal, sent back as A, or (replayed) as B
        status, text = await slack.submit(view, answers(), user=signer, view_id=f"V-{signer}")
        assert status == 200
        errors = _refused(text)
        assert "nothing was saved" in errors["rating:opening"]
    await settle(live_app)
    assert await debrief_count(live_app) == 0
    assert await _debriefs_of(live_app, second_id) == 0


async def test_a_tampered_person_id_is_refused_and_nothing_is_stored(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    await open_modal(slack, slack_api, user=OTHER)
    victim = await _person_id(live_app, OTHER)
    view = await open_modal(slack, slack_api)
    meta = json.loads(view["private_metadata"])
    assert meta["owner"][:2] == [TEAM, USER]
    meta["owner"][2] = victim
    tampered = {**view, "private_metadata": json.dumps(meta)}
    status, text = await slack.submit(tampered, answers())
    assert status == 200
    assert "nothing was saved" in _refused(text)["rating:opening"]
    await settle(live_app)
    assert await debrief_count(live_app) == 0

    # The same modal untouched is filed, under the signed user.
    status, text = await slack.submit(view, answers(), view_id="V901")
    assert (status, text) == (200, "")
    await settle(live_app)
    me = await _person_id(live_app, USER)
    assert me is not None and await _debriefs_of(live_app, me) == 1
    assert victim is not None and await _debriefs_of(live_app, victim) == 0
