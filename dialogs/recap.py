"""The recap of the last debrief with an account, shown in the nudge and in the preparation: the
customer's questions with the answers given, the concessions asked, given and got, the agreed next
step, and the rep's own notes on the points that were weak. Only what that debrief knows is shown:
details are asked only where they apply, so any of them may be missing."""

from __future__ import annotations

from collections.abc import Mapping

from dialogs.checklist import NONE_ASKED, POINTS
from dialogs.context import CoachContext
from dialogs.debrief import Rep
from dialogs.text import format_day, format_when
from storage.models import Debrief

RECAP_TEXT_LIMIT = 400  # characters of one typed answer in a recap line
WEAK = ("partly", "no")

Answers = Mapping[str, tuple[str, str | None]]  # point -> (rating, note)


def trimmed(text: str, limit: int = RECAP_TEXT_LIMIT) -> str:
    """The rep's words, cut at a word near `limit` characters (with an ellipsis) when longer."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[:limit]
    if " " in head[limit // 2 :]:  # end on a whole word, unless that loses half of it
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(",;:.- ") + "…"


def topic_of(last: Debrief | None) -> str | None:
    """What the last meeting with the account was about, in the rep's words: the agreed next step,
    else the customer's questions."""
    if last is None:
        return None
    for text in (last.next_step_what, last.customer_questions):
        if text and text.strip():
            return trimmed(text, 80)
    return None


def recap_lines(
    ctx: CoachContext, rep: Rep, account: str, last: Debrief | None, answers: Answers
) -> tuple[str, list[str]]:
    """The recap's title and its lines (no recap: a title that says so, and no lines)."""
    t, loc = ctx.texts, rep.locale
    if last is None:
        return t.render(loc, "nudge", "recap_none", account=account), []

    def line(key: str, text: str | None) -> None:
        if text and text.strip():
            lines.append(t.render(loc, "nudge", key, text=trimmed(text)))

    lines: list[str] = []
    line("recap_questions", last.customer_questions)
    line("recap_answers", last.answers_given)
    line("recap_concessions_asked", last.concessions_asked)
    line("recap_concessions_given", last.concessions_given)
    line("recap_concessions_got", last.concessions_got)
    asked_any = any(
        v and v.strip() for v in (last.concessions_asked, last.concessions_given, last.concessions_got)
    )
    if not asked_any and answers.get("concessions", ("", None))[0] == NONE_ASKED:
        lines.append(t.render(loc, "nudge", "recap_no_concessions"))
    if (last.concessions_given or "").strip() and not (last.concessions_got or "").strip():
        lines.append(t.render(loc, "nudge", "recap_nothing_back"))
    if (last.next_step_what or "").strip() or (last.next_step_who or "").strip():
        due = format_day(last.next_step_due, locale=loc) if last.next_step_due else ""
        lines.append(t.render(loc, "nudge", "recap_next_step", what=trimmed(last.next_step_what or ""),
                              who=trimmed(last.next_step_who or ""), due=due))
    for point in POINTS:
        rating, note = answers.get(point, ("", None))
        if rating in WEAK and note and note.strip():
            lines.append(t.render(loc, "nudge", "recap_note", title=t.point(loc, point, "title"),
                                  text=trimmed(note)))
    title = t.render(loc, "nudge", "recap_title", account=account,
                     when=format_when(last.created_at, locale=loc, tz=rep.timezone))
    return title, lines
