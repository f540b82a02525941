"""GET /openapi.json: the OpenAPI 3.1 document, checked against the routes the app serves.

- every route the app registers (less HEAD and aiohttp's own) is documented, and every
  documented operation is a route; a path with a trailing slash counts as documented when
  its operation says "x-kaido-trailing-slash" (and such a flag must have its route);
- each operation documents exactly the query parameters its handler accepts (found by
  recording what each handler passes to check_params);
- the document is valid OpenAPI 3.1 (structural checks here, without network, plus
  openapi-spec-validator), and a few real responses match their documented schemas.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from broker.api import create_app
from broker.api.openapi import OPENAPI_PATH, TRAILING_SLASH, document
from broker.api.requests import check_params
from broker.ngsild.errors import InvalidRequest
from broker.settings import Settings

Client = Any
Doc = dict[str, Any]

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
NGSI = "/ngsi-ld/v1"


# -- helpers ---------------------------------------------------------------------------------


def normalize(path: str) -> str:
    """aiohttp's pattern as an OpenAPI path: {entityId:[^/]*} -> {entityId}."""
    return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*):[^}]*\}", r"{\1}", path)


def registered(app: web.Application) -> set[tuple[str, str]]:
    """(METHOD, path) of every route the app serves, HEAD and aiohttp's own left out."""
    out = set()
    for route in app.router.routes():
        resource = route.resource
        if route.method in ("HEAD", "*") or resource is None:
            continue
        if not isinstance(resource, web.PlainResource | web.DynamicResource):
            continue  # static files and other system resources
        out.add((route.method, normalize(resource.canonical)))
    return out


def operations(doc: Doc) -> Iterator[tuple[str, str, Doc]]:
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def documented(doc: Doc) -> set[tuple[str, str]]:
    """(METHOD, path) of every operation, plus the trailing-slash twins they declare."""
    out = set()
    for method, path, op in operations(doc):
        out.add((method, path))
        if op.get(TRAILING_SLASH):
            out.add((method, path + "/"))
    return out


def resolve(doc: Doc, node: Any) -> Any:
    """node with its (local) $ref followed, as far as it goes."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), f"non-local $ref {ref}"
        node = doc
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        seen += 1
        assert seen < 20, f"$ref loop at {ref}"
    return node


def parameters(doc: Doc, path: str, method: str) -> list[Doc]:
    item = doc["paths"][path]
    op = item[method.lower()]
    return [resolve(doc, p) for p in (*item.get("parameters", ()), *op.get("parameters", ()))]


def walk(node: Any, where: str = "#") -> Iterator[tuple[str, Any]]:
    yield where, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{where}/{i}")


@pytest.fixture(scope="module")
def doc() -> Doc:
    return document()


@pytest.fixture(scope="module")
def app() -> web.Application:
    """The app's routing table (the store is never connected: no request is made)."""
    return create_app(Settings(), "mongodb://127.0.0.1:9")


# -- the document against the routes ---------------------------------------------------------


def test_every_route_is_documented(app: web.Application, doc: Doc) -> None:
    missing = registered(app) - documented(doc)
    assert not missing, (
        "Routes without documentation in broker/api/openapi.py (add the operation, or "
        f"'{TRAILING_SLASH}': true for a trailing-slash twin): {sorted(missing)}"
    )


def test_every_documented_operation_is_a_route(app: web.Application, doc: Doc) -> None:
    extra = documented(doc) - registered(app)
    assert not extra, f"Documented, but the app serves no such route: {sorted(extra)}"


def test_normalize_drops_aiohttp_patterns() -> None:
    assert normalize("/ngsi-ld/v1/entities/{entityId:[^/]*}") == "/ngsi-ld/v1/entities/{entityId}"
    assert normalize("/a/{x:[^/]+}/b/{y}") == "/a/{x}/b/{y}"


def test_a_new_route_without_documentation_is_caught(doc: Doc) -> None:
    app = create_app(Settings(), "mongodb://127.0.0.1:9")

    async def handler(request: web.Request) -> web.Response:
        return web.Response()

    app.router.add_get("/ngsi-ld/v1/undocumented/{thing:[^/]+}", handler)
    assert registered(app) - documented(doc) == {("GET", "/ngsi-ld/v1/undocumented/{thing}")}


