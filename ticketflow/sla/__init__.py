"""SLAs: the clocks (:mod:`.clocks`), policies from ``flows/config/sla.yaml`` (:mod:`.policies`)
and what a breach calls for (:mod:`.rules`). Import the submodules directly.
"""
