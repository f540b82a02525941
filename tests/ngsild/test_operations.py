"""The update operations of clause 5.6 as pure functions."""

from __future__ import annotations

from typing import Any

import pytest

from broker.ngsild.context import CORE
from broker.ngsild.errors import BadRequestData, ResourceNotFound
from broker.ngsild.operations import (
    append_attrs,
    delete_attr,
    merge_entity,
    partial_update_attr,
    replace_attr,
    update_attrs,
)
from broker.ngsild.parse import parse_entity, parse_fragment

T0 = "2026-01-01T00:00:00.000Z"
T1 = "2026-01-01T00:00:01.000Z"
D = "https://uri.etsi.org/ngsi-ld/default-context/"


def base() -> dict[str, Any]:
    return parse_entity(
        {
            "id": "urn:a:1",
            "type": "T",
            "a": {"type": "Property", "value": 1, "sub": {"type": "Property", "value": "s"}},
            "b": [
                {"type": "Property", "value": 2},
                {"type": "Property", "value": 3, "datasetId": "urn:ds:1"},
            ],
        },
        CORE,
        T0,
    )


def frag(body: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return parse_fragment(body, CORE, T1, **kw)


def test_append_adds_and_overwrites_keeping_created_at() -> None:
    """Clause 5.6.3: append overwrites existing attributes unless noOverwrite."""
    old = base()
    new, result = append_attrs(old, frag({"a": 10, "c": 5}), T1)
    assert result.updated == [D + "a", D + "c"] and not result.not_updated
    assert new["attrs"][D + "a"][0]["value"] == 10
    assert new["attrs"][D + "a"][0]["createdAt"] == T0
    assert new["modifiedAt"] == T1
    assert old["attrs"][D + "a"][0]["value"] == 1  # the input is not changed


def test_append_no_overwrite_reports_what_was_kept() -> None:
    new, result = append_attrs(base(), frag({"a": 10, "c": 5}), T1, no_overwrite=True)
    assert result.updated == [D + "c"]
    assert [iri for iri, _ in result.not_updated] == [D + "a"]
    assert new["attrs"][D + "a"][0]["value"] == 1


def test_update_replaces_whole_instances_and_adds_new_ones() -> None:
    """Clause 5.6.2, as the ETSI suite reads it (TP 011_01): an instance is replaced whole
    (sub-attributes not given are gone) and attributes not there yet are added."""
    new, result = update_attrs(base(), frag({"a": 7, "zz": 1}, partial=True), T1)
    assert result.updated == [D + "a", D + "zz"] and not result.not_updated
    assert new["attrs"][D + "a"][0] == {
        "type": "Property",
        "value": 7,
        "createdAt": T0,
        "modifiedAt": T1,
    }
    assert new["attrs"][D + "zz"][0]["value"] == 1


def test_update_with_null_deletes_one_instance() -> None:
    patch = frag({"b": {"value": "urn:ngsi-ld:null", "datasetId": "urn:ds:1"}}, partial=True)
    new, _ = update_attrs(base(), patch, T1)
    assert [i["value"] for i in new["attrs"][D + "b"]] == [2]


def test_update_scope_only_where_there_is_one() -> None:
    _, result = update_attrs(base(), {}, T1, scope=["/A"])
    assert result.not_updated == [("scope", "The entity has no scope to update")]


def test_partial_update_merges_one_instance() -> None:
    """Clause 5.6.4: only the members given change; sub-properties are kept."""
    patch = frag({"b": {"value": 30, "datasetId": "urn:ds:1"}}, partial=True)[D + "b"]
    new = partial_update_attr(base(), D + "b", "b", patch, T1)
    assert [i["value"] for i in new["attrs"][D + "b"]] == [2, 30]
    patch = frag({"a": {"value": 11}}, partial=True)[D + "a"]
    new = partial_update_attr(base(), D + "a", "a", patch, T1)
    assert new["attrs"][D + "a"][0]["sub"][D + "sub"]["value"] == "s"


def test_partial_update_of_a_missing_attribute_is_not_found() -> None:
    with pytest.raises(ResourceNotFound):
        partial_update_attr(base(), D + "x", "x", frag({"x": 1})[D + "x"], T1)


def test_replace_attribute_replaces_the_whole_instance() -> None:
    """Clause 5.6.19: sub-properties not given are gone."""
    new = replace_attr(
        base(), D + "a", "a", frag({"a": {"type": "Property", "value": 5}})[D + "a"], T1
    )
    assert new["attrs"][D + "a"][0] == {
        "type": "Property",
        "value": 5,
        "createdAt": T0,
        "modifiedAt": T1,
    }


def test_delete_attribute_instances() -> None:
    """Clause 5.6.5: datasetId picks one instance, deleteAll removes all."""
    new = delete_attr(base(), D + "b", "b", T1, dataset_id="urn:ds:1")
    assert [i.get("datasetId") for i in new["attrs"][D + "b"]] == [None]
    new = delete_attr(base(), D + "b", "b", T1, delete_all=True)
    assert D + "b" not in new["attrs"]
    with pytest.raises(ResourceNotFound):
        delete_attr(base(), D + "b", "b", T1, dataset_id="urn:ds:nope")


def test_partial_update_cannot_change_the_kind() -> None:
    with pytest.raises(BadRequestData):
        patch = frag({"a": {"type": "Relationship", "object": "urn:x:1"}}, partial=True)[D + "a"]
        partial_update_attr(base(), D + "a", "a", patch, T1)


def test_merge_entity() -> None:
    """Clause 5.6.17: merge-patch: add, merge members, and delete with urn:ngsi-ld:null."""
    patch = frag({"a": {"value": 9}, "c": 1}, partial=True)
    new = merge_entity(base(), [], patch, T1)
    assert new["attrs"][D + "a"][0]["value"] == 9
    assert new["attrs"][D + "a"][0]["sub"][D + "sub"]["value"] == "s"
    assert new["attrs"][D + "c"][0]["value"] == 1


def test_merge_null_removes_only_the_default_instance() -> None:
    """Clause 5.6.17 with TP 056_05: null without datasetId removes the default instance."""
    new = merge_entity(base(), [], frag({"b": "urn:ngsi-ld:null"}, partial=True), T1)
    assert [i.get("datasetId") for i in new["attrs"][D + "b"]] == ["urn:ds:1"]
