"""@context term expansion and compaction (ETSI GS CIM 009 V1.9.1 clauses 4.4, 5.5.5, 5.5.7
and annex B; JSON-LD 1.1 context processing, IRI expansion and IRI compaction)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest

from broker.ngsild.context import (
    CORE,
    CORE_CONTEXT_URL,
    CORE_CONTEXT_URLS,
    DEFAULT_VOCAB,
    Context,
    ContextError,
    build_context,
    core_context_document,
    is_absolute_iri,
    missing_urls,
    remote_urls,
)

NGSI_LD = "https://uri.etsi.org/ngsi-ld/"
GEOJSON = "https://purl.org/geojson/vocab#"
SDM_ENV = "https://smartdatamodels.org/dataModel.Environment/"
#: Shaped like the Smart Data Models contexts: id/type aliases, a prefix, CURIEs, full IRIs.
SDM_CONTEXT = {
    "type": "@type",
    "id": "@id",
    "schema": "https://schema.org/",
    "name": "schema:name",
    "AirQualityObserved": SDM_ENV + "AirQualityObserved",
    "NO2": SDM_ENV + "NO2",
}


def ctx(value: object, documents: dict[str, object] | None = None) -> Context:
    return build_context(value, documents or {})


# --- The core context (clause 4.4, annex B) -------------------------------------------------


def test_the_shipped_core_context_is_the_v1_9_document() -> None:
    """Annex B: the core @context is normative; we ship it verbatim and serve it as such."""
    raw = resources.files("broker.ngsild").joinpath("core_context.jsonld").read_bytes()
    document = json.loads(raw)
    assert CORE_CONTEXT_URL.endswith("ngsi-ld-core-context-v1.9.jsonld")
    assert document["@context"]["@vocab"] == DEFAULT_VOCAB
    assert document["@context"]["@protected"] is True
    assert core_context_document() == document
    core_context_document()["@context"].clear()  # a copy: the next caller is unaffected
    assert core_context_document() == document


@pytest.mark.parametrize(
    ("term", "iri"),
    [
        ("Property", NGSI_LD + "Property"),
        ("Relationship", NGSI_LD + "Relationship"),
        ("GeoProperty", NGSI_LD + "GeoProperty"),
        ("VocabProperty", NGSI_LD + "VocabProperty"),
        ("location", NGSI_LD + "location"),
        ("observationSpace", NGSI_LD + "observationSpace"),
        ("createdAt", NGSI_LD + "createdAt"),
        ("observedAt", NGSI_LD + "observedAt"),
        ("value", NGSI_LD + "hasValue"),
        ("object", NGSI_LD + "hasObject"),
        ("languageMap", NGSI_LD + "hasLanguageMap"),
        ("Point", GEOJSON + "Point"),
        ("description", "http://purl.org/dc/terms/description"),
    ],
)
def test_core_terms_expand_to_their_etsi_iris(term: str, iri: str) -> None:
    """Clause 4.4: the core @context maps the NGSI-LD terms (annex B) to their IRIs."""
    assert CORE.expand(term) == iri
    assert CORE.compact(iri) == term


def test_id_and_type_are_keyword_aliases() -> None:
    """Clause 4.4: the core @context maps "id" to @id and "type" to @type."""
    assert CORE.expand("id") == "@id"
    assert CORE.expand("type") == "@type"
    assert CORE.expand("@id") == "@id"


def test_unknown_terms_expand_to_the_default_context() -> None:
    """Clauses 4.4 and 5.5.5: the core's fallback @vocab is the default context."""
    assert CORE.vocab == DEFAULT_VOCAB == "https://uri.etsi.org/ngsi-ld/default-context/"
    assert CORE.expand("Vehicle") == DEFAULT_VOCAB + "Vehicle"
    assert CORE.expand("speed") == DEFAULT_VOCAB + "speed"
    assert CORE.compact(DEFAULT_VOCAB + "speed") == "speed"


