"""The send path for messages the coach starts itself (nudges, prompts, digests).

Each channel registers one Sender for its platform in `app[SENDERS]`; the scheduler looks up the
person's platform and calls `send`. Senders render the neutral replies with their own escaping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from aiohttp import web

from dialogs.messages import FileAttachment, Reply
from storage.errors import CoachError
from storage.models import Person


class DeliveryError(CoachError):
    """A send failed. `retry_after` (seconds) when the platform said when to retry (429);
    `permanent` when retrying cannot help (bot removed, user deactivated, 403/404)."""

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False,
                 unreachable: bool = False) -> None:
        super().__init__(message, retry_after=retry_after, permanent=permanent, unreachable=unreachable)
        self.retry_after = retry_after
        self.permanent = permanent
        self.unreachable = unreachable  # the person can't be reached at all: mark them, stop trying


@dataclass(frozen=True)
class Outgoing:
    replies: list[Reply]
    attachments: list[FileAttachment] = field(default_factory=list)


class Sender(Protocol):
    platform: str

    async def send(self, *, person: Person, message: Outgoing) -> None:
        """Deliver to the person's direct conversation; raise DeliveryError on failure."""


SENDERS = web.AppKey("senders", dict[str, Sender])


def register_sender(app: web.Application, sender: Sender) -> None:
    app.setdefault(SENDERS, {})
    app[SENDERS][sender.platform] = sender


def to_outgoing(replies: list[Reply]) -> Outgoing:
    """The replies as one message, with the files some of them carry lifted into attachments."""
    return Outgoing(replies=replies, attachments=[r.attachment for r in replies if r.attachment])
