"""PostgreSQL read model: tables, engine and the repository functions."""
