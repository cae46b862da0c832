"""What Teams users actually see: the rendering corpus through every outbound template and card.

Checked per TextBlock: no backslash but before `*` and `_` (and a backslash the person typed,
which stays a visible backslash), no raw `< >`, no `](`, no line that starts a list, and the text
reads exactly as written when decoded the way each client does (desktop CommonMark; Android drops
a backslash only before `[ ] ) * _`; iOS only before `* _`). FactSets carry no user text; every
card validates against the Adaptive Card 1.5 schema. One answer is one message.
"""

from __future__ import annotations

import html
import json
import re
import string
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import pytest

from bot.delivery import SENDERS, Outgoing
from bot.escape import WORD_JOINER, teams_text
from bot.teams.cards import replies_activity, replies_card, reply_blocks, summary_card
from dialogs.checklist import POINTS
from dialogs.context import CoachContext
from dialogs.debrief import Rep, feedback
from dialogs.messages import Reply
from dialogs.nudge import MeetingView, compose_nudge
from dialogs.text import Text, default_texts, join, pieces
from dialogs.validation import CleanDebrief
from storage.models import Debrief, Meeting
from storage.planning_models import MeetingInvite
from tests.bot.rendering_corpus import CORPUS, ORDINARY, rendered_corpus, templates
from tests.bot.teams.conftest import TeamsUser, fill_in, form_values, good_answers, person

PUNCTUATION = set(string.punctuation)
DESKTOP = PUNCTUATION  # CommonMark: a backslash escapes any ASCII punctuation
ANDROID = set("[])*_")
IOS = set("*_")
_LIST = re.compile(r"^[ \t]{0,3}(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$)")
_ENTITY = re.compile(r"&(?!(?:amp|lt|gt);)")


