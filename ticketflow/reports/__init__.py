"""Reports over a time range for ops and team leads, from the event log: what happened to
each ticket is read in SQL (:mod:`.facts`), then grouped and summed (:mod:`.summary`) and
drawn (:mod:`.charts`). The API (``GET /api/reports/{report}``) and the CLI
(``ticketflow report``) give the same answer.

May import: vocabulary, infra, db
"""
