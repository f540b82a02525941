"""Names stored in MongoDB can never be read as paths or operators."""

from __future__ import annotations

from broker.store.keys import decode_key, decode_value, encode_key, encode_value


def test_expanded_names_have_no_dots_or_dollars() -> None:
    key = encode_key("https://uri.etsi.org/ngsi-ld/$where.x%2E")
    assert "." not in key and "$" not in key
    assert decode_key(key) == "https://uri.etsi.org/ngsi-ld/$where.x%2E"


def test_values_round_trip() -> None:
    value = {"$gt": [{"a.b": 1, "%": {"$": None}}], "plain": "a.b$"}
    encoded = encode_value(value)
    assert "$gt" not in encoded and "a.b" not in encoded["%24gt"][0]
    assert encoded["plain"] == "a.b$"  # values are untouched
    assert decode_value(encoded) == value
