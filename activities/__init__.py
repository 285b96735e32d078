"""Temporal activities: thin adapters from the workflow to the core and to I/O."""
