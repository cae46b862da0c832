"""Neutral messages the dialogs return; each channel renders them (HTML, Block Kit, Adaptive Cards).

All text here is plain: no markup. Channels escape it with their one escaping function.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Button:
    label: str
    value: str  # what the channel sends back as the person's answer when it is pressed


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
    kind: str = "info"  # info | question | error | tips | saved | history | help
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
            "buttons": [{"label": b.label, "value": b.value} for b in self.buttons],
            "expect": self.expect,
        }
