"""Entity and attribute payloads into the model (clauses 4.5, 4.5.21, 5.6.1)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from broker.ngsild.context import CORE, build_context
from broker.ngsild.errors import BadRequestData
from broker.ngsild.parse import deletion, parse_entity, parse_fragment

NOW = "2026-01-02T03:04:05.678Z"
DEFAULT = "https://uri.etsi.org/ngsi-ld/default-context/"
LOCATION = "https://uri.etsi.org/ngsi-ld/location"


def entity(**attrs: Any) -> dict[str, Any]:
    return {"id": "urn:ngsi-ld:Vehicle:A1", "type": "Vehicle", **attrs}


def test_normalized_property_with_metadata_and_sub_property() -> None:
    """Clause 4.5.2: a Property with observedAt, unitCode and a sub-property."""
    e = parse_entity(
        entity(
            speed={
                "type": "Property",
                "value": 42,
                "unitCode": "KMH",
                "observedAt": "2026-01-01T08:00:00Z",
                "accuracy": {"type": "Property", "value": 0.5},
            }
        ),
        CORE,
        NOW,
    )
    assert e["id"] == "urn:ngsi-ld:Vehicle:A1"
    assert e["type"] == [DEFAULT + "Vehicle"]
    [speed] = e["attrs"][DEFAULT + "speed"]
    assert speed["type"] == "Property"
    assert speed["value"] == 42
    assert speed["unitCode"] == "KMH"
    assert speed["observedAt"] == "2026-01-01T08:00:00Z"  # kept as sent
    assert speed["sub"][DEFAULT + "accuracy"]["value"] == 0.5
    assert speed["createdAt"] == speed["modifiedAt"] == NOW


@pytest.mark.parametrize(
    ("raw", "kind", "value"),
    [
        (21.5, "Property", 21.5),
        ([1, 2], "Property", [1, 2]),
        ({"value": {"a": 1}}, "Property", {"a": 1}),
        ({"object": "urn:ngsi-ld:Park:1"}, "Relationship", "urn:ngsi-ld:Park:1"),
        (
            {"languageMap": {"en": "Hi", "ja": "やあ"}},
            "LanguageProperty",
            {"en": "Hi", "ja": "やあ"},
        ),
        ({"vocab": "Electric"}, "VocabProperty", DEFAULT + "Electric"),
        ({"json": {"any": ["thing"]}}, "JsonProperty", {"any": ["thing"]}),
        ({"valueList": [3, 1, 2]}, "ListProperty", [3, 1, 2]),
        ({"type": "Point", "coordinates": [139.7, 35.6]}, "GeoProperty", None),
    ],
)
def test_concise_attributes_are_recognised_by_their_main_member(
    raw: object, kind: str, value: object
) -> None:
    """Clause 4.5.21 (concise representation): the kind is told by the member present."""
    e = parse_entity(entity(a=raw), CORE, NOW)
    [inst] = e["attrs"][DEFAULT + "a"]
    assert inst["type"] == kind
    assert inst["value"] == (raw if value is None else value)


def test_multi_instance_attribute_by_dataset_id() -> None:
    """Clause 4.5.5: several instances of one attribute, told apart by datasetId."""
    e = parse_entity(
        entity(
            temp=[
                {"type": "Property", "value": 20},
                {"type": "Property", "value": 21, "datasetId": "urn:ngsi-ld:Dataset:b"},
            ]
        ),
        CORE,
        NOW,
    )
    assert [i.get("datasetId") for i in e["attrs"][DEFAULT + "temp"]] == [
        None,
        "urn:ngsi-ld:Dataset:b",
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"type": "Vehicle"}, "no 'id'"),
        ({"id": "not a uri", "type": "Vehicle"}, "must be a URI"),
        ({"id": "urn:a:b"}, "no 'type'"),
        ({"id": "urn:a:b", "type": []}, "empty array"),
        ({"id": "urn:a:b", "type": 7}, "non-empty string"),
        (entity(speed={"type": "Propertee", "value": 1}), "unknown attribute type"),
        (
            entity(speed={"type": ["Property"], "value": 1}),
            "Attribute 'speed': the attribute type must be a string, got ['Property'] "
            "(expected one of GeoProperty, JsonProperty, LanguageProperty, ListProperty, "
            "ListRelationship, Property, Relationship, VocabProperty)",
        ),
        (entity(speed={"type": 5, "value": 1}), "the attribute type must be a string, got 5"),
        (entity(speed={"type": {"a": 1}}), "the attribute type must be a string, got {'a': 1}"),
        (
            entity(speed={"type": "Property", "value": 1, "s": {"type": ["Property"], "value": 2}}),
            "Attribute 's': the attribute type must be a string, got ['Property']",
        ),
        (entity(location={"type": ["Point"], "coordinates": [1, 2]}), "must be a string"),
        (
            entity(location={"type": "GeoProperty", "value": {"type": ["Point"]}}),
            "['Point'] is not a GeoJSON geometry type",
        ),
        (
            entity(r={"type": "Relationship", "object": "urn:a:b", "objectType": {"$a": 1}}),
            "Attribute 'r': 'objectType' must be a type name or an array of type names, "
            "got {'$a': 1}",
        ),
        (entity(speed={"type": "Property"}), "must have a 'value'"),
        (entity(speed={"type": "Property", "value": None}), "must not be null"),
        (entity(rel={"type": "Relationship", "object": "nope"}), "must be a URI"),
        (entity(location={"type": "Property", "value": 1}), "must be a GeoProperty"),
        (
            entity(
                location={"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1]}}
            ),
            "position",
        ),
        (
            entity(
                location={
                    "type": "GeoProperty",
                    "value": {"type": "Point", "coordinates": [200, 1]},
                }
            ),
            "out of range",
        ),
        (entity(t={"type": "Property", "value": 1, "observedAt": "yesterday"}), "observedAt"),
        (
            entity(t={"type": "Property", "value": 1, "observedAt": "2026-01-01T10:00:00+02:00"}),
            "UTC",
        ),
        (entity(t={"type": "Property", "value": 1, "object": "urn:a:b"}), "cannot have"),
        (entity(t={"type": "Relationship", "object": "urn:a:b", "unitCode": "C"}), "unitCode"),
        (entity(t={"type": "Property", "value": {"a": "urn:ngsi-ld:null"}}), "only meaningful"),
        (entity(t={"type": "JsonProperty", "json": 3}), "object or array"),
        (entity(t={"type": "LanguageProperty", "languageMap": {"": "x"}}), "language tag"),
        (entity(datasetId={"type": "Property", "value": 1}), "reserved"),
        ({"id": "urn:a:\u202eb", "type": "T"}, "must be a URI"),
        ({"id": "urn:a:b", "type": "9Vehicle"}, "Invalid entity type"),
        ({"id": "urn:a:b", "type": "T", "scope": "a-b"}, "Invalid scope"),
        (
            entity(
                loc={
                    "type": "GeoProperty",
                    "value": {"type": "GeometryCollection", "geometries": []},
                }
            ),
            "GeometryCollection",
        ),
        (entity(**{"bad name": 1}), "Invalid attribute name"),
        (entity(x={"unitCode": "C"}), "cannot tell what kind"),
        (
            entity(t=[{"type": "Property", "value": 1}, {"type": "Property", "value": 2}]),
            "more than once",
        ),
    ],
)
def test_bad_payloads_are_refused_with_a_reason(body: dict[str, Any], message: str) -> None:
    """Clause 5.6.1: invalid content is BadRequestData, with a detail a person can act on."""
    with pytest.raises(BadRequestData, match=re.escape(message)):
        parse_entity(body, CORE, NOW)


def test_terms_are_expanded_with_the_user_context() -> None:
    """Clause 5.5.7: names and types expand with the request's @context."""
    ctx = build_context({"Vehicle": "https://example.org/Vehicle", "ex": "https://ex.org/"}, {})
    e = parse_entity({"id": "urn:a:b", "type": "Vehicle", "ex:speed": 1}, ctx, NOW)
    assert e["type"] == ["https://example.org/Vehicle"]
    assert list(e["attrs"]) == ["https://ex.org/speed"]


