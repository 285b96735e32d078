"""The PostgreSQL read model: tables (:mod:`.models`), the engine and its deadlines
(:mod:`.engine`), migrations (:mod:`.migrate`), the ticket repository (:mod:`.repository`),
list cursors (:mod:`.cursors`), idempotency keys (:mod:`.idempotency`) and submission
origins (:mod:`.origins`).

May import: vocabulary, infra, tagging
"""
