"""Authentication: one dependency turns ``Authorization: Bearer <credential>`` (an API key,
or a customer token) into a :class:`~ticketflow.identity.Principal`; :func:`allow` admits
the roles a route names.

Keys are looked up by their SHA-256 and the answer (a principal, or "no such live key") is
kept in process for ``Settings.key_cache_seconds``: a revoked key stops working within that
long (10 s by default) in every API process, and a key's ``last_used_at`` is written at most
once per lookup, and at most once a minute.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import State
from ticketflow import customer_tokens
from ticketflow.errors import Forbidden, Unauthenticated
from ticketflow.identity import Principal, Role, looks_like_key

bearer = HTTPBearer(auto_error=False, scheme_name="bearer",
                    description="An API key (`tfk_...`) or a customer token: "
                                "`Authorization: Bearer <credential>`")


async def authenticate(
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None:
        raise Unauthenticated()
    secret = credentials.credentials
    if looks_like_key(secret):
        principal = await state.keys.principal(secret)
        if principal is None:
            raise Unauthenticated("unknown or revoked API key")
        return principal
    customer = customer_tokens.verify(secret, state.settings.customer_token_secrets)
    if customer is None:
        raise Unauthenticated("unknown, invalid or expired credential")
    return customer


Authenticated = Annotated[Principal, Depends(authenticate)]


def allow(*roles: Role) -> Any:
    """A route dependency admitting callers of these roles only (others: 403 FORBIDDEN)."""

    async def check(principal: Authenticated) -> Principal:
        if principal.role not in roles:
            raise Forbidden(f"the {principal.role} role may not do this")
        return principal

    return Depends(check)


STAFF = (Role.ADMIN, Role.AGENT, Role.INTEGRATION)
EVERYONE = (*STAFF, Role.CUSTOMER)
