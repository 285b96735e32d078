"""ticketflow: helpdesk tickets as durable Temporal workflows — the core, with no HTTP and no
workflow code (docs/architecture.md).

The modules at this level are the vocabulary every package shares: the domain types
(:mod:`.domain`), the ticket document the API shows (:mod:`.documents`), ticket ids
(:mod:`.ids`), durations (:mod:`.durations`), the error base (:mod:`.errors`), failures
that retrying cannot fix (:mod:`.failures`), what is accepted (:mod:`.validation`) and the
field types of bodies (:mod:`.fields`); and the command line (:mod:`.cli`). Each concept has
a package: :mod:`.infra`, :mod:`.sla`, :mod:`.tagging`, :mod:`.db`, :mod:`.assignment`,
:mod:`.flows`, :mod:`.tickets`, :mod:`.identity`, :mod:`.devstack`.

Each package's docstring ends with what it may import of ticketflow, lower packages only;
``tests/unit/test_layers.py`` holds them.

May import: infra, ids, sla.clocks
"""
