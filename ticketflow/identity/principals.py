"""Who calls: roles, the principal a credential stands for, and API key secrets.

An API key is ``tfk_`` followed by 43 characters of URL-safe base64 (32 random bytes). Only
its SHA-256 is stored; the secret is shown once, at creation. Pure: no I/O here.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

KEY_PREFIX = "tfk_"
KEY_ID_PREFIX = "key_"
_SECRET_BYTES = 32


class Role(StrEnum):
    ADMIN = "admin"
    AGENT = "agent"  # bound to one agent id
    INTEGRATION = "integration"  # a backend creating tickets on behalf of its users
    CUSTOMER = "customer"  # a short-lived token for one user_id (never an API key)


KEY_ROLES = (Role.ADMIN, Role.AGENT, Role.INTEGRATION)


class PrincipalKind(StrEnum):
    API_KEY = "api_key"
    CUSTOMER_TOKEN = "customer_token"


@dataclass(frozen=True)
class Principal:
    """The caller a credential stands for."""

    kind: PrincipalKind
    id: str  # stable for the caller: the key's id, or the customer's user_id
    role: Role
    key_id: str  # the key, or for a customer token the key that issued it
    agent_id: str | None = None  # agent keys only
    user_id: str | None = None  # customer tokens only

    @property
    def actor(self) -> str:
        """Who an event says did it: an agent by its agent id, others by kind and id."""
        if self.role == Role.AGENT and self.agent_id:
            return self.agent_id
        if self.role == Role.CUSTOMER:
            return f"customer:{self.user_id}"
        return f"{self.role}:{self.key_id}"


def new_key_id() -> str:
    return KEY_ID_PREFIX + secrets.token_hex(8)


def new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(_SECRET_BYTES)


def key_hash(secret: str) -> str:
    """What is stored of a key: its SHA-256, hex (a 256-bit random secret needs no slow hash)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_key(secret: str) -> bool:
    return secret.startswith(KEY_PREFIX) and 16 <= len(secret) <= 128
