"""Plumbing every process shares: settings (:mod:`.settings`), clients for Redis
(:mod:`.redis_client`) and Temporal (:mod:`.temporal`), request deadlines
(:mod:`.deadlines`), JSON logs (:mod:`.logs`), traces (:mod:`.tracing`), the worker's
liveness (:mod:`.heartbeat`), progress bars (:mod:`.progress`) and Standard Webhooks
signatures (:mod:`.signing`). Nothing here knows what a ticket is, beyond its id in a log line.

May import: ids
"""
