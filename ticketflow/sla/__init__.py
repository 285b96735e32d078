"""SLAs: the clocks (:mod:`.clocks`) and what a breach calls for (:mod:`.rules`). The
policies are read from the flows folder by :mod:`ticketflow.flows.sla_policies`.
Import the submodules directly.

May import: vocabulary, infra
"""