def test_merge_fragments_may_delete_with_ngsi_ld_null() -> None:
    """Clause 4.5.0: "urn:ngsi-ld:null" in a merge deletes the attribute."""
    attrs = parse_fragment(
        {"a": "urn:ngsi-ld:null", "b": {"type": "Property", "value": "urn:ngsi-ld:null"}},
        CORE,
        NOW,
        partial=True,
    )
    assert attrs[DEFAULT + "a"] == [deletion()]
    assert attrs[DEFAULT + "b"] == [deletion()]


def test_location_is_a_core_term() -> None:
    e = parse_entity(
        entity(location={"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1, 2]}}),
        CORE,
        NOW,
    )
    assert LOCATION in e["attrs"]


def test_list_relationship_is_stored_as_objects() -> None:
    """Clause 4.5.x: objectList items may be URIs or {"object": URI}; served as objects."""
    e = parse_entity(
        entity(r={"type": "ListRelationship", "objectList": ["urn:a:1", {"object": "urn:a:2"}]}),
        CORE,
        NOW,
    )
    assert e["attrs"][DEFAULT + "r"][0]["value"] == [{"object": "urn:a:1"}, {"object": "urn:a:2"}]


def test_dataset_id_none_is_the_default_instance() -> None:
    e = parse_entity(entity(t={"type": "Property", "value": 1, "datasetId": "@none"}), CORE, NOW)
    assert "datasetId" not in e["attrs"][DEFAULT + "t"][0]


def test_unicode_letters_in_ids_and_names_are_fine() -> None:
    e = parse_entity({"id": "urn:ngsi-ld:Ciudad:París", "type": "Škola", "výška_1": 3}, CORE, NOW)
    assert DEFAULT + "výška_1" in e["attrs"]


def test_partial_fragments_may_delete_one_instance() -> None:
    attrs = parse_fragment(
        {"t": {"type": "Property", "value": "urn:ngsi-ld:null", "datasetId": "urn:ds:1"}},
        CORE,
        NOW,
        partial=True,
    )
    assert attrs[DEFAULT + "t"] == [deletion("urn:ds:1")]


def test_self_crossing_polygons_are_refused() -> None:
    """A bow-tie ring would be refused by MongoDB's 2dsphere index: say so with a 400."""
    bow_tie = [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]
    with pytest.raises(BadRequestData):
        parse_entity(
            entity(
                location={
                    "type": "GeoProperty",
                    "value": {"type": "Polygon", "coordinates": bow_tie},
                }
            ),
            CORE,
            NOW,
        )


# The fast path for plain Property/Relationship instances must give exactly what the
# general path gives: the same instance (same member order) or the same error.
NULL = "urn:ngsi-ld:null"
T = "2026-11-27T09:00:00Z"
PLAIN_CASES: list[Any] = [
    {"type": "Property", "value": 42},
    {"type": "Property", "value": 4.5, "unitCode": "CEL", "observedAt": T},
    {"observedAt": T, "unitCode": "CEL", "value": "x", "type": "Property"},
    {"type": "Property", "value": True, "datasetId": "urn:ds:1"},
    {"type": "Property", "value": 1, "datasetId": "@none"},
    {"type": "Property", "value": 1, "datasetId": "not a uri"},
    {"type": "Property", "value": 1, "datasetId": None},
    {"type": "Property", "value": 1, "datasetId": 7},
    {"type": "Property", "value": NULL},
    {"type": "Property", "value": None},
    {"type": "Property", "value": {"a": [1, {"b.c": 2}]}},
    {"type": "Property", "value": {"a": [1, {"b": NULL}]}},
    {"type": "Property", "value": [1, 2]},
    {"type": "Property", "value": []},
    {"type": "Property", "value": 1, "unitCode": 5},
    {"type": "Property", "value": 1, "observedAt": "2026-13-40T09:00:00Z"},
    {"type": "Property", "value": 1, "observedAt": 5},
    {"type": "Property", "value": 1, "observedAt": [T]},
    {"type": "Property", "value": 1, "objectType": "T"},
    {"type": "Property", "value": 1, "createdAt": T},
    {"type": "Property", "value": 1, "previousValue": 0},
    {"type": "Property", "value": 1, "@context": []},
    {"type": "Property", "value": 1, "object": "urn:x:1"},
    {"type": "Property", "value": 1, "s": {"type": "Property", "value": 2}},
    {"type": "Property", "value": 1, "s": {"type": "Property", "value": 2, "datasetId": "urn:d:1"}},
    {"type": "Property", "value": 1, "s": {"type": "Relationship", "object": "urn:x:1"}},
    {"type": "Property"},
    {"type": "Property", "unitCode": "CEL"},
    {"type": ["Property"], "value": 1},
    {"type": [], "value": 1},
    {"type": 5, "value": 1},
    {"type": True, "value": 1},
    {"type": {"a": 1}, "value": 1},
    {"type": ["Relationship"], "object": "urn:x:1"},
    {"type": ["Point"], "coordinates": [1, 2]},
    {"type": "Relationship", "object": "urn:x:1", "objectType": ["T", "U"]},
    {"type": "Relationship", "object": "urn:x:1", "objectType": 5},
    {"type": "Relationship", "object": "urn:x:1", "objectType": {"$a": 1}},
    {"type": "Relationship", "object": "urn:x:1", "objectType": ""},
    {"type": "Relationship", "object": "urn:x:1", "objectType": []},
    {"type": "Relationship", "object": "urn:x:1", "objectType": ["T", 1]},
    {"type": "Property", "value": 1, "s": {"type": ["Property"], "value": 2}},
    {"type": "Property", "value": {"type": ["Point"], "coordinates": [1, 2]}},
    {"type": "GeoProperty", "value": {"type": ["Point"], "coordinates": [1, 2]}},
    {"value": {"type": {"a": 1}, "coordinates": [1, 2]}},
    {"type": "Relationship", "object": "urn:x:1"},
    {"type": "Relationship", "object": "urn:x:1", "objectType": "T", "observedAt": T},
    {"type": "Relationship", "object": "urn:x:1", "datasetId": "urn:ds:2"},
    {"type": "Relationship", "object": "not a uri"},
    {"type": "Relationship", "object": NULL},
    {"type": "Relationship", "object": None},
    {"type": "Relationship", "object": ["urn:x:1", "urn:x:2"]},
    {"type": "Relationship", "object": "urn:x:1", "unitCode": "C"},
    {"type": "Relationship", "object": "urn:x:1", "value": 1},
    {"type": "Relationship", "value": "urn:x:1"},
    {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1, 2]}},
    {"type": "LanguageProperty", "languageMap": {"en": "x"}},
    {"value": 3},
    {"type": "Point", "coordinates": [1, 2]},
    [{"type": "Property", "value": 1}, {"type": "Property", "value": 2, "datasetId": "urn:d:1"}],
    [{"type": "Property", "value": 1}, {"type": "Property", "value": 2}],
    [{"type": "Relationship", "object": "urn:x:1", "datasetId": "urn:d:1"}, 5],
    7,
    None,
]


