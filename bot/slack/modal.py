"""The debrief modal: the five ratings and the outcome first, each point's details drawn as it is
rated (Block Kit, slack_sdk models), and reading a submission back.

A new modal is built once per language and timezone and reused (see new_modal); the customer's
name, the only user text in a new modal, goes in escaped. An edit's stored answers, and what the
rep typed before a redraw, are input values: form data handed back to us, not rendered text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    ExternalDataSelectElement,
    InputBlock,
    Option,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.slack.modal_fields import MEETING_TIME, VALUE, checklist_blocks, stored_answers
from bot.slack.views import OPTION_TEXT_LIMIT, OPTION_VALUE_LIMIT, plain
from bot.slack.views import label as slack_label
from dialogs.checklist import FIELDS_BY_KEY, NOTE_LIMIT
from dialogs.checklist_path import form_fields, settle
from dialogs.text import Texts
from dialogs.validation import combine_date_time, parse_id

CALLBACK_DEBRIEF = "debrief"
ACCOUNT = "account"  # block id and action id of the customer select
METADATA_LIMIT = 3000  # Slack's private_metadata
# What a redraw keeps aside while its block is hidden (a note typed before the rating changed).
KEEPABLE = frozenset({*FIELDS_BY_KEY, MEETING_TIME})
__all__ = ["MEETING_TIME", "VALUE"]


# -- the debrief modal -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ModalMeta:
    """What the modal carries to its submission (private_metadata).

    `owner` is who it was opened for: (team id, user id, person id, locale, timezone). It is a hint,
    never identity: a submission is filed for the signed user, and the person id is used only
    when the filing statement finds that it is the signed user's row (saving a lookup); a view
    opened for another user, or a person id that is not theirs, stores nothing.
    """

    account: str | None = None  # fixed customer (named in the command, or an edit)
    edit_of: int | None = None
    owner: tuple[str, str, int, str, str] | None = None
    # Answers typed into blocks a redraw hid, shown again if their block returns; never stored.
    kept: Mapping[str, str] = field(default_factory=dict)

    def dump(self) -> str:
        """The metadata as JSON within Slack's limit: kept answers that do not fit are let go, the
        longest first (a hidden answer is a convenience; the rest is what a submission needs)."""
        data: dict[str, Any] = {"account": self.account, "edit_of": self.edit_of, "owner": self.owner}
        kept = dict(self.kept)
        while True:
            text = json.dumps({**data, "kept": kept} if kept else data)
            if len(text) <= METADATA_LIMIT or not kept:
                return text
            del kept[max(kept, key=lambda k: len(kept[k]))]

    @classmethod
    def load(cls, raw: str | None) -> ModalMeta:
        try:
            data = json.loads(raw or "{}")
            edit_of = data.get("edit_of")
            owner = data.get("owner")
            if owner is not None:
                team, user, person_id, locale, tz = owner
                owner = (str(team), str(user), _id(person_id), str(locale), str(ZoneInfo(str(tz)).key))
            return cls(
                account=data.get("account"),
                edit_of=_id(edit_of) if edit_of is not None else None,
                owner=owner,
                kept=_kept(data.get("kept")),
            )
        except (ValueError, TypeError, AttributeError, KeyError):  # KeyError: ZoneInfoNotFoundError
            return cls()

    def owned_by(self, team: str | None, user: str) -> tuple[int, str, str] | None:
        """(person id, locale, timezone) when the submitter is who the modal was opened for."""
        if self.owner is None or (self.owner[0], self.owner[1]) != (team, user):
            return None
        return self.owner[2], self.owner[3], self.owner[4]


def _kept(raw: object) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    return {str(k): v[:NOTE_LIMIT] for k, v in raw.items() if k in KEEPABLE and isinstance(v, str) and v}


def _id(value: object) -> int:
    """A row id from the metadata (a database integer), else ValueError."""
    parsed = parse_id(str(value))
    if parsed is None:
        raise ValueError(f"not an id: {str(value)[:40]}")
    return parsed


def account_option(texts: Texts, loc: str, *, name: str, new: bool) -> Option:
    label = texts.render(loc, "slack", "account_new", name=name) if new else name
    return Option(value=name[:OPTION_VALUE_LIMIT], text=plain(label, OPTION_TEXT_LIMIT))


def debrief_modal(
    texts: Texts,
    loc: str,
    tz: str,
    *,
    initial: dict[str, Any] | None = None,
    meta: ModalMeta | None = None,
    edit_when: str | None = None,
) -> View:
    """The modal for these answers: `initial` holds the stored answers when correcting (their
    details are shown), else the five ratings and the outcome are asked first."""
    meta = meta or ModalMeta()
    intro: list[Block] = []
    if meta.edit_of is not None and meta.account is not None:
        text = slack_label(texts, loc, "modal_intro_edit", account=meta.account, when=edit_when or "")
        intro.append(SectionBlock(text=text))
    elif meta.account is not None:  # named in the command: shown, carried in private_metadata
        intro.append(SectionBlock(text=slack_label(texts, loc, "modal_account", account=meta.account)))
        intro.append(ContextBlock(elements=[slack_label(texts, loc, "modal_intro")]))
    else:
        intro.append(ContextBlock(elements=[slack_label(texts, loc, "modal_intro")]))
        intro.append(_account_select(texts, loc, None))
    return _modal(texts, loc, tz, meta, intro, stored_answers(initial or {}, tz))


def redrawn_modal(texts: Texts, loc: str, tz: str, view: Mapping[str, Any]) -> View:
    """The open modal drawn again for what it holds now (a rating or the outcome just chosen):
    the same intro, every answer carried over as the input's initial value, the details that
    apply shown, and what a hidden block held kept aside in the metadata."""
    meta = ModalMeta.load(view.get("private_metadata"))
    state = read_state((view.get("state") or {}).get("values") or {})
    answers = {**meta.kept, **state}
    intro: list[Block] = []
    for raw in view.get("blocks") or []:
        if raw.get("type") == "divider":
            break  # the intro ends where the checklist starts
        if raw.get("block_id") == ACCOUNT:
            intro.append(_account_select(texts, loc, state.get(ACCOUNT)))
        elif (block := Block.parse(raw)) is not None:
            intro.append(block)
    return _modal(texts, loc, tz, meta, intro, answers)


def _account_select(texts: Texts, loc: str, chosen: str | None) -> InputBlock:
    select = ExternalDataSelectElement(
        action_id=ACCOUNT,
        placeholder=plain(texts.render(loc, "slack", "account_placeholder"), 150),
        min_query_length=0,
        initial_option=account_option(texts, loc, name=chosen, new=False) if chosen else None,
    )
    return InputBlock(block_id=ACCOUNT, label=slack_label(texts, loc, "account_label"), element=select)


def _modal(
    texts: Texts, loc: str, tz: str, meta: ModalMeta, intro: list[Block], answers: Mapping[str, str | None]
) -> View:
    checklist, shown = checklist_blocks(texts, loc, tz, answers)
    kept = {k: v for k, v in answers.items() if k in KEEPABLE and k not in shown and v}
    return View(
        type="modal",
        callback_id=CALLBACK_DEBRIEF,
        title=plain(texts.render(loc, "slack", "modal_title_edit" if meta.edit_of else "modal_title"), 24),
        submit=plain(texts.render(loc, "slack", "modal_submit"), 24),
        close=plain(texts.render(loc, "slack", "modal_close"), 24),
        private_metadata=replace(meta, kept=kept).dump(),
        blocks=[*intro, *checklist],
    )


@lru_cache(maxsize=64)
def _new_modal_template(texts: Texts, loc: str, tz: str, named: bool) -> dict[str, Any]:
    placeholder = "\0account\0" if named else None
    return debrief_modal(texts, loc, tz, meta=ModalMeta(account=placeholder)).to_dict()


def new_modal(texts: Texts, loc: str, tz: str, meta: ModalMeta) -> dict[str, Any]:
    """The modal for a new debrief as a dict. Its blocks depend only on language and timezone, so
    they are built and validated once (and shared, never changed); the customer's name goes into
    a fresh, escaped first block."""
    template = _new_modal_template(texts, loc, tz, meta.account is not None)
    view = {**template, "blocks": list(template["blocks"]), "private_metadata": meta.dump()}
    if meta.account is not None:
        named = slack_label(texts, loc, "modal_account", account=meta.account)
        view["blocks"][0] = SectionBlock(text=named).to_dict()
    return view


# -- reading a submission back ----------------------------------------------------------------
def submitted_answers(
    view: Mapping[str, Any], meta: ModalMeta, *, texts: Texts, locale: str, tz: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """The submitted answers as the rules settle them (a detail that does not apply, say a block
    left over from a drawing that lost a race, is dropped, never stored) and the pickers' errors."""
    raw: dict[str, Any] = settle(read_state((view.get("state") or {}).get("values") or {}))
    raw["account"] = meta.account or raw.get(ACCOUNT)
    errors: dict[str, str] = {}
    meeting_applies = "next_meeting_at" in form_fields(raw)
    day, clock = raw.pop("next_meeting_at", None), raw.pop(MEETING_TIME, None)
    if not meeting_applies:
        day = clock = None
    if bool(day) != bool(clock):
        missing = MEETING_TIME if day else "next_meeting_at"
        errors[missing] = texts.render(locale, "slack", "time_missing")
    else:
        try:
            raw["next_meeting_at"] = combine_date_time(day, clock, tz=tz)
        except ValueError:  # not what Slack's pickers send: a crafted value
            errors["next_meeting_at"] = texts.render(locale, "slack", "bad_picker")
    return raw, errors


def read_state(values: dict[str, dict[str, dict[str, Any]]]) -> dict[str, str | None]:
    """The submitted modal's state as {block_id: raw value} (options by value, pickers as ISO)."""
    raw: dict[str, str | None] = {}
    for block_id, actions in values.items():
        for element in actions.values():
            kind = element.get("type")
            if kind in ("radio_buttons", "static_select", "external_select"):
                selected = element.get("selected_option") or {}
                raw[block_id] = selected.get("value")
            elif kind == "datepicker":
                raw[block_id] = element.get("selected_date")
            elif kind == "timepicker":
                raw[block_id] = element.get("selected_time")
            else:
                raw[block_id] = element.get("value")
    return raw