def test_core_prefixes_work_as_compact_iris() -> None:
    assert CORE.expand("ngsi-ld:foo") == NGSI_LD + "foo"
    assert CORE.compact(NGSI_LD + "foo") == "ngsi-ld:foo"
    assert CORE.compact(GEOJSON + "Thing") == "geojson:Thing"


def test_core_context_urls_need_no_document() -> None:
    """Clause 4.4: every version of the core @context means the built-in one, no fetch."""
    assert CORE_CONTEXT_URL in CORE_CONTEXT_URLS
    assert "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld" in CORE_CONTEXT_URLS
    assert "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.3.jsonld" in CORE_CONTEXT_URLS
    assert "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld" in CORE_CONTEXT_URLS
    for value in (None, [], CORE_CONTEXT_URL, [CORE_CONTEXT_URL]):
        assert build_context(value, {}) is CORE
        assert missing_urls(value, {}) == []
        assert remote_urls(value) == []


# --- User @context (clause 5.5.7) ------------------------------------------------------------


def test_user_terms_as_strings_and_objects() -> None:
    """Clause 5.5.7: terms expand with the request's @context."""
    c = ctx(
        {
            "Vehicle": "https://example.org/Vehicle",
            "speed": {"@id": "https://example.org/speed", "@type": "xsd:float"},
            "owner": {"@id": "https://example.org/owner", "@type": "@id"},
        }
    )
    assert c.expand("Vehicle") == "https://example.org/Vehicle"
    assert c.expand("speed") == "https://example.org/speed"
    assert c.expand("owner") == "https://example.org/owner"
    assert c.expand("other") == DEFAULT_VOCAB + "other"
    assert c.expand("location") == NGSI_LD + "location"


def test_compact_iris_with_user_prefixes() -> None:
    """JSON-LD 1.1 compact IRIs: a simple definition ending in / or # is a prefix."""
    c = ctx({"ex": "https://example.org/ns/", "ex2": "https://example.org/v#"})
    assert c.expand("ex:speed") == "https://example.org/ns/speed"
    assert c.expand("ex2:speed") == "https://example.org/v#speed"
    assert c.compact("https://example.org/ns/speed") == "ex:speed"
    assert c.compact("https://example.org/v#speed") == "ex2:speed"


def test_terms_defined_with_prefixes_from_the_same_or_an_earlier_context() -> None:
    """Definitions may use prefixes defined after them in the object (JSON-LD 1.1 4.2)."""
    c = ctx(
        [
            {"speed": "ex:speed", "ex": "https://example.org/"},
            {"temperature": "ex:temp", "pressure": "ngsi-ld:pressure"},
        ]
    )
    assert c.expand("speed") == "https://example.org/speed"
    assert c.expand("temperature") == "https://example.org/temp"
    # The core's prefixes are always there (clause 4.4), wherever the core is in the array.
    assert c.expand("pressure") == NGSI_LD + "pressure"


def test_only_prefix_terms_make_compact_iris() -> None:
    """JSON-LD 1.1: an expanded definition is a prefix only with "@prefix": true."""
    c = ctx(
        {
            "noprefix": {"@id": "https://a.example/"},
            "yesprefix": {"@id": "https://b.example/", "@prefix": True},
            "notdelim": "https://c.example/x",
        }
    )
    assert c.expand("noprefix:x") == "noprefix:x"  # an absolute IRI with scheme "noprefix"
    assert c.expand("notdelim:y") == "notdelim:y"
    assert c.expand("yesprefix:x") == "https://b.example/x"
    assert c.compact("https://b.example/x") == "yesprefix:x"
    assert c.compact("https://a.example/x") == "https://a.example/x"


