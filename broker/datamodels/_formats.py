"""Format checks for the formats jsonschema leaves unchecked without optional packages.

jsonschema checks "date-time", "time" and "uri" only when rfc3339-validator and
rfc3987 (or rfc3986-validator) are installed; the broker does not depend on them, so these
small, strict implementations (RFC 3339 section 5.6, RFC 3986 section 3 and 4.1) are
registered instead. email, ipv4, ipv6, date, uuid and regex come from jsonschema itself.
"""

from __future__ import annotations

import calendar
import ipaddress
import re
from typing import Final

from ._jsonschema import Draft, format_checker

__all__ = ["format_checker_for", "is_date_time", "is_time", "is_uri", "is_uri_reference"]

# RFC 3339 section 5.6; [0-9] rather than \d so that non-ASCII digits are refused.
_TIME: Final = r"([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]+)?([Zz]|[+-]([0-9]{2}):([0-9]{2}))"
_DATE_TIME_RE: Final = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]" + _TIME + r"\Z")
_TIME_RE: Final = re.compile(_TIME + r"\Z")


def _time_ok(parts: tuple[str | None, ...]) -> bool:
    """Ranges of a full-time; a leap second (:60) only at 23:59 UTC, as RFC 3339 allows."""
    hour, minute, second, zone, off_hour, off_minute = parts
    h, m, s = int(hour or 0), int(minute or 0), int(second or 0)
    if h > 23 or m > 59 or s > 60:
        return False
    offset = 0
    if zone not in ("Z", "z"):
        oh, om = int(off_hour or 0), int(off_minute or 0)
        if oh > 23 or om > 59:
            return False
        offset = (oh * 60 + om) * (1 if zone and zone.startswith("+") else -1)
    return s < 60 or (h * 60 + m - offset) % 1440 == 23 * 60 + 59


def is_date_time(instance: object) -> bool:
    """RFC 3339 date-time; non-strings pass (JSON Schema formats only constrain strings)."""
    if not isinstance(instance, str):
        return True
    match = _DATE_TIME_RE.match(instance)
    if match is None:
        return False
    year, month, day = (int(g) for g in match.groups()[:3])
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
        return False
    return _time_ok(match.groups()[3:])


def is_time(instance: object) -> bool:
    """RFC 3339 full-time (with an offset, as JSON Schema 2019-09 and later require)."""
    if not isinstance(instance, str):
        return True
    match = _TIME_RE.match(instance)
    return match is not None and _time_ok(match.groups())


# RFC 3986 character classes.
_UNRESERVED: Final = r"A-Za-z0-9\-._~"
_SUB_DELIMS: Final = r"!$&'()*+,;="
_PCT: Final = r"%[0-9A-Fa-f]{2}"
_PCHAR: Final = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_SEGMENT_NZ_NC: Final = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}@]|{_PCT})+"
_AUTHORITY: Final = (
    rf"(?:(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*@)?"
    rf"(?P<host>\[[^\]]*\]|(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})*)"
    r"(?::[0-9]*)?"
)
_PATH_ABEMPTY: Final = rf"(?:/{_PCHAR}*)*"
_PATH_ABSOLUTE: Final = rf"/(?:{_PCHAR}+(?:/{_PCHAR}*)*)?"
_PATH_ROOTLESS: Final = rf"{_PCHAR}+(?:/{_PCHAR}*)*"
_PATH_NOSCHEME: Final = rf"{_SEGMENT_NZ_NC}(?:/{_PCHAR}*)*"
_TAIL: Final = rf"(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?"
_URI_RE: Final = re.compile(
    rf"[A-Za-z][A-Za-z0-9+\-.]*:"
    rf"(?://{_AUTHORITY}{_PATH_ABEMPTY}|{_PATH_ABSOLUTE}|{_PATH_ROOTLESS}|){_TAIL}\Z"
)
_RELATIVE_RE: Final = re.compile(
    rf"(?://{_AUTHORITY}{_PATH_ABEMPTY}|{_PATH_ABSOLUTE}|{_PATH_NOSCHEME}|){_TAIL}\Z"
)
_IP_FUTURE: Final = re.compile(rf"[vV][0-9A-Fa-f]+\.[{_UNRESERVED}{_SUB_DELIMS}:]+\Z")


def _host_ok(host: str | None) -> bool:
    """An IP-literal host must hold an IPv6 address (no zone id) or an IPvFuture."""
    if not host or not host.startswith("["):
        return True
    inner = host[1:-1]
    if _IP_FUTURE.match(inner):
        return True
    if "%" in inner:
        return False
    try:
        ipaddress.IPv6Address(inner)
    except ValueError:
        return False
    return True


def _matches(regex: re.Pattern[str], instance: str) -> bool:
    match = regex.match(instance)
    return match is not None and _host_ok(match.group("host"))


def is_uri(instance: object) -> bool:
    """An absolute URI by RFC 3986 ("URI": a scheme, optionally a fragment); ASCII only."""
    return not isinstance(instance, str) or _matches(_URI_RE, instance)


def is_uri_reference(instance: object) -> bool:
    """A URI or a relative reference (RFC 3986 section 4.1)."""
    return not isinstance(instance, str) or (
        _matches(_URI_RE, instance) or _matches(_RELATIVE_RE, instance)
    )


_OWN_CHECKS: Final = {
    "date-time": is_date_time,
    "time": is_time,
    "uri": is_uri,
    "uri-reference": is_uri_reference,
}


_CHECKERS: Final[dict[int, object]] = {}


def format_checker_for(draft: Draft) -> object:
    """The draft's own format checker plus the checks above (which replace nothing installed:
    if rfc3339-validator or rfc3987 are present, jsonschema's checks are kept); one per
    draft, shared by its validators."""
    checker = _CHECKERS.get(id(draft))
    if checker is None:
        checker = _CHECKERS[id(draft)] = format_checker(draft, _OWN_CHECKS)
    return checker
