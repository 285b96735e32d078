import pytest
from pydantic import ValidationError

from api.schemas import TicketCreate


def test_defaults_and_whitespace() -> None:
    t = TicketCreate.model_validate({"user_id": " u1 ", "subject": "s", "content": "c"})
    assert (t.user_id, t.channel, t.user_level, t.priority, t.metadata) == ("u1", "web", 0, None, {})


@pytest.mark.parametrize("bad", [
    {"user_id": "u", "subject": "s", "content": "c", "user_level": True},
    {"user_id": "u", "subject": "s", "content": "c", "user_level": 2.5},
    {"user_id": 1, "subject": "s", "content": "c"},
])
def test_no_silent_coercion(bad: dict) -> None:
    with pytest.raises(ValidationError):
        TicketCreate.model_validate(bad)
