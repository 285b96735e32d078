"""Customer tokens: short-lived JWTs (HS256) that act as one ``user_id``.

Signed with the first of ``Settings.customer_token_secrets`` and verified against any of them,
so a signing secret is rotated by putting the new one first and dropping the old one once the
longest-lived token it signed has expired (``customer_token_max_ttl_seconds``). Each token
names its secret by a fingerprint (``kid``), and the key that issued it (``iss_key``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from ticketflow.identity.principals import Principal, PrincipalKind, Role

ALGORITHM = "HS256"
AUDIENCE = "ticketflow:customer"
ISSUER = "ticketflow"
MIN_SECRET_LENGTH = 32


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def issue(*, user_id: str, ttl_seconds: int, secret: str, issuer_key_id: str,
          now: datetime | None = None) -> IssuedToken:
    now = now or datetime.now(UTC)
    expires_at = (now + timedelta(seconds=ttl_seconds)).replace(microsecond=0)
    claims = {"sub": user_id, "aud": AUDIENCE, "iss": ISSUER, "iat": int(now.timestamp()),
              "exp": int(expires_at.timestamp()), "iss_key": issuer_key_id}
    token = jwt.encode(claims, secret, algorithm=ALGORITHM,
                       headers={"kid": fingerprint(secret)})
    return IssuedToken(token, expires_at)


def verify(token: str, secrets: list[str]) -> Principal | None:
    """The customer a valid, unexpired token stands for; None for anything else."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError:
        return None
    secret = next((s for s in secrets if fingerprint(s) == kid), None)
    if secret is None:
        return None
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], audience=AUDIENCE,
                            issuer=ISSUER, options={"require": ["exp", "sub", "iat"]})
    except jwt.PyJWTError:
        return None
    user_id, issuer = claims.get("sub"), claims.get("iss_key", "")
    if not isinstance(user_id, str) or not user_id or not isinstance(issuer, str):
        return None
    return Principal(kind=PrincipalKind.CUSTOMER_TOKEN, id=user_id, role=Role.CUSTOMER,
                     key_id=issuer, user_id=user_id)