def test_user_vocab_replaces_the_default_context() -> None:
    """Clause 4.4: the core @vocab is only the fallback; a user @vocab comes first."""
    c = ctx({"@vocab": "https://example.org/terms/"})
    assert c.vocab == "https://example.org/terms/"
    assert c.expand("speed") == "https://example.org/terms/speed"
    assert c.compact("https://example.org/terms/speed") == "speed"
    assert c.expand("location") == NGSI_LD + "location"
    # The default context no longer strips; the IRI still round-trips via the core prefix.
    compacted = c.compact(DEFAULT_VOCAB + "speed")
    assert compacted != "speed"
    assert c.expand(compacted) == DEFAULT_VOCAB + "speed"


def test_vocab_may_be_a_compact_iri_and_null_resets_it() -> None:
    # "@vocab" is processed before the terms of its own object (JSON-LD 1.1 4.1.2).
    c = ctx([{"ex": "https://example.org/"}, {"@vocab": "ex:v/"}])
    assert c.vocab == "https://example.org/v/"
    assert ctx([{"@vocab": "https://example.org/"}, {"@vocab": None}]).vocab == DEFAULT_VOCAB


def test_expanded_iris_are_left_unchanged() -> None:
    """Clause 5.5.7: a Fully Qualified Name needs no expansion."""
    c = ctx({"ex": "https://example.org/"})
    for iri in (
        "https://schema.org/name",
        "http://example.com/a#b",
        "urn:ngsi-ld:Vehicle:A4567",
        "urn:example:thing",
        "_:b0",
    ):
        assert c.expand(iri) == iri
        assert c.compact(iri) == iri


def test_a_scheme_is_not_taken_for_a_prefix_before_double_slash() -> None:
    """JSON-LD IRI expansion: "x://..." is an IRI even if "x" is a prefix term."""
    c = ctx({"https": "https://evil.example/"})
    assert c.expand("https://schema.org/name") == "https://schema.org/name"


def test_null_entries_reset_to_the_core_context() -> None:
    """JSON-LD 1.1 context processing: null drops what came before (the core stays)."""
    c = ctx([{"speed": "https://example.org/speed", "@vocab": "https://example.org/"}, None])
    assert c.expand("speed") == DEFAULT_VOCAB + "speed"
    assert c.expand("location") == NGSI_LD + "location"
    c = ctx([None, {"speed": "https://example.org/speed"}])
    assert c.expand("speed") == "https://example.org/speed"


def test_later_definitions_override_earlier_ones_and_null_terms_fall_back() -> None:
    c = ctx(
        [
            {"speed": "https://a.example/speed", "temp": "https://a.example/temp"},
            {"speed": "https://b.example/speed", "temp": None},
        ]
    )
    assert c.expand("speed") == "https://b.example/speed"
    assert c.expand("temp") == DEFAULT_VOCAB + "temp"


@pytest.mark.parametrize("position", ["first", "last"])
def test_core_terms_cannot_be_redefined(position: str) -> None:
    """Clauses 4.4 and 5.5.7: the core @context is protected and always takes precedence."""
    user = {
        "location": "https://example.org/myLocation",
        "type": "https://example.org/type",
        "Property": "https://example.org/Property",
        "ngsi-ld": "https://example.org/",
        "where": "https://uri.etsi.org/ngsi-ld/location",
    }
    value = [CORE_CONTEXT_URL, user] if position == "first" else [user, CORE_CONTEXT_URL]
    c = ctx(value)
    assert c.expand("location") == NGSI_LD + "location"
    assert c.expand("type") == "@type"
    assert c.expand("Property") == NGSI_LD + "Property"
    assert c.expand("ngsi-ld:x") == NGSI_LD + "x"
    # Another term for a core IRI is allowed, but the core term is what gets rendered.
    assert c.expand("where") == NGSI_LD + "location"
    assert c.compact(NGSI_LD + "location") == "location"


def test_user_aliases_of_keywords_and_the_type_container() -> None:
    c = ctx({"@type": {"@container": "@set"}, "kind": "@type"})
    assert c.expand("kind") == "@type"


