"""The `vigil` command's groups, one module per resource; each is a thin shell over the library.

Each module exposes ``app`` (a Typer group) or ``register(app)`` for top-level commands.
"""
