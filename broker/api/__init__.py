"""HTTP only: routes, request parsing, content negotiation, ProblemDetails."""

from .app import create_app

__all__ = ["create_app"]