def test_value_settings_are_ignored() -> None:
    """@container, @language, @protected change values, not which IRI a term names."""
    c = ctx(
        {
            "@version": 1.1,
            "@protected": True,
            "@language": "en",
            "@propagate": True,
            "address": {"@id": "https://schema.org/address", "@protected": True},
            "tags": {"@id": "https://example.org/tags", "@container": "@list"},
            "label": {"@id": "https://example.org/label", "@language": "en"},
            "inverse": {"@reverse": "https://example.org/has"},
        }
    )
    assert c.expand("address") == "https://schema.org/address"
    assert c.expand("tags") == "https://example.org/tags"
    assert c.expand("label") == "https://example.org/label"
    assert c.expand("inverse") == DEFAULT_VOCAB + "inverse"  # reverse terms mean nothing here


def test_scoped_contexts_are_refused() -> None:
    """Clause 5.5.7 (ETSI TP 557_01): a user @context with a scoped context is refused."""
    with pytest.raises(ContextError, match="scoped"):
        ctx(
            {
                "address": {
                    "@id": "https://schema.org/address",
                    "@context": {"location": "https://example.org/location"},
                }
            }
        )


def test_smart_data_models_like_context() -> None:
    """A Smart Data Models style context, with the core URL last as data providers do."""
    c = ctx([SDM_CONTEXT, CORE_CONTEXT_URL])
    assert c.source == [SDM_CONTEXT]
    assert c.expand("AirQualityObserved") == SDM_ENV + "AirQualityObserved"
    assert c.expand("NO2") == SDM_ENV + "NO2"
    assert c.expand("name") == "https://schema.org/name"
    assert c.expand("schema:alternateName") == "https://schema.org/alternateName"
    assert c.expand("id") == "@id"
    assert c.expand("type") == "@type"
    assert c.expand("dateObserved") == DEFAULT_VOCAB + "dateObserved"
    assert c.expand("location") == NGSI_LD + "location"
    for term in ("AirQualityObserved", "NO2", "name", "schema:alternateName", "dateObserved"):
        assert c.compact(c.expand(term)) == term


# --- Compaction (clause 5.5.7) ----------------------------------------------------------------


@pytest.mark.parametrize(
    "term",
    ["speed", "Vehicle", "ex:speed", "location", "createdAt", "ngsi-ld:x", "urn:a:b", "my:thing"],
)
def test_expand_then_compact_gives_the_term_back(term: str) -> None:
    c = ctx({"ex": "https://example.org/", "Vehicle": "https://example.org/Vehicle"})
    assert c.compact(c.expand(term)) == term


def test_the_users_term_is_preferred_over_vocab_and_compact_iris() -> None:
    """Clause 5.5.7: the user's @context gives back the user's names."""
    c = ctx(
        {
            "ex": "https://example.org/",
            "speed": "https://example.org/speed",
            "rate": DEFAULT_VOCAB + "throughput",
        }
    )
    assert c.compact("https://example.org/speed") == "speed"
    assert c.compact(DEFAULT_VOCAB + "throughput") == "rate"
    # The same IRIs with the core context only: the full IRI, the vocab-relative name.
    assert CORE.compact("https://example.org/speed") == "https://example.org/speed"
    assert CORE.compact(DEFAULT_VOCAB + "throughput") == "throughput"


def test_several_terms_for_one_iri_compact_to_the_shortest() -> None:
    """JSON-LD inverse context: shortest term first, then lexicographically least."""
    c = ctx(
        {"temperature": "https://e.org/t", "temp": "https://e.org/t", "tmp2": "https://e.org/t"}
    )
    assert c.compact("https://e.org/t") == "temp"


def test_the_longest_prefix_wins() -> None:
    c = ctx({"ex": "https://example.org/", "exv": "https://example.org/vocab/"})
    assert c.compact("https://example.org/vocab/speed") == "exv:speed"
    assert c.compact("https://example.org/other") == "ex:other"


