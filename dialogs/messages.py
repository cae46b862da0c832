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

    def submitted(self, text: str) -> str:
        return f"{self.command} {text.strip()}"

    def as_dict(self) -> dict[str, object]:
        return {"command": self.command, "text": self.text, "label": self.label, "button": self.button,
                "title": self.title, "hint": self.hint, "limit": self.limit}


@dataclass(frozen=True)
class Reply:
    text: str = ""
    title: str | None = None
    items: tuple[str, ...] = ()
    buttons: tuple[Button, ...] = ()
    kind: str = "info"  # info | question | error | tips | saved | history | help
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
            "buttons": [{"label": b.label, "value": b.value} for b in self.buttons],
            "expect": self.expect,
        }
        if self.form is not None:
            body["form"] = self.form.as_dict()
        return body
