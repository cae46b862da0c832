"""The project's one exception base and its small subclasses (shared by bot, dialogs, storage)."""

from __future__ import annotations


class CoachError(Exception):
    """Base of every error Closing Coach raises on purpose."""

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.details.items())
        return f"{type(self).__name__}({self.message!r}{extra})"


class ConfigError(CoachError):
    """app.yaml or the environment is invalid; the message names the file and the key."""


class NotFound(CoachError):
    """A row that the caller expected does not exist (or is not theirs to see)."""


class Forbidden(CoachError):
    """The caller may not see or change this row."""


class EditWindowClosed(CoachError):
    """The debrief is older than the edit window."""
