"""Which customer a chat debrief is about: the name typed, or a known account it is close to.

"acme" for a known "Acme" is that account (storage matches names with case and spacing
ignored). A name close to one the rep knows ("Acme" next to "Acme Logistics", "Acme, Inc."
next to "Acme Inc", a typo) is confirmed once, with the known accounts as buttons, so a typo does
not become a second customer. A meeting's "which customer?" (dialogs/meeting_question.py) reads
the name typed the same way.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Sequence
from typing import Any

from dialogs.context import CoachContext
from dialogs.debrief import Rep
from dialogs.debrief_questions import (
    ACCOUNT_STEP,
    CONFIRM_STEP,
    KNOWN_ACCOUNT,
    NEW_ACCOUNT,
    question,
)
from dialogs.debrief_steps import advance, move, next_field, save_new
from dialogs.messages import Reply
from dialogs.validation import FieldError, choice_list, clean_account
from storage.accounts import account_key, recent_account_names
from storage.models import DialogState

OFFERED = 3  # known accounts offered at most
_WORD = re.compile(r"\w+")
_YES, _NO = {"yes", "y", "ja", "j"}, {"no", "n", "nee"}


def _words(name: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", name.casefold())
    return _WORD.findall("".join(ch for ch in folded if not unicodedata.combining(ch)))


def _distance(a: str, b: str, cap: int) -> int:
    """Levenshtein distance, or cap + 1 once it is sure to exceed `cap`."""
    if abs(len(a) - len(b)) > cap:
        return cap + 1
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, start=1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
        if min(row) > cap:
            return cap + 1
    return row[-1]


def _closeness(typed: str, known: str) -> int | None:
    """How close two different names are (lower is closer), or None when they are not."""
    tw, kw = _words(typed), _words(known)
    t, k = "".join(tw), "".join(kw)
    if not t or not k:
        return None
    if t == k:  # punctuation or spacing apart: "Acme, Inc." and "Acme Inc"
        return 0
    short, long_ = sorted((tw, kw), key=len)
    if long_[: len(short)] == short:  # whole words first: "Acme" and "Acme Logistics"
        return 1
    shorter = min(len(t), len(k))
    cap = 2 if shorter >= 8 else 1 if shorter >= 4 else 0
    if cap and _distance(t, k, cap) <= cap:  # a typo: "Acme Logistcs"
        return 2
    if shorter >= 4 and (k.startswith(t) or t.startswith(k)):  # "Acmelog" and "Acme Logistics"
        return 3
    return None


def close_names(typed: str, known: Sequence[str]) -> tuple[str | None, list[str]]:
    """(the known name that is the same account, known names close to it), most recent first."""
    key = account_key(typed)
    close: list[tuple[int, int, str]] = []
    for order, name in enumerate(known):
        if account_key(name) == key:
            return name, []
        score = _closeness(typed, name)
        if score is not None:
            close.append((score, order, name))
    return None, [name for *_, name in sorted(close)[:OFFERED]]


async def known_names(ctx: CoachContext, rep: Rep) -> list[str]:
    """The accounts the rep debriefed or has meetings with, most recent first."""
    async with ctx.db() as session:
        return await recent_account_names(session=session, person_id=rep.id)


async def start(ctx: CoachContext, rep: Rep, channel: str, account_text: str) -> list[Reply]:
    """`debrief [name]`: a new draft, at the first checklist question when the customer is clear."""
    data: dict[str, Any] = {"draft_id": uuid.uuid4().hex, "answers": {}}
    replies: list[Reply] = []
    step = ACCOUNT_STEP
    if account_text.strip():
        try:
            name = clean_account(account_text, texts=ctx.texts, loc=rep.locality(ctx.clock()))
        except FieldError as exc:
            replies.append(Reply(kind="error", text=exc.text))
        else:
            step = _place(data, name, await known_names(ctx, rep))
    state = await save_new(ctx, rep, channel, step, data)
    if "account" in data:
        replies.append(_started(ctx, rep, data))
    return [*replies, question(ctx, rep, state)]


def _place(data: dict[str, Any], typed: str, known: Sequence[str]) -> str:
    """Put the account in the draft, or what to confirm; the step to ask next."""
    same, close = close_names(typed, known)
    if close:
        data.update(account_typed=typed, account_close=close)
        return CONFIRM_STEP
    data["account"] = same or typed
    step = next_field(data)
    assert step is not None, "a debrief always asks its first point"
    return step


def _started(ctx: CoachContext, rep: Rep, data: dict[str, Any]) -> Reply:
    return Reply(text=ctx.texts.message(rep.locale, "start_debrief", account=data["account"]))


async def answer(ctx: CoachContext, rep: Rep, channel: str, state: DialogState, text: str) -> list[Reply]:
    """The answer to "which customer?" or to "did you mean …?"."""
    data = dict(state.data)
    if state.step == ACCOUNT_STEP:
        try:
            name = clean_account(text, texts=ctx.texts, loc=rep.locality(ctx.clock()))
        except FieldError as exc:
            return [Reply(kind="error", text=exc.text), question(ctx, rep, state)]
        step = _place(data, name, await known_names(ctx, rep))
        if step == CONFIRM_STEP:
            return await move(ctx, rep, channel, state, data, step)
        return await advance(ctx, rep, channel, state, data, lead=(_started(ctx, rep, data),))
    chosen = confirmed(data, text)
    if chosen is None:
        return [not_a_choice(ctx, rep, data), question(ctx, rep, state)]
    for key in ("account_typed", "account_close"):
        data.pop(key)
    data["account"] = chosen
    return await advance(ctx, rep, channel, state, data, lead=(_started(ctx, rep, data),))


def not_a_choice(ctx: CoachContext, rep: Rep, data: dict[str, Any]) -> Reply:
    """An answer to "did you mean …?" that is none of its choices: what the choices are."""
    t, loc = ctx.texts, rep.locale
    options = [*data["account_close"], t.message(loc, "button_new_account", typed=data["account_typed"])]
    error = t.message(loc, "pick_one", choices=choice_list(options, texts=t, locale=loc))
    return Reply(kind="error", text=error)


def confirmed(data: dict[str, Any], text: str) -> str | None:
    """The account an answer to "did you mean …?" picks (`account_typed`: the name typed, kept as
    a new customer; `account_close`: the known ones offered), or None when it picks none."""
    typed, close = str(data["account_typed"]), list(data["account_close"])
    words = text.casefold().split()
    if words[:1] == [KNOWN_ACCOUNT] and len(words) == 2 and words[1].isdigit():
        index = int(words[1]) - 1
        return close[index] if 0 <= index < len(close) else None
    folded = " ".join(words)
    if folded == NEW_ACCOUNT or folded in _NO or account_key(text) == account_key(typed):
        return typed
    if folded in _YES and len(close) == 1:
        return close[0]
    if folded.isdigit() and 1 <= int(folded) <= len(close):
        return close[int(folded) - 1]
    return next((name for name in close if account_key(name) == account_key(text)), None)
