from __future__ import annotations

from dialogs import conversation
from storage import repository as repo
from tests.factories import make_person

ANSWERS = ["yes", "customer_formal", "/skip", "partly", "How fast?", "Six weeks", "/skip",
           "no", "/skip", "not_asked", "/skip", "yes", "/skip", "/skip", "/skip", "/skip",
           "yes", "Pilot", "Me", "friday", "next Tuesday 2pm", "/skip", "next_step"]


async def test_full_conversation_stores_one_debrief(coach, db, database_url):
    person = await make_person(db)
    replies = await conversation.handle_message(ctx=coach, person_id=person.id, channel="web", text="debrief Acme")
    assert replies[-1].kind == "question"
    for answer in ANSWERS:
        replies = await conversation.handle_message(ctx=coach, person_id=person.id, channel="web", text=answer)
        assert replies[0].kind != "error", (answer, replies)
    assert [r.kind for r in replies] == ["saved", "tips", "info"]
    async with db() as session:
        assert await repo.count_debriefs(session=session, person_id=person.id) == 1
