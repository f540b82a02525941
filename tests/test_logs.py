"""Logging: text by default, JSON lines with LOG_FORMAT=json, the request id in both."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
from aiohttp import web

from broker import logs
from broker.api import create_app
from broker.settings import Settings

log = logging.getLogger("kaido.test")


@pytest.fixture
def capture() -> Iterator[Callable[[str], io.StringIO]]:
    """capture(format): what kaido.test logs, written by a handler of broker.logs."""
    attached: list[logging.Handler] = []

    def attach(log_format: str) -> io.StringIO:
        out = io.StringIO()
        handler = logs.handler(log_format, out)
        log.addHandler(handler)
        attached.append(handler)
        return out

    level = log.level
    log.setLevel(logging.DEBUG)
    yield attach
    for handler in attached:
        log.removeHandler(handler)
    log.setLevel(level)


def lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in out.getvalue().splitlines()]


@pytest.fixture
async def logging_client(
    aiohttp_client: Callable[..., Any], settings: Settings, mongo_uri: str
) -> Any:
    """The broker with one more route that logs, as handlers do."""

    async def logs_something(request: web.Request) -> web.Response:
        log.info("handling %s", request.path, extra={"entity": "urn:ngsi-ld:Vehicle:1"})
        return web.Response(text="ok")

    async def fails(request: web.Request) -> web.Response:
        raise RuntimeError("boom")

    app = create_app(settings, mongo_uri)
    app.router.add_get("/_test/log", logs_something)
    app.router.add_get("/_test/fail", fails)
    return await aiohttp_client(app)


def test_json_lines_parse_and_carry_extra_fields(capture: Callable[[str], io.StringIO]) -> None:
    out = capture("json")
    log.warning("queue at %d%%", 90, extra={"tenant": "city", "depth": 9000})
    try:
        raise ValueError("bad value")
    except ValueError:
        log.exception("it failed")
    first, second = lines(out)
    assert first["level"] == "WARNING"
    assert first["logger"] == "kaido.test"
    assert first["message"] == "queue at 90%"
    assert first["tenant"] == "city" and first["depth"] == 9000
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", first["time"])
    assert "request_id" not in first  # not in a request
    assert "ValueError: bad value" in second["exception"]
    assert len(out.getvalue().splitlines()) == 2  # the traceback stays inside its line


def test_json_survives_values_json_cannot_hold(capture: Callable[[str], io.StringIO]) -> None:
    out = capture("json")
    log.info("odd", extra={"thing": object(), "keys": {1: "one"}})
    (line,) = lines(out)
    assert line["thing"].startswith("<object object")
    assert line["keys"] == {"1": "one"}


async def test_json_lines_in_a_request_carry_its_id(
    logging_client: Any, capture: Callable[[str], io.StringIO]
) -> None:
    out = capture("json")
    r = await logging_client.get("/_test/log", headers={"X-Request-Id": "abc-123"})
    assert r.status == 200
    r = await logging_client.get("/_test/log")
    generated = r.headers["X-Request-Id"]
    log.info("after the requests")
    first, second, after = lines(out)
    assert first["request_id"] == "abc-123"
    assert first["message"] == "handling /_test/log"
    assert first["entity"] == "urn:ngsi-ld:Vehicle:1"
    assert second["request_id"] == generated
    assert "request_id" not in after


async def test_an_unexpected_error_is_logged_with_the_id_it_was_answered_with(
    logging_client: Any,
) -> None:
    out = io.StringIO()
    handler = logs.handler("json", out)
    api_log = logging.getLogger("kaido.api")
    api_log.addHandler(handler)
    try:
        r = await logging_client.get("/_test/fail")
    finally:
        api_log.removeHandler(handler)
    assert r.status == 500
    (line,) = lines(out)
    assert line["level"] == "ERROR"
    assert line["request_id"] == r.headers["X-Request-Id"]
    assert "RuntimeError: boom" in line["exception"]


async def test_text_lines_show_the_request_id(
    logging_client: Any, capture: Callable[[str], io.StringIO]
) -> None:
    out = capture("text")
    await logging_client.get("/_test/log", headers={"X-Request-Id": "abc-123"})
    log.info("outside")
    inside, outside = out.getvalue().splitlines()
    assert re.fullmatch(r"\S+ \S+ INFO kaido\.test \[abc-123\]: handling /_test/log", inside)
    assert re.fullmatch(r"\S+ \S+ INFO kaido\.test: outside", outside)


def test_configure_sets_up_the_root_logger() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    out = io.StringIO()
    try:
        logs.configure("WARNING", "json", out)
        logging.getLogger("kaido.x").info("dropped")
        logging.getLogger("kaido.x").warning("kept")
        assert [line["message"] for line in lines(out)] == ["kept"]
        assert len(root.handlers) == 1
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    with pytest.raises(ValueError):
        logs.handler("xml")


def test_log_format_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    assert Settings.from_env().log_format == "text"
    monkeypatch.setenv("LOG_FORMAT", "json")
    assert Settings.from_env().log_format == "json"
    monkeypatch.setenv("LOG_FORMAT", "yaml")
    with pytest.raises(SystemExit):
        Settings.from_env()


def _parse_error_record(exc: BaseException) -> logging.LogRecord:
    """A record as aiohttp's RequestHandler.handle_error logs it."""
    try:
        raise exc
    except BaseException:
        import sys

        info = sys.exc_info()
    return logging.LogRecord(
        "aiohttp.server", logging.ERROR, "", 0, "Error handling request from %s", ("1.2.3.4",), info
    )


def test_requests_aiohttp_cannot_parse_are_one_info_line() -> None:
    """A request line over MAX_URL_BYTES is the client's mistake (answered 400 by aiohttp):
    logged as one INFO line saying what was wrong, not as an error with a traceback."""
    from aiohttp.http_exceptions import BadHttpMessage, LineTooLong

    keep = logs.ClientProtocolErrors()
    server = logging.getLogger("aiohttp.server")
    level = server.level
    server.setLevel(logging.INFO)
    try:
        record = _parse_error_record(LineTooLong("/ngsi-ld/v1/entities?id=...", "8190"))
        assert keep.filter(record)
        assert (record.levelno, record.levelname, record.exc_info) == (logging.INFO, "INFO", None)
        assert record.getMessage().startswith("Error handling request from 1.2.3.4: 400, ")
        assert "8190" in record.getMessage()
        assert keep.filter(_parse_error_record(BadHttpMessage("bad header")))
        server.setLevel(logging.WARNING)  # an INFO line is then not written at all
        assert not keep.filter(_parse_error_record(BadHttpMessage("bad header")))
    finally:
        server.setLevel(level)
    other = _parse_error_record(RuntimeError("a bug"))
    assert keep.filter(other)
    assert (other.levelno, other.exc_info is not None) == (logging.ERROR, True)


def test_configure_installs_the_filter_once() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    server = logging.getLogger("aiohttp.server")
    try:
        logs.configure("INFO", "text", io.StringIO())
        logs.configure("INFO", "text", io.StringIO())
        assert sum(isinstance(f, logs.ClientProtocolErrors) for f in server.filters) == 1
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
