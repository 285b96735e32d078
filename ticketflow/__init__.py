"""ticketflow: helpdesk tickets as durable Temporal workflows."""
