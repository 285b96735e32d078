"""What CEL conditions and templates see."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

# A representative context, used to check expressions and templates at compile time.
SAMPLE: dict[str, Any] = {
    "ticket": {"id": "01J0000000000000000000000", "user_id": "u", "subject": "s", "content": "c",
               "channel": "web", "user_level": 1, "priority": "normal", "queue": "general",
               "tags": ["refund"], "sla": "standard", "metadata": {}, "created_at": "",
               "status": "processing"},
    "nlp": {"language": "en", "intent": "refund", "intent_confidence": 0.9, "tags": ["refund"],
            "sentiment": "neutral", "urgent": False},
    "customer": {"id": "u", "level": 1},
    "now": datetime(2026, 1, 1, tzinfo=UTC),
}
VARIABLES = tuple(SAMPLE)


def flow_context(*, ticket: dict[str, Any], nlp: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Build the context from the ticket's fields, the NLP results and the workflow's clock."""
    t = {**SAMPLE["ticket"], **ticket}
    t["tags"] = list(t.get("tags") or [])
    return {"ticket": t, "nlp": {**SAMPLE["nlp"], **nlp},
            "customer": {"id": t["user_id"], "level": t["user_level"]}, "now": now}
