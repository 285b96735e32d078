"""Duplicate-submission detection: one fingerprint, one atomic claim in Redis.

The API consults :func:`claim` before it starts a workflow (a fast, synchronous
verdict for the client) and the workflow's dedupe activity calls it again with
its own ticket id, so a ticket whose claim was lost still cannot proceed as a
duplicate. Whoever holds the key owns the fingerprint; the owner asking again
just refreshes the window.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

KEY_PREFIX = "tf:dedupe:"

# SET NX, else: refresh the TTL when the caller already owns the key. Returns the owner.
_CLAIM = """
local owner = redis.call('GET', KEYS[1])
if not owner then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return ARGV[1]
end
if owner == ARGV[1] then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return owner
"""

# Delete only if still ours: a failed start must not free somebody else's claim.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Text as a person reads it: NFKC-normalised, without invisible format characters
    (Unicode category Cf: zero-width space and joiner, soft hyphen, BOM, direction marks),
    whitespace collapsed, case-folded."""
    visible = "".join(c for c in unicodedata.normalize("NFKC", text) if unicodedata.category(c) != "Cf")
    return _SPACE.sub(" ", visible).strip().casefold()


def identity(user_id: str) -> str:
    """A customer id compared exactly, after NFC only: folding case or width could join two
    customers into one."""
    return unicodedata.normalize("NFC", user_id)


def scope(user_id: str, key_id: str | None = None) -> str:
    """Whose submissions are compared (and whose Idempotency-Keys are one namespace): a
    customer's own (``key_id`` None), or a key's on behalf of that customer, so that a
    repeat never names a ticket its caller may not read."""
    return identity(user_id) if key_id is None else f"key:{key_id}:{identity(user_id)}"


def fingerprint(scope: str, subject: str, content: str) -> str:
    """``scope`` as :func:`scope` gives it (a bare user id is its customer's own scope)."""
    material = "\x1f".join((identity(scope), normalise(subject), normalise(content)))
    return hashlib.sha256(material.encode()).hexdigest()


async def claim(redis: Redis, fp: str, ticket_id: str, ttl_seconds: int) -> str:
    """Claim ``fp`` for ``ticket_id``; return the ticket that owns it (maybe ours)."""
    owner = await redis.eval(_CLAIM, 1, KEY_PREFIX + fp, ticket_id, ttl_seconds)
    return owner.decode() if isinstance(owner, bytes) else str(owner)


def claim_in(pipe: Pipeline, fp: str, ticket_id: str, ttl_seconds: int) -> None:
    """:func:`claim`, queued on a pipeline (its answer, the owner, among the pipeline's)."""
    pipe.eval(_CLAIM, 1, KEY_PREFIX + fp, ticket_id, ttl_seconds)


async def release(redis: Redis, fp: str, ticket_id: str) -> bool:
    return bool(await redis.eval(_RELEASE, 1, KEY_PREFIX + fp, ticket_id))