async def _allowed_query_params(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> dict[tuple[str, str], frozenset[str]]:
    """What each route's handler passes to check_params, recorded by calling every route
    (a GET /entities/ that aiohttp routes to Retrieve Entity is recorded as what runs)."""
    recorded: list[frozenset[str]] = []

    def recording(request: web.Request, allowed: frozenset[str]) -> None:
        recorded.append(frozenset(allowed))
        raise InvalidRequest("recorded")  # nothing else runs: no request changes anything

    original = check_params
    for name, module in list(sys.modules.items()):
        if name.startswith("broker.api") and getattr(module, "check_params", None) is original:
            monkeypatch.setattr(module, "check_params", recording)
    seen: dict[tuple[str, str], frozenset[str]] = {}
    for method, path in sorted(registered(client.server.app)):
        recorded.clear()
        url = re.sub(r"\{[^}]+\}", "urn:ngsi-ld:Probe:1", path)
        body = b"{}" if method in ("POST", "PUT", "PATCH") else None
        headers = {"Content-Type": "application/json"} if body is not None else {}
        r = await client.request(method, url, data=body, headers=headers)
        await r.read()
        # No check_params call: the handler reads no query parameter (it ignores them all).
        seen[(method, path)] = recorded[0] if recorded else frozenset()
    return seen


def test_trailing_slash_twins_are_the_same_operation(app: web.Application, doc: Doc) -> None:
    handlers = {
        (route.method, normalize(route.resource.canonical)): route.handler
        for route in app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }
    for method, path, op in operations(doc):
        if op.get(TRAILING_SLASH):
            assert handlers[(method, path + "/")] is handlers[(method, path)], (method, path)


async def test_documented_query_parameters_are_those_accepted(
    client: Client, monkeypatch: pytest.MonkeyPatch, doc: Doc
) -> None:
    accepted = await _allowed_query_params(client, monkeypatch)
    problems = []
    for (method, path), allowed in sorted(accepted.items()):
        target = path if path in doc["paths"] else path.rstrip("/")
        params = parameters(doc, target, method)
        names = {p["name"] for p in params if p["in"] == "query"}
        if names != set(allowed):
            problems.append(
                f"{method} {path}: accepted but not documented {sorted(allowed - names)}, "
                f"documented but refused {sorted(names - allowed)}"
            )
    assert not problems, "\n".join(problems)


# -- the document as OpenAPI 3.1 -------------------------------------------------------------


def test_structure(doc: Doc) -> None:
    assert re.fullmatch(r"3\.1\.\d+", doc["openapi"])
    assert doc["info"]["title"] and doc["info"]["version"]
    assert doc["paths"]
    for path in doc["paths"]:
        assert path.startswith("/"), path
        assert path == "/" or not path.endswith("/"), f"{path}: use {TRAILING_SLASH}"


def test_every_ref_resolves(doc: Doc) -> None:
    refs = [(w, node["$ref"]) for w, node in walk(doc) if isinstance(node, dict) and "$ref" in node]
    assert refs
    for where, ref in refs:
        try:
            resolve(doc, {"$ref": ref})
        except (KeyError, IndexError, TypeError):
            pytest.fail(f"{where}: $ref {ref} does not resolve")


def test_every_component_is_used(doc: Doc) -> None:
    refs = {node["$ref"] for _, node in walk(doc) if isinstance(node, dict) and "$ref" in node}
    for kind, items in doc["components"].items():
        for name in items:
            assert f"#/components/{kind}/{name}" in refs, f"unused component {kind}/{name}"


def test_every_operation_is_complete(doc: Doc) -> None:
    ids = []
    for method, path, op in operations(doc):
        where = f"{method} {path}"
        ids.append(op["operationId"])
        assert op.get("summary") and op.get("tags"), where
        responses = op.get("responses")
        assert responses, f"{where} has no responses"
        for code, response in responses.items():
            assert re.fullmatch(r"[1-5]\d\d", code), f"{where}: status {code}"
            assert resolve(doc, response).get("description"), f"{where} {code}"
        assert any(code.startswith("2") for code in responses), f"{where}: no success"
        # Path templates and path parameters agree, and are all required.
        params = parameters(doc, path, method)
        in_path = {p["name"] for p in params if p["in"] == "path"}
        assert in_path == set(re.findall(r"\{([^}]+)\}", path)), where
        assert all(p["required"] for p in params if p["in"] == "path"), where
        names = [(p["name"], p["in"]) for p in params]
        assert len(names) == len(set(names)), f"{where}: a parameter twice"
        if method in ("POST", "PUT", "PATCH") and "requestBody" in op:
            assert "411" in responses and "413" in responses and "415" in responses, where
    assert len(ids) == len(set(ids)), "duplicate operationId"


def test_every_schema_is_a_valid_json_schema(doc: Doc) -> None:
    schemas = [
        (where, node)
        for where, node in walk(doc)
        if (where.startswith("#/components/schemas/") and where.count("/") == 3)
        or (where.endswith("/schema") and "/components/schemas/" not in where)
    ]
    assert len(schemas) > 100
    for where, schema in schemas:
        try:
            Draft202012Validator.check_schema(schema)
        except Exception as err:
            pytest.fail(f"{where}: {err}")


def test_ngsi_ld_error_types_are_documented(doc: Doc) -> None:
    responses = doc["components"]["responses"]
    expected = {
        "BadRequest": {"InvalidRequest", "BadRequestData"},
        "NotFound": {"ResourceNotFound", "NonexistentTenant"},
        "Conflict": {"AlreadyExists"},
        "Unprocessable": {"OperationNotSupported"},
        "ServiceUnavailable": {"LdContextNotAvailable"},
        "InternalError": {"InternalError"},
    }
    for name, types in expected.items():
        schema = responses[name]["content"]["application/json"]["schema"]
        uris = schema["allOf"][1]["properties"]["type"]["enum"]
        assert {u.rsplit("/", 1)[1] for u in uris} == types
        assert all(u.startswith("https://uri.etsi.org/ngsi-ld/errors/") for u in uris)


def test_openapi_spec_validator(doc: Doc) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    validator.OpenAPIV31SpecValidator(doc).validate()
    broken = document()
    broken["paths"]["/version"]["get"]["responses"]["200"] = {"$ref": "#/nowhere"}
    with pytest.raises(Exception):  # noqa: B017 - any validation error will do
        validator.OpenAPIV31SpecValidator(broken).validate()


# -- served, and matching real responses -----------------------------------------------------


def _validator(doc: Doc, path: str, method: str, status: int, media_type: str) -> Any:
    op = doc["paths"][path][method]
    response = resolve(doc, op["responses"][str(status)])
    pointer = "/".join(
        ["#/paths", path.replace("~", "~0").replace("/", "~1"), method, "responses", str(status)]
    )
    if "$ref" in op["responses"][str(status)]:
        pointer = op["responses"][str(status)]["$ref"]
    assert media_type in response["content"], (path, method, status, media_type)
    schema_ref = f"{pointer}/content/{media_type.replace('/', '~1')}/schema"
    registry = Registry().with_resource(
        "urn:kaido:openapi", Resource.from_contents(doc, default_specification=DRAFT202012)
    )
    return Draft202012Validator({"$ref": "urn:kaido:openapi" + schema_ref}, registry=registry)


def _check(doc: Doc, path: str, method: str, status: int, body: Any, media: str = "") -> None:
    media = media or "application/json"
    errors = list(_validator(doc, path, method, status, media).iter_errors(body))
    assert not errors, f"{method.upper()} {path} {status}: {errors[0].message}"


async def test_served_at_openapi_json(client: Client, doc: Doc) -> None:
    r = await client.get(OPENAPI_PATH)
    assert r.status == 200
    assert r.content_type == "application/json"
    assert await r.json() == doc
    r = await client.get(OPENAPI_PATH, params={"nope": "1"})
    assert r.status == 400


async def test_real_responses_match_the_documented_schemas(client: Client, doc: Doc) -> None:
    ents = f"{NGSI}/entities"
    one = ents + "/{entityId}"
    entity = {
        "id": "urn:ngsi-ld:Car:1",
        "type": "Car",
        "speed": {"type": "Property", "value": 80, "unitCode": "KMH"},
        "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:1"},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1, 2]}},
        "name": {"type": "LanguageProperty", "languageMap": {"en": "car", "fr": "voiture"}},
    }
    r = await client.post(ents, json=entity)
    assert r.status == 201
    assert r.headers["Location"] == f"{ents}/urn:ngsi-ld:Car:1"

    r = await client.get(f"{ents}/urn:ngsi-ld:Car:1", params={"options": "sysAttrs"})
    _check(doc, one, "get", 200, await r.json())
    assert resolve(doc, doc["components"]["schemas"]["Entity"])  # normalized
    r = await client.get(f"{ents}/urn:ngsi-ld:Car:1", headers={"Accept": "application/ld+json"})
    _check(doc, one, "get", 200, await r.json(), "application/ld+json")
    r = await client.get(f"{ents}/urn:ngsi-ld:Car:1", headers={"Accept": "application/geo+json"})
    _check(doc, one, "get", 200, await r.json(), "application/geo+json")

    r = await client.get(ents, params={"type": "Car", "count": "true", "options": "keyValues"})
    assert r.headers["NGSILD-Results-Count"] == "1"
    _check(doc, ents, "get", 200, await r.json())

    r = await client.post(ents, json=entity)  # 409 AlreadyExists
    _check(doc, ents, "post", 409, await r.json())
    r = await client.get(f"{ents}/urn:ngsi-ld:Car:404")
    _check(doc, one, "get", 404, await r.json())
    r = await client.get(ents, params={"bogus": "1"})
    _check(doc, ents, "get", 400, await r.json())
    r = await client.get(ents, params={"type": "Car", "join": "inline"})
    _check(doc, ents, "get", 422, await r.json())

    r = await client.post(
        f"{ents}/urn:ngsi-ld:Car:1/attrs",
        params={"options": "noOverwrite"},
        json={"speed": {"type": "Property", "value": 1}},
    )
    assert r.status == 207
    _check(doc, one + "/attrs", "post", 207, await r.json())

    batch = f"{NGSI}/entityOperations"
    r = await client.post(
        batch + "/create", json=[{"id": "urn:ngsi-ld:Car:2", "type": "Car"}, entity]
    )
    assert r.status == 207
    _check(doc, batch + "/create", "post", 207, await r.json())

    r = await client.get(f"{NGSI}/types")
    _check(doc, f"{NGSI}/types", "get", 200, await r.json())
    r = await client.get(f"{NGSI}/types", params={"details": "true"})
    _check(doc, f"{NGSI}/types", "get", 200, await r.json())
    r = await client.get(
        f"{NGSI}/types", params={"details": "true"}, headers={"Accept": "application/ld+json"}
    )
    _check(doc, f"{NGSI}/types", "get", 200, await r.json(), "application/ld+json")
    r = await client.get(f"{NGSI}/types/Car")
    _check(doc, f"{NGSI}/types/{{type}}", "get", 200, await r.json())
    r = await client.get(f"{NGSI}/attributes", params={"details": "true"})
    _check(doc, f"{NGSI}/attributes", "get", 200, await r.json())
    r = await client.get(f"{NGSI}/attributes/speed")
    _check(doc, f"{NGSI}/attributes/{{attrId}}", "get", 200, await r.json())

    subs = f"{NGSI}/subscriptions"
    sub = {
        "type": "Subscription",
        "entities": [{"type": "Car"}],
        "notification": {"endpoint": {"uri": "http://127.0.0.1:9/notify"}},
    }
    r = await client.post(subs, json=sub)
    assert r.status == 201
    r = await client.get(subs)
    _check(doc, subs, "get", 200, await r.json())

    r = await client.get(f"{NGSI}/jsonldContexts", params={"details": "true"})
    _check(doc, f"{NGSI}/jsonldContexts", "get", 200, await r.json())

    r = await client.get("/version")
    _check(doc, "/version", "get", 200, await r.json())
    r = await client.get("/health")
    _check(doc, "/health", "get", 200, await r.json())
    r = await client.get("/models")
    _check(doc, "/models", "get", 200, await r.json())
    r = await client.get("/config/model-enforcement")
    _check(doc, "/config/model-enforcement", "get", 200, await r.json())


def test_schemas_refuse_what_they_should(doc: Doc) -> None:
    """The schemas are loose where NGSI-LD is, but not empty: a few payloads they refuse."""
    one = f"{NGSI}/entities/{{entityId}}"
    v = _validator(doc, one, "get", 200, "application/geo+json")
    assert not v.is_valid({"type": "FeatureCollection", "features": []})
    v = _validator(doc, f"{NGSI}/entityOperations/create", "post", 207, "application/json")
    assert not v.is_valid({"success": ["urn:a"]})
    v = _validator(doc, f"{NGSI}/entities", "post", 409, "application/json")
    problem = {"type": "https://uri.etsi.org/ngsi-ld/errors/BadRequestData", "title": "t"}
    assert not v.is_valid({**problem, "status": 409, "detail": "d"})
