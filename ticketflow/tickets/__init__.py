"""A ticket's life outside its workflow: what the API and activities do to tickets.

- :mod:`.intake` — POST /api/tickets: dedupe (:mod:`.dedupe`), Idempotency-Keys
  (:mod:`.idempotency`), the workflow's start; its failures in :mod:`.intake_errors`;
- :mod:`.reads` — cache (:mod:`.cache`), then PostgreSQL, then Temporal;
- :mod:`.actions` — actions as updates of the workflow; the state machine in :mod:`.lifecycle`;
- :mod:`.ticket_workflow` — the workflow's public face (type, input, updates, signals,
  queries), so the core calls it typed without importing workflow code;
- :mod:`.search_attributes` — what the Temporal UI finds tickets by;
- :mod:`.capacity` — waking tickets that wait for an agent;
- :mod:`.webhooks` — signed deliveries of ticket events;
- :mod:`.invariants`, :mod:`.reconcile`, :mod:`.redis_repair` — the agreement between
  workflow, row, events and Redis: checked, and repaired where a workflow cannot.

May import: vocabulary, infra, sla, tagging, db, assignment, flows
"""