def _outcome(parse: Any) -> str:
    """The result (repr: member order counts) or the error, as the client would see it.
    Any other exception fails the test: it would be a 500 for the client."""
    try:
        return "ok " + repr(parse())
    except BadRequestData as err:
        return f"error {err.to_problem()!r}"


@pytest.mark.parametrize("partial", [False, True])
@pytest.mark.parametrize("name", ["a", "location", "https://ex.org/b"])
@pytest.mark.parametrize("raw", PLAIN_CASES)
def test_plain_fast_path_gives_what_the_general_path_gives(
    raw: Any, name: str, partial: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from broker.ngsild import parse

    user = build_context({"a": "https://ex.org/a"}, {})

    def outcomes() -> list[str]:
        return [
            _outcome(lambda: parse_fragment({name: raw}, CORE, NOW, partial=partial)),
            _outcome(lambda: parse_fragment({name: raw}, user, NOW, partial=partial)),
            _outcome(lambda: parse_entity(entity(**{name: raw}), CORE, NOW)),
            _outcome(lambda: parse.parse_attribute(name, raw, CORE, NOW, partial=partial)),
            _outcome(
                lambda: parse_entity(
                    entity(p={"type": "Property", "value": 0, name: raw}), CORE, NOW
                )
            ),
        ]

    fast = outcomes()
    monkeypatch.setattr(parse, "_plain_instance", lambda raw, now: None)
    assert outcomes() == fast


def test_remembered_names_keep_their_checks_and_errors() -> None:
    """Names are checked once per @context, but every payload still gets its errors."""
    ok = {"speed": 1, "https://uri.etsi.org/ngsi-ld/default-context/other": 2}
    for _ in range(2):
        assert set(parse_fragment(ok, CORE, NOW)) == {DEFAULT + "speed", DEFAULT + "other"}
        with pytest.raises(BadRequestData, match="appears twice"):
            parse_fragment({"speed": 1, DEFAULT + "speed": 2}, CORE, NOW)
        with pytest.raises(BadRequestData, match="reserved member"):
            parse_fragment({"value": 1}, CORE, NOW)
        with pytest.raises(BadRequestData, match="Invalid attribute name"):
            parse_fragment({"1speed": 1}, CORE, NOW)
        assert parse_fragment({"id": "urn:x:1", "type": "T"}, CORE, NOW) == {}
    # The same name with another @context expands with that @context.
    user = build_context({"speed": "https://ex.org/speed"}, {})
    assert list(parse_fragment({"speed": 1}, user, NOW)) == ["https://ex.org/speed"]


def test_expanders_other_than_contexts_are_not_memoized() -> None:
    """Any TermExpander works; only an (immutable) Context has its names remembered."""

    class Counting:
        calls = 0

        def expand(self, term: str) -> str:
            self.calls += 1
            return "https://ex.org/" + term

    expander = Counting()
    parse_fragment({"a": 1}, expander, NOW)
    parse_fragment({"a": 1}, expander, NOW)
    assert expander.calls == 2


def test_the_name_memo_stays_bounded() -> None:
    from broker.ngsild import parse

    for i in range(parse._NAMES_LIMIT + 10):
        parse_fragment({f"n{i}": 1}, CORE, NOW)
    assert len(parse._ATTR_IRIS[CORE]) <= parse._NAMES_LIMIT
    for i in range(parse._CONTEXTS_LIMIT + 3):
        parse_fragment({"a": 1}, build_context({"x": f"https://ex.org/{i}"}, {}), NOW)
    assert len(parse._ATTR_IRIS) <= parse._CONTEXTS_LIMIT
