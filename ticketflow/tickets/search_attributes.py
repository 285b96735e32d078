"""The custom search attributes ops use to find tickets in the Temporal Web UI."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

TICKET_STATUS = SearchAttributeKey.for_keyword("TicketStatus")
TICKET_PRIORITY = SearchAttributeKey.for_keyword("TicketPriority")
TICKET_QUEUE = SearchAttributeKey.for_keyword("TicketQueue")
ASSIGNED_AGENT = SearchAttributeKey.for_keyword("AssignedAgent")
CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
USER_LEVEL = SearchAttributeKey.for_int("UserLevel")
TICKET_TAGS = SearchAttributeKey.for_keyword_list("TicketTags")
FLOW_NAME = SearchAttributeKey.for_keyword("FlowName")
FLOW_VERSION = SearchAttributeKey.for_keyword("FlowVersion")  # the flow's content hash
SLA_BREACHED = SearchAttributeKey.for_bool("SlaBreached")
ASSIGNMENT_MODE = SearchAttributeKey.for_keyword("AssignmentMode")  # normal, degraded

ALL = (TICKET_STATUS, TICKET_PRIORITY, TICKET_QUEUE, ASSIGNED_AGENT, CUSTOMER_ID, USER_LEVEL,
       TICKET_TAGS, FLOW_NAME, FLOW_VERSION, SLA_BREACHED, ASSIGNMENT_MODE)

# Names as the `temporal` CLI and the admin tools spell the types.
CLI_TYPES = {"KEYWORD": "Keyword", "INT": "Int", "KEYWORD_LIST": "KeywordList", "BOOL": "Bool"}


def cli_flags() -> list[str]:
    """``--search-attribute Name=Type`` pairs for ``temporal server start-dev``."""
    flags: list[str] = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={CLI_TYPES[key.indexed_value_type.name]}"]
    return flags
