"""ProblemDetails responses (RFC 9457, clause 5.5.2) for every failure.

The middleware is the one place where errors become HTTP: NGSI-LD errors keep their type
and status, aiohttp's own HTTP errors (unknown route, wrong method, body too large) get
a ProblemDetails body too, and anything unexpected is logged and answered with a 500
InternalError instead of a dropped connection.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web

from ..ngsild.errors import ERROR_BASE, BadRequestData, InvalidRequest, NgsiError
from .keys import SETTINGS

__all__ = ["problem_middleware", "problem_response"]

log = logging.getLogger("kaido.api")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_HTTP_TYPES = {
    400: "InvalidRequest",
    404: "ResourceNotFound",
    405: "InvalidRequest",
    406: "InvalidRequest",
    413: "BadRequestData",
    415: "InvalidRequest",
}


def problem_response(
    status: int, type_name: str, title: str, detail: str, headers: dict[str, str] | None = None
) -> web.Response:
    body = {"type": ERROR_BASE + type_name, "title": title, "status": status, "detail": detail}
    return web.Response(
        body=orjson.dumps(body),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def _from_ngsi(err: NgsiError) -> web.Response:
    return web.Response(
        body=orjson.dumps(err.to_problem()), status=err.status, content_type="application/json"
    )


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except NgsiError as err:
        return _from_ngsi(err)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {}
        if exc.status == 405 and "Allow" in exc.headers:
            headers["Allow"] = exc.headers["Allow"]
        if exc.status == 413:
            limit = request.app[SETTINGS].max_body_bytes
            return problem_response(
                413,
                BadRequestData.type_name,
                "Request body too large",
                f"The request body is larger than the limit of {limit} bytes (MAX_BODY_BYTES)",
            )
        detail = exc.text or exc.reason
        if exc.status == 404:
            detail = f"No resource at {request.path} (see the NGSI-LD API under /ngsi-ld/v1/)"
        elif exc.status == 405:
            detail = f"{request.method} is not allowed on {request.path}"
        return problem_response(
            exc.status,
            _HTTP_TYPES.get(exc.status, InvalidRequest.type_name),
            exc.reason,
            detail,
            headers,
        )
    except Exception:
        log.exception("Unexpected error on %s %s", request.method, request.path)
        return problem_response(
            500,
            "InternalError",
            "Internal error",
            "The broker failed to handle this request and logged the error; "
            "please report it with the time of the request.",
        )
