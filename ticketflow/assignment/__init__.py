"""Agent assignment: live pressure, a weighted consistent-hash ring, bounded loads.

- :mod:`.pressure` — how busy an agent is, and the weight it keeps;
- :mod:`.ring` — the weighted consistent-hash ring keyed by customer;
- :mod:`.policy` — the pure part: eligibility, ring order, bounds, hints;
- :mod:`.store` — live load in Redis, and the atomic pick-and-reserve;
- :mod:`.decision` — the one decision: ranking, hints, reservation, the recorded reason;
- :mod:`.modes` — each queue's mode, normal or degraded, from its agents' live loads.

May import: vocabulary, infra, db
"""
