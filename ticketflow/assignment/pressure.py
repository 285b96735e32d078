"""Agent pressure and effective weight.

For an agent with ``open`` tickets out of ``capacity`` and an exponentially weighted
moving average ``rt`` of first-response time (seconds)::

    utilisation u = open / capacity                       (1 when capacity is 0)
    slowness    s = min(rt / target_response, 4) / 4      (0 for an agent with no history)
    pressure    P = load_share * u + (1 - load_share) * s  in [0, 1]
    weight      W = base_weight * max((1 - P) ** gamma, floor)

So an idle, fast agent keeps its whole base weight, and the weight falls
quadratically as tickets pile up or replies slow down, never quite to zero (an agent
that is merely slow still takes its share of affinity when others are full).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PressureModel:
    target_response_s: float = 300.0
    load_share: float = 0.7
    gamma: float = 2.0
    floor: float = 0.05
    ewma_alpha: float = 0.2

    def pressure(self, open_tickets: int, capacity: int, response_ewma_s: float | None) -> float:
        utilisation = min(open_tickets / capacity, 1.0) if capacity > 0 else 1.0
        slowness = min((response_ewma_s or 0.0) / self.target_response_s, 4.0) / 4.0
        return self.load_share * utilisation + (1.0 - self.load_share) * slowness

    def effective_weight(self, base_weight: float, pressure: float) -> float:
        return base_weight * max((1.0 - pressure) ** self.gamma, self.floor)

    def ewma(self, previous: float | None, sample: float) -> float:
        return sample if previous is None else self.ewma_alpha * sample + (1 - self.ewma_alpha) * previous
