"""A recap draft for the customer after a debrief with a next step: what was discussed, who does
what by when, in the rep's language, as text to copy and as a `mailto:` link.

The draft is made of what the rep typed, placed into prompts/<locale>/customer_recap.yaml, so the
channels escape it like any user text. The link carries it percent-encoded (RFC 6068), cut to
MAILTO_LIMIT characters: some mail programs and Slack's link buttons take no more; the full text
is in the message to copy.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from urllib.parse import quote

from dialogs.messages import Button, Reply
from dialogs.text import Texts, format_day, format_when, join
from dialogs.validation import CleanDebrief

MAILTO_LIMIT = 2000
_ELLIPSIS = quote("…", safe="")


@functools.lru_cache(maxsize=64)
def _fixed(texts: Texts, locale: str, key: str) -> str:
    """A recap text without values (greeting, subject, …), rendered once per locale."""
    return texts.render(locale, "customer_recap", key)


def offers_recap(debrief: CleanDebrief) -> bool:
    """A next step was agreed: outcome "next step", or closed with a next step written down."""
    outcome = debrief.fields.get("outcome")
    what = debrief.fields.get("next_step_what")
    return outcome == "next_step" or (outcome == "closed" and isinstance(what, str) and bool(what.strip()))


def draft_lines(texts: Texts, *, locale: str, tz: str, now: datetime, debrief: CleanDebrief,
                rep_name: str) -> list[str]:
    """The recap's lines, greeting to signature; a detail the rep did not give is left out."""
    def line(key: str, **ctx: object) -> str:
        return texts.render(locale, "customer_recap", key, **ctx) if ctx else _fixed(texts, locale, key)

    fields = debrief.fields
    lines = [line("greeting"), "", line("intro"), ""]
    for field, key in (("customer_questions", "questions"), ("answers_given", "answers"),
                       ("next_step_what", "next_step"), ("next_step_who", "who")):
        value = fields.get(field)
        if isinstance(value, str) and value.strip():
            lines.append(line(key, text=" ".join(value.split())))
    due, meeting = fields.get("next_step_due"), fields.get("next_meeting_at")
    if isinstance(due, date):
        lines.append(line("due", day=format_day(due, locale=locale)))
    if isinstance(meeting, datetime) and meeting > now:
        lines.append(line("meeting", when=format_when(meeting, locale=locale, tz=tz)))
    lines += ["", line("closing"), "", line("sign_off")]
    if rep_name.strip():
        lines.append(rep_name.strip())
    return lines


def mailto(subject: str, body: str, *, limit: int = MAILTO_LIMIT) -> str:
    """A `mailto:` URL with this subject and body (no address: the rep picks the customer's),
    its body cut (with "…") so the whole URL stays within `limit` characters."""
    head = f"mailto:?subject={quote(subject, safe='')}&body="
    body = body.replace("\r\n", "\n").replace("\n", "\r\n")
    whole = quote(body, safe="")
    if len(head) + len(whole) <= limit:
        return head + whole
    room = limit - len(head)
    out: list[str] = []
    size = 0
    for ch in body:
        piece = quote(ch, safe="")
        if size + len(piece) > room - len(_ELLIPSIS):
            out.append(_ELLIPSIS)
            break
        out.append(piece)
        size += len(piece)
    return head + "".join(out)


def recap_reply(texts: Texts, *, locale: str, tz: str, now: datetime, debrief: CleanDebrief,
                rep_name: str) -> Reply:
    body = join("\n", draft_lines(texts, locale=locale, tz=tz, now=now, debrief=debrief,
                                  rep_name=rep_name))
    subject = _fixed(texts, locale, "subject")
    button = Button(_fixed(texts, locale, "button_mail"), "",
                    url=mailto(str(subject), str(body)))
    return Reply(kind="recap", title=texts.render(locale, "customer_recap", "title",
                                                  account=debrief.account),
                 text=body, buttons=(button,))
