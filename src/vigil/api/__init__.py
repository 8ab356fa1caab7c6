"""The web API: ``create_app`` builds the FastAPI application ``vigil serve`` runs."""

from vigil.api.app import create_app

__all__ = ["create_app"]