def test_compaction_never_returns_something_that_expands_elsewhere() -> None:
    """JSON-LD IRI compaction: a vocab-relative name must not be a term of its own."""
    c = ctx({"speed": "https://example.org/speed"})
    # "speed" means example.org here, so the default-context IRI cannot compact to it.
    compacted = c.compact(DEFAULT_VOCAB + "speed")
    assert compacted == "ngsi-ld:default-context/speed"
    assert c.expand(compacted) == DEFAULT_VOCAB + "speed"
    # Same for the core's terms: location in the default context is not "location".
    assert CORE.compact(DEFAULT_VOCAB + "location") == "ngsi-ld:default-context/location"


def test_iris_with_no_term_or_prefix_are_rendered_in_full() -> None:
    """Clause 5.5.7: "implementations shall render Fully Qualified Names"."""
    c = ctx(SDM_CONTEXT)
    assert c.compact("https://other.example/x") == "https://other.example/x"


# --- Remote contexts --------------------------------------------------------------------------


def test_nested_remote_contexts_are_fetched_until_nothing_is_missing() -> None:
    """Clause 6.3.5 (Link header) with contexts that include others, as JSON-LD allows."""
    server = {
        "https://ctx.example/main.jsonld": {
            "@context": ["common.jsonld", {"Vehicle": "cx:Vehicle"}]
        },
        "https://ctx.example/common.jsonld": {
            "@context": [
                {"cx": "https://vocab.example/"},
                "https://other.example/units.jsonld",
                CORE_CONTEXT_URL,
            ]
        },
        "https://other.example/units.jsonld": {"@context": {"unit": "https://units.example/u"}},
    }
    value = "https://ctx.example/main.jsonld"
    assert remote_urls(value) == [value]
    documents: dict[str, object] = {}
    rounds = []
    while missing := missing_urls(value, documents):
        rounds.append(missing)
        documents.update({url: server[url] for url in missing})
    assert rounds == [
        ["https://ctx.example/main.jsonld"],
        ["https://ctx.example/common.jsonld"],  # resolved against the including document
        ["https://other.example/units.jsonld"],
    ]
    c = build_context(value, documents)
    assert c.source == [value]
    assert c.expand("Vehicle") == "https://vocab.example/Vehicle"
    assert c.expand("unit") == "https://units.example/u"
    assert c.compact("https://vocab.example/Vehicle") == "Vehicle"


def test_remote_urls_lists_urls_and_imports_without_core_ones() -> None:
    value = [
        "https://a.example/1.jsonld",
        {"@import": "https://b.example/2.jsonld", "x": "https://x.example/"},
        CORE_CONTEXT_URL,
        "https://a.example/1.jsonld",
        None,
    ]
    assert remote_urls(value) == ["https://a.example/1.jsonld", "https://b.example/2.jsonld"]


def test_import_merges_the_imported_context_under_the_local_one() -> None:
    """JSON-LD 1.1 "@import": the local definitions override the imported ones."""
    documents: dict[str, object] = {
        "https://a.example/base.jsonld": {
            "@context": {"speed": "https://a.example/speed", "temp": "https://a.example/temp"}
        }
    }
    value = {"@import": "https://a.example/base.jsonld", "temp": "https://b.example/temp"}
    assert missing_urls(value, {}) == ["https://a.example/base.jsonld"]
    c = build_context(value, documents)
    assert c.expand("speed") == "https://a.example/speed"
    assert c.expand("temp") == "https://b.example/temp"


def test_remote_context_errors() -> None:
    url = "https://a.example/ctx.jsonld"
    with pytest.raises(ContextError, match="has not been retrieved"):
        build_context(url, {})
    with pytest.raises(ContextError, match="no '@context'"):
        build_context(url, {url: {"speed": "https://a.example/speed"}})
    loop: dict[str, object] = {url: {"@context": ["https://b.example/ctx.jsonld"]}}
    loop["https://b.example/ctx.jsonld"] = {"@context": url}
    assert missing_urls(url, loop) == []  # the loop terminates ...
    with pytest.raises(ContextError, match="includes itself"):
        build_context(url, loop)  # ... and is refused
    with pytest.raises(ContextError, match="not an absolute URL"):
        missing_urls("ctx.jsonld", {})


