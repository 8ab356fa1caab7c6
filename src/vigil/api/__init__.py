"""The FastAPI application: one router per resource, authentication, roles."""
