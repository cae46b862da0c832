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
class Reply:
    text: str = ""
    title: str | None = None
    items: tuple[str, ...] = ()
    groups: tuple[ItemGroup, ...] = ()  # shown after `items`
    buttons: tuple[Button, ...] = ()
    kind: str = "info"  # info | question | error | tips | saved | history | help | recap
    expect: str | None = None  # the question this reply asks: "<step>@<version>", echoed by buttons
    attachment: FileAttachment | None = None
    meta: dict[str, object] = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "title": self.title,
            "text": self.text,
            "items": list(self.items),
            "groups": [{"title": g.title, "items": list(g.items)} for g in self.groups],
            "buttons": [{"label": b.label, "value": b.value, **({"url": b.url} if b.url else {})}
                        for b in self.buttons],
            "expect": self.expect,
        }


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
        meta=dict(meta),
    )
