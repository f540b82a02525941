"""The NGSI-LD error types (clause 5.5.2), raised by the domain and rendered by the API.

Every failure a client can cause is one of these, so the API layer never has to guess a
status code and nothing reaches the client as a bare 500.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "ERROR_BASE",
    "AlreadyExists",
    "BadRequestData",
    "InternalError",
    "InvalidRequest",
    "LdContextNotAvailable",
    "NgsiError",
    "NonexistentTenant",
    "OperationNotSupported",
    "ResourceNotFound",
    "TooManyResults",
]

ERROR_BASE = "https://uri.etsi.org/ngsi-ld/errors/"


class NgsiError(Exception):
    """An error with its ProblemDetails type, title and HTTP status."""

    type_name: ClassVar[str] = "InternalError"
    title: ClassVar[str] = "Internal error"
    status: ClassVar[int] = 500

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    @property
    def type_uri(self) -> str:
        return ERROR_BASE + self.type_name

    def to_problem(self) -> dict[str, Any]:
        """The ProblemDetails body (RFC 9457) the spec asks for."""
        body: dict[str, Any] = {
            "type": self.type_uri,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        body.update(self.extra)
        return body


class InvalidRequest(NgsiError):
    """The request is malformed: not JSON, wrong shape, unknown parameters."""

    type_name = "InvalidRequest"
    title = "Invalid request"
    status = 400


class BadRequestData(NgsiError):
    """The request is well formed but its content is not acceptable."""

    type_name = "BadRequestData"
    title = "Bad request data"
    status = 400


class AlreadyExists(NgsiError):
    type_name = "AlreadyExists"
    title = "Already exists"
    status = 409


class OperationNotSupported(NgsiError):
    type_name = "OperationNotSupported"
    title = "Operation not supported"
    status = 422


class ResourceNotFound(NgsiError):
    type_name = "ResourceNotFound"
    title = "Resource not found"
    status = 404


class LdContextNotAvailable(NgsiError):
    """A remote @context could not be fetched (or was not a JSON-LD context)."""

    type_name = "LdContextNotAvailable"
    title = "JSON-LD context not available"
    status = 503


class NonexistentTenant(NgsiError):
    type_name = "NonexistentTenant"
    title = "Nonexistent tenant"
    status = 404


class TooManyResults(NgsiError):
    type_name = "TooManyResults"
    title = "Too many results"
    status = 403


class InternalError(NgsiError):
    type_name = "InternalError"
    title = "Internal error"
    status = 500
