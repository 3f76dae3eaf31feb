"""The web application (issue 16): server-rendered pages for people, on the same FastAPI app as
the JSON API (docs/web.md). `register_web_routes` is the one call app/api.py makes."""

from app.web.pages import register_web_routes

__all__ = ["register_web_routes"]
