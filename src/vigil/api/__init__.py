"""The JSON API: one router per resource under ``vigil.api.routers``, each a thin shell over
``vigil.app`` (the use cases). ``vigil.server.create_app`` assembles them with the web pages."""
