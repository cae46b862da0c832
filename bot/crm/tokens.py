"""CRM tokens at rest: Fernet ciphertext under COACH_SECRET_KEY, and the token set they hold."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken

from storage.errors import CoachError

REFRESH_AHEAD = timedelta(minutes=5)  # refresh a token this long before it expires


class TokenUnreadable(CoachError):
    """The stored tokens do not decrypt under this COACH_SECRET_KEY (the key changed)."""


@dataclass(frozen=True)
class Credentials:
    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None  # None: unknown (Salesforce says nothing; refreshed on 401)
    instance_url: str | None = None

    def due_for_refresh(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at - REFRESH_AHEAD

    def renewed(
        self,
        access_token: str,
        *,
        expires_in: float | None,
        now: datetime,
        refresh_token: str | None = None,
        instance_url: str | None = None,
    ) -> Credentials:
        return replace(
            self,
            access_token=access_token,
            refresh_token=refresh_token or self.refresh_token,
            expires_at=now + timedelta(seconds=expires_in) if expires_in else None,
            instance_url=instance_url or self.instance_url,
        )


class TokenBox:
    """Seals and opens Credentials (and short-lived install grants) with the one Fernet key."""

    def __init__(self, key: str) -> None:
        self.fernet = Fernet(key.encode())

    def seal(self, creds: Credentials) -> str:
        data = asdict(creds)
        data["expires_at"] = creds.expires_at.isoformat() if creds.expires_at else None
        return self.fernet.encrypt(json.dumps(data).encode()).decode()

    def open(self, sealed: str) -> Credentials:
        try:
            data = json.loads(self.fernet.decrypt(sealed.encode()))
        except (InvalidToken, ValueError):
            raise TokenUnreadable("stored CRM tokens do not decrypt with COACH_SECRET_KEY") from None
        expires = data.get("expires_at")
        return Credentials(
            access_token=str(data["access_token"]),
            refresh_token=data.get("refresh_token"),
            expires_at=datetime.fromisoformat(expires).astimezone(UTC) if expires else None,
            instance_url=data.get("instance_url"),
        )

    def sign(self, payload: dict[str, object]) -> str:
        """An opaque, tamper-proof value for a URL (an install grant, an OAuth state)."""
        return self.fernet.encrypt(json.dumps(payload).encode()).decode()

    def verify(self, token: str, *, max_age: int) -> dict[str, object] | None:
        """The payload of `sign`, or None when it is forged or older than max_age seconds."""
        try:
            data = json.loads(self.fernet.decrypt(token.encode(), ttl=max_age))
        except (InvalidToken, ValueError):
            return None
        return data if isinstance(data, dict) else None
