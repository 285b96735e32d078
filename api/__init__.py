"""The HTTP facade: FastAPI app, routes, schemas and error mapping. No business rules."""
