"""Short-lived, signed, single-use tokens that name a thread, for links between channels.

A "Continue in Messenger" button carries one in the m.me link's ``ref``; a
Messenger URL button carries one to the website. The signature and expiry
come from itsdangerous; single use is the store's job (it remembers the
token's nonce until the token would have expired anyway).

Messenger allows only letters, digits, ``-``, ``_`` and ``=`` in a ``ref``, and
itsdangerous joins its parts with ``.``, which never occurs inside them, so
the token travels with ``=`` in place of ``.``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from bots.atomic_file import write_atomically
from bots.types import LINK_TOKEN_PREFIX as PREFIX
from bots.types import is_link_token

Purpose = str  # "to_<channel>": where a link continues the thread (a token for one channel is refused by another)
RefusalReason = Literal["malformed", "forged", "expired", "replayed", "mismatched", "gone"]


class LinkRefused(Exception):
    def __init__(self, reason: RefusalReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class LinkClaim:
    thread_id: str
    purpose: Purpose
    nonce: str
    expires_at: float


class LinkTokens:
    def __init__(
        self,
        secret: str,
        ttl_seconds: float,
        clock: Callable[[], float] = time.time,
        *,
        channels: tuple[str, ...] = ("messenger", "web"),
    ) -> None:
        if not secret:
            raise ValueError("link tokens need a secret")
        self.ttl_seconds = ttl_seconds
        self.clock = clock

        class _Signer(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(clock())

        self._serializers = {
            purpose: URLSafeTimedSerializer(secret, salt=f"threadline-link-{purpose}", signer=_Signer)
            for purpose in (f"to_{channel}" for channel in channels)
        }

    def issue(self, thread_id: str, purpose: Purpose) -> str:
        token = self._serializers[purpose].dumps({"t": thread_id, "n": secrets.token_urlsafe(9)})
        return PREFIX + str(token).replace(".", "=")

    def read(self, token: str, purpose: Purpose, *, thread_id: str | None = None) -> LinkClaim:
        """The claim of a genuine, unexpired token for ``purpose`` (and ``thread_id`` when given)."""
        if not is_link_token(token) or len(token) > 250:
            raise LinkRefused("malformed", "not a link token")
        raw = token[len(PREFIX) :].replace("=", ".")
        serializer = self._serializers.get(purpose)
        if serializer is None:
            raise LinkRefused("mismatched", f"no links lead to {purpose.removeprefix('to_')}")
        try:
            # itsdangerous types max_age as int, but compares it with the age in seconds: a float works
            payload, issued = serializer.loads(
                raw,
                max_age=self.ttl_seconds,  # type: ignore[arg-type]
                return_timestamp=True,
            )
        except SignatureExpired:
            raise LinkRefused("expired", "the link has expired") from None
        except BadSignature:
            if not any(self._genuine(other, raw) for other in self._serializers if other != purpose):
                raise LinkRefused("forged", "the link's signature is not ours") from None
            raise LinkRefused("mismatched", f"the link is not meant for {purpose.removeprefix('to_')}") from None
        if (
            not isinstance(payload, dict)
            or not isinstance(payload.get("t"), str)
            or not isinstance(payload.get("n"), str)
        ):
            raise LinkRefused("malformed", "the link's content is not a thread reference")
        if thread_id is not None and payload["t"] != thread_id:
            raise LinkRefused("mismatched", "the link belongs to another conversation")
        return LinkClaim(payload["t"], purpose, payload["n"], issued.timestamp() + self.ttl_seconds)

    def _genuine(self, purpose: Purpose, raw: str) -> bool:
        try:
            self._serializers[purpose].loads(raw)
        except BadSignature:
            return False
        return True


def stored_secret(path: Path) -> str:
    """The secret in ``path``, created (random, readable by this user only) the first time.

    So a server without a configured secret still signs links that stay
    valid across restarts. Servers sharing one store need one secret: set
    ``linking.secret`` then. The file appears whole or not at all (written
    aside, then linked into place), so a crash cannot leave an empty secret.
    """
    try:
        existing = path.read_text(encoding="utf-8").strip()
        if existing:
            return existing
        path.unlink()  # an empty file from an older, non-atomic write: make a new secret
    except FileNotFoundError:
        pass
    write_atomically(path, secrets.token_urlsafe(32).encode(), replace=False)  # or keep theirs
    return path.read_text(encoding="utf-8").strip()
