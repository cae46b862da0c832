"""Neutral messages the dialogs return; each channel renders them (HTML, Block Kit, Adaptive Cards).

All text here is plain: no markup. Channels escape it with their one escaping function.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Button:
    label: str
    value: str  # what the channel sends back as the person's answer when it is pressed
    url: str | None = None  # a link button instead (a mailto: draft): the channel opens it, sends nothing


@dataclass(frozen=True)
class ItemGroup:
    """A titled list inside a reply (help's commands by topic); channels show the title as a
    heading over its items."""

    title: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class FileAttachment:
    """A file sent with a reply (the digest chart, an export); channels upload or inline it."""

    filename: str
    content: bytes
    mime_type: str
    title: str = ""


@dataclass(frozen=True)
class TextForm:
    """Text the person may send as it is or edit first (the digest's proposed action point).

    A channel shows `text` in an input under `label` with a `button` (Slack: a button opening a
    modal titled `title`); what it sends back is `f"{command} {edited text}"`, as if typed.
    """

    command: str
    text: str
    label: str
    button: str
    title: str
    hint: str = ""
    limit: int = 500  # characters the input takes

    def as_dict(self) -> dict[str, object]:
        return {"command": self.command, "text": self.text, "label": self.label, "button": self.button,
                "title": self.title, "hint": self.hint, "limit": self.limit}


@dataclass(frozen=True)
class Reply:
    text: str = ""
    title: str | None = None
    items: tuple[str, ...] = ()
    groups: tuple[ItemGroup, ...] = ()  # shown after `items`
    buttons: tuple[Button, ...] = ()
    kind: str = "info"  # info | question | error | tips | saved | history | help | recap
    expect: str | None = None  # the question this reply asks: "<step>@<version>", echoed by buttons
    attachment: FileAttachment | None = None
    form: TextForm | None = None
    meta: dict[str, object] = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict[str, object]:
        body: dict[str, object] = {
            "kind": self.kind,
            "title": self.title,
            "text": self.text,
            "items": list(self.items),
            "groups": [{"title": g.title, "items": list(g.items)} for g in self.groups],
            "buttons": [{"label": b.label, "value": b.value, **({"url": b.url} if b.url else {})}
                        for b in self.buttons],
            "expect": self.expect,
        }
        if self.form is not None:
            body["form"] = self.form.as_dict()
        return body


def reply_record(reply: Reply) -> dict[str, object]:
    """The reply as JSON to store (an outbox row sends it later): its file is left out (see
    dialogs.answers), and of its meta only the plain values a channel reads (an edit button's id)."""
    meta = {k: v for k, v in reply.meta.items() if v is None or isinstance(v, str | int | float | bool)}
    return {**reply.as_dict(), "meta": meta}


def reply_from_record(record: dict[str, object]) -> Reply:
    """The reply `reply_record` stored."""
    buttons = record.get("buttons") or []
    items = record.get("items") or []
    groups = record.get("groups") or []
    meta = record.get("meta") or {}
    assert isinstance(buttons, list) and isinstance(items, list) and isinstance(meta, dict)
    assert isinstance(groups, list)
    return Reply(
        text=str(record.get("text") or ""),
        title=None if record.get("title") is None else str(record["title"]),
        items=tuple(str(i) for i in items),
        groups=tuple(ItemGroup(str(g["title"]), tuple(str(i) for i in g["items"])) for g in groups),
        buttons=tuple(Button(str(b["label"]), str(b["value"]), b.get("url") or None) for b in buttons),
        kind=str(record.get("kind") or "info"),
        expect=None if record.get("expect") is None else str(record["expect"]),
        form=_form_from_record(record.get("form")),
        meta=dict(meta),
    )


def _form_from_record(record: object) -> TextForm | None:
    if not isinstance(record, dict):
        return None
    return TextForm(
        command=str(record["command"]), text=str(record["text"]), label=str(record["label"]),
        button=str(record["button"]), title=str(record["title"]), hint=str(record.get("hint") or ""),
        limit=int(record.get("limit") or 500),
    )