# --- Invalid @context -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (42, "got a number"),
        (True, "got a boolean"),
        ([[{"a": "https://e.org/a"}]], "got an array"),
        ({"speed": 42}, "Term 'speed'"),
        ({"speed": ["https://e.org/a"]}, "Term 'speed'"),
        ({"speed": {"@id": 42}}, '"@id" must be an IRI string'),
        ({"speed": {"@id": "https://e.org/s", "unit": "km/h"}}, "'unit' cannot appear"),
        ({"speed": {"@id": "https://e.org/s", "@type": 5}}, '"@type" must be a string'),
        ({"a": "b:x", "b": "a:y"}, r"cycle: a -> b -> a"),
        ({"a": "a:x"}, r"cycle: a -> a"),
        ({"@id": "https://e.org/id"}, "keyword"),
        ({"@context": {"a": "https://e.org/a"}}, "not a document"),
        ({"": "https://e.org/empty"}, "empty string"),
        ({"@version": 1.0}, '"@version" must be the number 1.1'),
        ({"@vocab": 3}, '"@vocab" must be'),
        ({"@vocab": "relative/"}, '"@vocab" must be an absolute IRI'),
        ({"ex": "https://e.org/", "ex:a": "https://other.org/a"}, "looks like the IRI"),
        ({"x": {"@id": "https://e.org/x", "@reverse": "https://e.org/y"}}, "cannot be combined"),
        ({"x": "@context"}, "cannot be aliased"),
    ],
)
def test_invalid_contexts_raise_context_error(value: Any, message: str) -> None:
    """Clause 5.5.7 and JSON-LD 1.1: invalid @context content is an error (BadRequestData)."""
    with pytest.raises(ContextError, match=message):
        build_context(value, {})


def test_context_error_is_a_value_error() -> None:
    assert issubclass(ContextError, ValueError)


# --- IRIs, performance and sharing ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("urn:ngsi-ld:Vehicle:A4567", True),
        ("https://example.org/a", True),
        ("mailto:a@example.org", True),
        ("a+b.c-d:x", True),
        ("schema:name", True),  # syntactically: a compact IRI looks like a scheme
        ("Vehicle", False),
        ("urn:", False),
        ("1abc:x", False),
        ("_:b0", False),
        (":x", False),
        ("urn:a b", False),
        ("urn:a\nb", False),
        ("", False),
    ],
)
def test_is_absolute_iri(value: str, expected: bool) -> None:
    """RFC 3986 scheme syntax: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" and more."""
    assert is_absolute_iri(value) is expected


def test_expansion_and_compaction_are_memoised_and_bounded() -> None:
    c = ctx({"ex": "https://example.org/"})
    first = c.expand("speed")
    assert c.expand("speed") is first
    assert c.compact(first) is c.compact(first)
    for i in range(10_000):  # a client inventing names cannot grow the memo without bound
        assert c.expand(f"n{i}") == f"{DEFAULT_VOCAB}n{i}"
        assert c.compact(f"https://example.org/n{i}") == f"ex:n{i}"
    assert c.expand("ex:speed") == "https://example.org/speed"
    assert c.compact(NGSI_LD + "location") == "location"


def test_contexts_are_immutable_and_hashable_by_identity() -> None:
    a, b = ctx(SDM_CONTEXT), ctx(SDM_CONTEXT)
    assert a != b
    assert len({a, b, CORE}) == 3
    with pytest.raises(AttributeError):
        a._vocab = "https://example.org/"
    a.source.append("https://example.org/x")
    assert a.source == [SDM_CONTEXT]
