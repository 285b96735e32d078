"""Customer tokens: issued by an integration (or admin) key, acting as one ``user_id``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from api.auth import allow
from api.deps import State
from api.errors import Unavailable
from api.schemas import CustomerTokenCreate, CustomerTokenRead
from ticketflow.errors import InvalidParams
from ticketflow.identity import customer_tokens
from ticketflow.identity.principals import Principal, Role

router = APIRouter(prefix="/api/customer-tokens", tags=["identity"])


@router.post("", status_code=201, response_model=CustomerTokenRead)
async def create_customer_token(
    body: CustomerTokenCreate, state: State,
    principal: Annotated[Principal, allow(Role.ADMIN, Role.INTEGRATION)],
) -> CustomerTokenRead:
    """A signed token acting as ``user_id`` until ``expires_at`` (at most
    ``customer_token_max_ttl_seconds``, 24 h by default)."""
    settings = state.settings
    if body.ttl_seconds > settings.customer_token_max_ttl_seconds:
        raise InvalidParams([{"field": "ttl_seconds", "message":
                              f"at most {settings.customer_token_max_ttl_seconds}"}])
    if not settings.customer_token_secrets:
        raise Unavailable("customer tokens are not configured (CUSTOMER_TOKEN_SECRETS)")
    issued = customer_tokens.issue(user_id=body.user_id, ttl_seconds=body.ttl_seconds,
                                   secret=settings.customer_token_secrets[0],
                                   issuer_key_id=principal.key_id)
    return CustomerTokenRead(token=issued.token, expires_at=issued.expires_at)
