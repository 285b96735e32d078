"""An action's update is sent again only when the server's answer says it was not applied."""

from __future__ import annotations

import pytest
from temporalio.service import RPCError, RPCStatusCode

from ticketflow.tickets.actions import not_applied


@pytest.mark.parametrize(("status", "message", "again"), [
    (RPCStatusCode.RESOURCE_EXHAUSTED,
     "limit on number of concurrent in-flight updates has been reached (10)", True),
    (RPCStatusCode.FAILED_PRECONDITION, "Workflow task not found", True),
    # The server's update registry was cleared before the workflow saw the update.
    (RPCStatusCode.UNAVAILABLE, "workflow update was aborted", True),
    (RPCStatusCode.UNAVAILABLE, "Workflow Update was aborted.", True),  # older servers
    # The server could not be reached: whether it was applied is not known.
    (RPCStatusCode.UNAVAILABLE, "error trying to connect: tcp connect error", False),
    (RPCStatusCode.NOT_FOUND, "workflow update was aborted by closing workflow", False),
    (RPCStatusCode.DEADLINE_EXCEEDED, "context deadline exceeded", False),
])
def test_only_an_update_the_server_did_not_apply_is_sent_again(
        status: RPCStatusCode, message: str, again: bool) -> None:
    assert not_applied(RPCError(message, status, b"")) is again