def decode(shown: str, drops: set[str]) -> str:
    """What a client displays: backslash escapes before `drops` taken, word joiners invisible,
    entities decoded (TextBlocks decode them on every client)."""
    out, i = [], 0
    while i < len(shown):
        ch = shown[i]
        if ch == "\\" and i + 1 < len(shown) and shown[i + 1] in drops:
            out.append(shown[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return html.unescape("".join(out).replace(WORD_JOINER, ""))


def assert_inert(shown: str, where: str = "", bot_marks: int = 0) -> None:
    """A TextBlock's text: nothing in it can format, link, mention or start a list. `bot_marks`:
    the `*`/`_` of the bot's own wording, sent as written (one prompt names `server.webchat_public`)."""
    for i, ch in enumerate(shown):
        if ch == "\\":
            nxt = shown[i + 1] if i + 1 < len(shown) else ""
            # our escape (before * or _), or a typed backslash that escapes nothing
            assert nxt in ("*", "_") or nxt not in PUNCTUATION, f"{where}: \\ before {nxt!r}: {shown!r}"
    assert "<" not in shown and ">" not in shown, f"{where}: {shown!r}"
    assert not _ENTITY.search(shown), f"{where}: a bare & or another entity: {shown!r}"
    assert "](" not in shown, f"{where}: a link: {shown!r}"
    assert len(re.findall(r"(?<!\\)[*_]", shown)) == bot_marks, f"{where}: emphasis: {shown!r}"
    for line in shown.split("\n"):
        assert not _LIST.match(line), f"{where}: a list line {line!r}"


def assert_reads_as(shown: str, original: str, where: str = "") -> None:
    for name, drops in (("desktop", DESKTOP), ("Android", ANDROID), ("iOS", IOS)):
        assert decode(shown, drops) == original, f"{where} on {name}: {shown!r} for {original!r}"


def text_blocks(node: Any) -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "TextBlock":
            out.append(str(node["text"]))
        for value in node.values():
            out += text_blocks(value)
    elif isinstance(node, list):
        for value in node:
            out += text_blocks(value)
    return out


def fact_values(card: dict[str, Any]) -> list[str]:
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "FactSet":
                out.extend(str(f["value"]) for f in node["facts"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return out


def assert_clean_card(card: dict[str, Any], schema: jsonschema.Draft6Validator, where: str = "") -> None:
    errors = [e.message for e in schema.iter_errors(card)]
    assert errors == [], f"{where}: {errors[:3]}"
    for shown in text_blocks(card):
        assert_inert(shown, where)
    for value in fact_values(card):
        assert "&" not in value and "<" not in value and "\\" not in value, f"{where}: FactSet {value!r}"


# -- every template, every corpus value ---------------------------------------------------------
def test_the_corpus_covers_every_template() -> None:
    assert len(templates()) > 600  # both locales, every key of every prompts file
    assert any(names for *_, names in templates())


@pytest.mark.parametrize("value", CORPUS, ids=range(len(CORPUS)))
def test_every_template_with_user_values_renders_clean(value: str, card_schema: Any) -> None:
    rendered = rendered_corpus(value)
    replies = []
    for name, text in rendered:
        shown = teams_text(text)
        # The bot's own wording goes as written: every bot segment is there, byte for byte.
        for segment, user in pieces(text):
            if not user:
                assert segment in shown, f"{name}: bot text changed: {segment!r} in {shown!r}"
        marks = sum(seg.count("*") + seg.count("_") for seg, user in pieces(text) if not user)
        reply = Reply(title=text, text=text, items=(text,))
        blocks = [b["text"] for b in reply_blocks(reply)]
        lines = [line for line in str(text).split("\n") if line.strip()]
        assert len(blocks) == 2 + len(lines), name
        assert_inert(blocks[0], name, marks)
        assert_reads_as(blocks[0], str(text), name)
        for shown_line, line in zip(blocks[1:-1], lines, strict=True):
            assert_inert(shown_line, name, shown_line.count("_") - shown_line.count("\\_")
                         + shown_line.count("*") - shown_line.count("\\*") if marks else 0)
            assert_reads_as(shown_line, line, name)
        assert blocks[-1].startswith("• ")  # a list is a literal bullet, not markdown
        assert_inert(blocks[-1], name, marks)
        assert_reads_as(blocks[-1], f"• {text}", name)
        replies.append(reply)
        # A lone text-only reply: a plain message with the raw text, nothing escaped.
        plain = replies_activity([Reply(text=text)])
        assert plain.text_format == "plain" and plain.text == str(text) and not plain.attachments
    # As a card, which validates against the 1.5 schema. Every reply's blocks differ only in
    # their text and their number of lines, so the card holds the replies with the most lines and
    # both locales' first (checking a card of all ~700 against the schema's anyOf takes minutes).
    chosen = [r for r in replies if "webchat_" not in str(r.text)]
    sample = [*sorted(chosen, key=lambda r: -str(r.text).count("\n"))[:8], chosen[0], chosen[-1]]
    assert_clean_card(replies_card(sample), card_schema, "replies")


def test_the_bots_own_text_is_never_escaped() -> None:
    texts = default_texts()
    saved = texts.message("en", "saved", account="Acme", when="Tue 1 Dec 2026, 09:49")
    assert teams_text(saved) == "Your debrief of Acme is stored (Tue 1 Dec 2026, 09:49)."
    row = texts.message("en", "history_row", number=1, when="Tue 1 Dec 2026", account="Acme",
                        outcome="Closed", weakest="none")
    item = reply_blocks(Reply(items=(row,)))[0]["text"]
    assert item == "• 1. Tue 1 Dec 2026 · Acme · Closed · weakest: none"
    # ...and the user's part is escaped only as the renderers need.
    odd = texts.message("en", "saved", account=ORDINARY, when="Tue 1 Dec 2026, 09:49")
    assert teams_text(odd) == (
        "Your debrief of Closed-won. (Q3) 1. a - b C:\\temp R&amp;D a\\_b \\*x\\* is stored "
        "(Tue 1 Dec 2026, 09:49).")
    assert teams_text("- item") == f"{WORD_JOINER}- item"
    assert teams_text("[x](http://e)") == f"[x]{WORD_JOINER}(http://e)"
    # At the seam with the bot's text: a typed "]" or "\\" never joins the bot's "(" or ")".
    seam = texts.message("en", "saved", account="C:\\", when="x")
    assert_reads_as(teams_text(seam), str(seam))
    link = join("", ["[x]", Text("(http://e)")])  # the user's "[x]", then the bot's "(…)"
    assert "](" not in teams_text(link) and decode(teams_text(link), DESKTOP) == "[x](http://e)"


# -- the card builders and the dialogs' real answers -----------------------------------------------
def _debrief(value: str) -> CleanDebrief:
    return CleanDebrief(
        account=value[:200],
        ratings=dict(zip(POINTS, ("no", "partly", "yes", "no", "yes"), strict=True)),
        notes=dict.fromkeys(POINTS, value),
        fields={"outcome": "next_step", "next_step_what": value, "agenda_set_by": "customer_formal",
                "supplier_check": "not_asked", "concessions_given": value,
                "next_meeting_at": datetime(2026, 12, 8, 13, 0, tzinfo=UTC)},
    )


@pytest.mark.parametrize("value", CORPUS, ids=range(len(CORPUS)))
def test_summary_card_keeps_user_text_out_of_factsets(value: str, card_schema: Any) -> None:
    texts = default_texts()
    for locale in ("en", "nl"):
        card = summary_card(texts, locale, debrief=_debrief(value),
                            saved_at=datetime(2026, 12, 1, 8, 49, tzinfo=UTC), timezone="Europe/Amsterdam")
        assert_clean_card(card, card_schema, f"summary {locale}")
        facts = fact_values(card)
        assert facts and all(value.split("\n")[0] not in f for f in facts)
        shown = [decode(t, DESKTOP) for t in text_blocks(card)]
        assert value in shown  # the note, as typed, in a TextBlock of its own
        assert any(value[:200] in s for s in shown)  # the account in the title


def _rep(value: str, locale: str = "en") -> Rep:
    return Rep(id=1, workspace_id=1, name=value, locale=locale, timezone="Europe/Amsterdam",
               manager_name=value)


def _nudge(ctx: CoachContext, value: str, locale: str, formal: bool) -> list[Reply]:
    now = ctx.clock()
    meeting = Meeting(id=7, workspace_id=1, person_id=1, account_id=1, starts_at=now + timedelta(days=1),
                      external_uid="x", title=value)
    invite = MeetingInvite(meeting_id=7, organiser=value, organiser_external=True, formal_agenda=True)
    last = Debrief(workspace_id=1, person_id=1, account_id=1, idempotency_key="k", outcome="next_step",
                   created_at=now - timedelta(days=6), customer_questions=value, concessions_asked=value,
                   concessions_given=value, concessions_got=value, next_step_what=value,
                   next_step_who=value, next_step_due=(now + timedelta(days=3)).date())
    view = MeetingView(meeting, value[:200], invite if formal else None)
    return compose_nudge(ctx=ctx, rep=_rep(value, locale), view=view,
                         tactics=["ask_why_now", "add_one_point"], last=last, weak="opening")


@pytest.mark.parametrize("value", CORPUS, ids=range(len(CORPUS)))
async def test_tips_and_nudges_are_one_clean_card(value: str, coach: CoachContext, card_schema: Any) -> None:
    for locale in ("en", "nl"):
        answers = [
            ("tips", feedback(ctx=coach, rep=_rep(value, locale), debrief=_debrief(value),
                              saved_at=coach.clock())),
            ("nudge", _nudge(coach, value, locale, formal=False)),
            ("formal nudge", _nudge(coach, value, locale, formal=True)),
        ]
        for where, replies in answers:
            activity = replies_activity(replies, locale=locale)
            (attachment,) = activity.attachments
            assert not activity.text
            card = dict(attachment.content)
            assert_clean_card(card, card_schema, f"{where} {locale}")
            if where != "tips":  # the nudge's buttons: all of them, on the one card
                assert [a["data"]["text"].split()[1] for a in card["actions"]] == ["got", "snooze", "skip"]


def test_user_text_in_a_title_or_a_button_value_stays_text(card_schema: Any) -> None:
    evil = "<at>Boss</at> **x** [y](http://e)\n- z"
    card = replies_card([Reply(title=evil, text=evil, items=(evil, evil)), Reply(text=evil)])
    assert_clean_card(card, card_schema, "plain str")  # text not rendered by Texts: all user text
    assert all(decode(t, DESKTOP).replace("• ", "") in evil for t in text_blocks(card))


# -- over the wire (the fake Bot Framework connector) -----------------------------------------------
async def test_a_debrief_with_the_corpus_answers_in_one_summary_and_one_card(
    rep: TeamsUser, card_schema: Any
) -> None:
    assert await rep.say("debrief Acme") == 201
    card = rep.connector.sent()[0].card
    assert card is not None
    rep.connector.clear()
    evil = " ".join(CORPUS).replace("\n", " ")
    notes = {f"note:{p}": "\n".join(CORPUS) for p in POINTS}
    answers = {**good_answers(), **notes, "account": evil[:200], "next_step_what": ORDINARY,
               "customer_questions": "\n".join(CORPUS)}
    details = await fill_in(rep, "activity-1", card, answers)
    assert_clean_card(details, card_schema, "details")  # the typed account refilled, inert
    assert await rep.submit("activity-1", form_values(details, **answers)) == 201
    (update,) = rep.connector.updates()
    assert update.card is not None
    assert_clean_card(update.card, card_schema, "summary")
    sent = rep.connector.sent()
    assert len(sent) == 1, "saved, tips and what next arrive as one message"
    assert sent[0].card is not None
    assert_clean_card(sent[0].card, card_schema, "tips")
    shown = sent[0].shown
    assert "For your next meeting" in shown and "Your debrief of " in shown
    # The bot's sentence around the user's account reads with no backslash in it.
    assert re.search(r" is stored \(\w{3} \d{1,2} \w{3} \d{4}, \d\d:\d\d\)\.", shown)

    rep.connector.clear()
    assert await rep.say("history") == 201
    (history,) = rep.connector.sent()
    assert history.card is not None
    assert_clean_card(history.card, card_schema, "history")
    rows = [t for t in text_blocks(history.card) if t.startswith("• ")]
    assert rows and rows[0].startswith("• 1. ")  # the bot's numbering, as written, after a bullet


async def test_a_nudge_is_one_message(rep: TeamsUser, card_schema: Any) -> None:
    assert await rep.say("hello") == 201
    who = await person(rep.live, rep.aad)
    assert who is not None
    rep.connector.clear()
    replies = _nudge(rep.live.coach, "\n".join(CORPUS), "en", formal=False)
    assert len(replies) == 1  # head, tactics, checks, recap, weakest point: one reply
    await rep.live.app[SENDERS]["teams"].send(person=who, message=Outgoing(replies))
    (sent,) = rep.connector.sent()
    assert sent.card is not None
    assert_clean_card(sent.card, card_schema, "nudge")
    assert "&lt;at&gt;x&lt;/at&gt;" in sent.shown and "<at>" not in json.dumps(sent.body)


async def test_export_in_teams_says_how_to_get_a_copy_and_promises_no_file(rep: TeamsUser) -> None:
    assert await rep.say("export") == 201
    (sent,) = rep.connector.sent()
    assert sent.card is not None and len(sent.attachments) == 1  # the answer, no file
    assert "doesn't let me send you a file" in sent.shown and "coach export" in sent.shown
    assert "as a JSON file" not in sent.shown
    rep.connector.clear()
    assert await rep.say("taal nl") == 201
    rep.connector.clear()
    assert await rep.say("export") == 201
    assert "geen bestand" in rep.connector.sent()[0].shown


def test_a_reply_of_the_corpus_as_plain_text_goes_raw() -> None:
    for value in CORPUS:
        activity = replies_activity([Reply(text=value)]).serialize()
        assert activity == {**activity, "type": "message", "textFormat": "plain", "text": value}
        assert not activity.get("attachments")
