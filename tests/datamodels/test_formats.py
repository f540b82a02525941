"""Formats: date-time, time, uri (implemented here) and email, ipv4, ipv6 (jsonschema's)."""

from __future__ import annotations

import pytest

from broker.datamodels import ModelRegistry
from broker.datamodels._formats import is_date_time, is_time, is_uri, is_uri_reference


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-27T09:00:00Z",
        "2026-11-27t09:00:00.123456z",
        "2026-11-27T09:00:00+09:00",
        "2024-02-29T00:00:00Z",
        "1998-12-31T23:59:60Z",
        "1998-12-31T15:59:60.123-08:00",
    ],
)
def test_valid_date_times(value: str) -> None:
    assert is_date_time(value)


@pytest.mark.parametrize(
    "value",
    [
        "2016-03-15T11:00:00",  # no offset (the AirQualityObserved example)
        "2016-03-15 11:00:00Z",
        "2023-02-29T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-11-31T00:00:00Z",
        "2026-11-27T24:00:00Z",
        "2026-11-27T09:60:00Z",
        "2026-11-27T09:00:00+24:00",
        "2026-11-27T09:00:00.Z",
        "1998-12-31T23:59:60+01:00",  # a leap second must be at 23:59:60 UTC
        "2026-11-27T09:00:00Z\n",
        "2026-11-2\u09ea T09:00:00Z",  # a Bengali digit
        "27/11/2026",
    ],
)
def test_invalid_date_times(value: str) -> None:
    assert not is_date_time(value)


def test_time_and_non_strings() -> None:
    assert is_time("09:00:00Z") and is_time("23:59:60Z")
    assert not is_time("09:00:00") and not is_time("25:00:00Z")
    assert is_date_time(12) and is_uri(None)  # formats only constrain strings


@pytest.mark.parametrize(
    "value",
    [
        "https://example.org/a/b?c=d#e",
        "urn:ngsi-ld:Device:1",
        "urn:ngsi-ld::wastecontainer-Osuna-100",
        "mailto:someone@example.org",
        "http://[2001:db8::1]:8080/",
        "http://[v1.fe]/",
        "http://user:pw@host:80/%41",
    ],
)
def test_valid_uris(value: str) -> None:
    assert is_uri(value)


@pytest.mark.parametrize(
    "value",
    [
        "example.org/a",
        "//example.org/a",
        "http://exa mple.org",
        "http://example.org/ü",
        "http://a/%zz",
        "http://[::1%25eth0]/",
        "http://[127.0.0.1]/",
        "1http://x",
        "",
    ],
)
def test_invalid_uris(value: str) -> None:
    assert not is_uri(value)


def test_uri_reference() -> None:
    assert is_uri_reference("../a/b.json#/definitions/x")
    assert is_uri_reference("//example.org/a")
    assert is_uri_reference("https://example.org")
    assert not is_uri_reference("a b")


def test_formats_are_checked_when_validating(registry: ModelRegistry) -> None:
    entity = {
        "id": "not a uri",
        "type": "Gate",
        "openedAt": "2026-11-27T09:00:00",
        "contact": "nobody",
        "ipv4": "999.1.1.1",
        "ipv6": "1.2.3.4",
        "homepage": "www.example.org",
        "dateCreated": "yesterday",
    }
    errors = {e["path"]: e["message"] for e in registry.validate(entity)["errors"]}
    assert errors == {
        "/contact": "'nobody' is not a 'email'",
        "/dateCreated": "'yesterday' is not a 'date-time'",
        "/homepage": "'www.example.org' is not a 'uri'",
        "/id": "'not a uri' is not a 'uri'",
        "/ipv4": "'999.1.1.1' is not a 'ipv4'",
        "/ipv6": "'1.2.3.4' is not a 'ipv6'",
        "/openedAt": "'2026-11-27T09:00:00' is not a 'date-time'",
    }
    good = {
        "id": "urn:ngsi-ld:Gate:1",
        "type": "Gate",
        "openedAt": "2026-11-27T09:00:00+09:00",
        "contact": "gate@example.org",
        "ipv4": "192.0.2.1",
        "ipv6": "2001:db8::1",
        "homepage": "https://example.org/gate",
    }
    assert registry.validate(good) == {"type": "Gate", "valid": True, "errors": []}
