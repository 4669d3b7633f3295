"""The web layer: the Starlette app factory and the HTTP endpoints it serves."""
