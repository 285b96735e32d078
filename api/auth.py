"""Authentication: one dependency turns ``Authorization: Bearer <credential>`` (an API key,
or a customer token) into a :class:`~ticketflow.identity.principals.Principal`; :func:`allow` admits
the roles a route names.

Keys are looked up by their SHA-256 and the answer (a principal, or "no such live key") is
kept in process for ``Settings.key_cache_seconds``: a revoked key stops working within that
long (10 s by default) in every API process, and a key's ``last_used_at`` is written at most
once per lookup, and at most once a minute.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import State, get_state
from api.state import AppState
from ticketflow.errors import Forbidden, RateLimited, Unauthenticated
from ticketflow.identity import customer_tokens, ratelimit
from ticketflow.identity.principals import Principal, Role, looks_like_key
from ticketflow.infra.settings import Settings

bearer = HTTPBearer(auto_error=False, scheme_name="bearer",
                    description="An API key (`tfk_...`) or a customer token: "
                                "`Authorization: Bearer <credential>`")


def rate_limit(settings: Settings, role: Role) -> ratelimit.Limit:
    s = settings
    per_minute, burst = {
        Role.ADMIN: (s.rate_limit_admin_per_minute, s.rate_limit_admin_burst),
        Role.AGENT: (s.rate_limit_agent_per_minute, s.rate_limit_agent_burst),
        Role.INTEGRATION: (s.rate_limit_integration_per_minute, s.rate_limit_integration_burst),
        Role.CUSTOMER: (s.rate_limit_customer_per_minute, s.rate_limit_customer_burst),
    }[role]
    return ratelimit.Limit(per_minute=per_minute, burst=burst)


async def authenticate(
    request: Request,
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller, within its rate limit (``429 RATE_LIMITED`` past it); the verdict is kept
    on the request for ``api.middleware.RateLimitHeaders``."""
    principal, _ = await admit(request, state, credentials)
    return principal


async def admit(request: Request, state: AppState, credentials: HTTPAuthorizationCredentials | None,
                *, prefetch: str | None = None) -> tuple[Principal, bytes | None]:
    """:func:`authenticate`; with ``prefetch``, that Redis key's value too, read in the rate
    limit's round trip (what the caller asks for next, when the route knows it)."""
    principal = await _identify(state, credentials)
    caller, limit = f"{principal.kind}:{principal.id}", rate_limit(state.settings, principal.role)
    prefetched = None
    if prefetch is None:
        verdict = await ratelimit.take(state.redis_batch, caller, limit)
    else:
        verdict, prefetched = await ratelimit.take_and_get(state.redis_batch, caller, limit, prefetch)
    request.state.ratelimit = verdict
    request.state.principal = principal  # for the access log
    if not verdict.allowed:
        raise RateLimited(retry_after=verdict.retry_after)
    return principal, prefetched


async def admit_request(request: Request, *, prefetch: str
                        ) -> tuple[AppState, Principal, bytes | None]:
    """:func:`admit` without dependencies, for a route that names none (``openapi_extra=BEARER``
    declares its credential): the app's state, the caller, and ``prefetch``'s value."""
    state = await get_state(request)
    principal, prefetched = await admit(request, state, await bearer(request), prefetch=prefetch)
    return state, principal, prefetched


async def _identify(state: AppState,
                    credentials: HTTPAuthorizationCredentials | None) -> Principal:
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


# The OpenAPI security requirement a dependency on ``bearer`` declares, for routes without one.
BEARER: dict[str, Any] = {"security": [{"bearer": []}]}
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
