"""The OpenAPI 3.1 description of the whole HTTP API, served at GET /openapi.json.

The document is built here, in code, rather than kept as a file: the NGSI-LD error type
URIs, the subscription enums and the version come from the modules that define them, the
many operations that share parameters and error responses share one definition, and the
package needs no data file. It describes Kaido's own routes (checked against
app.router.routes() by tests/api/test_openapi.py, both ways, query parameters included),
not the whole ETSI API: what Kaido does not serve is not in it.

Paths are written without a trailing slash. Where aiohttp also serves the same operation
at the path with a trailing slash (POST /ngsi-ld/v1/entities/ ...), the operation says so
with "x-kaido-trailing-slash": true instead of being documented twice (a second copy would
need its own operationId and would double every generated client method).
"""

from __future__ import annotations

from functools import cache
from typing import Any, Final

import orjson
from aiohttp import web

from .. import __version__
from ..ngsild.context import CORE_CONTEXT_URL
from ..ngsild.errors import (
    ERROR_BASE,
    AlreadyExists,
    BadRequestData,
    InternalError,
    InvalidRequest,
    LdContextNotAvailable,
    NgsiError,
    NonexistentTenant,
    OperationNotSupported,
    ResourceNotFound,
)
from ..ngsild.model import MAIN_MEMBER
from ..ngsild.subscription import ACCEPTS, FORMATS, TRIGGERS
from .negotiation import GEOJSON, JSON, JSONLD, MERGE_PATCH
from .requests import check_params

__all__ = ["OPENAPI_PATH", "TRAILING_SLASH", "document", "routes"]

OPENAPI_PATH: Final = "/openapi.json"
#: The operation extension that says "also served at this path with a trailing slash".
TRAILING_SLASH: Final = "x-kaido-trailing-slash"

Obj = dict[str, Any]

routes = web.RouteTableDef()


@routes.get(OPENAPI_PATH)
async def openapi_json(request: web.Request) -> web.Response:
    """This API's OpenAPI 3.1 description."""
    check_params(request, frozenset())
    return web.Response(body=_document_bytes(), content_type=JSON)


@cache
def _document_bytes() -> bytes:
    return orjson.dumps(document())


# -- small builders --------------------------------------------------------------------------


def _ref(kind: str, name: str) -> Obj:
    return {"$ref": f"#/components/{kind}/{name}"}


def _s(name: str) -> Obj:
    """A reference to a component schema."""
    return _ref("schemas", name)


def _p(name: str) -> Obj:
    """A reference to a component parameter."""
    return _ref("parameters", name)


def _array(items: Obj, **extra: Any) -> Obj:
    return {"type": "array", "items": items, **extra}


def _uri(description: str | None = None) -> Obj:
    out: Obj = {"type": "string", "format": "uri"}
    if description:
        out["description"] = description
    return out


def _string(description: str | None = None, **extra: Any) -> Obj:
    out: Obj = {"type": "string", **extra}
    if description:
        out["description"] = description
    return out


def _with_context(schema: Obj) -> Obj:
    """schema, plus the '@context' member that application/ld+json payloads carry."""
    return {
        "allOf": [
            schema,
            {
                "type": "object",
                "required": ["@context"],
                "properties": {"@context": _s("LdContext")},
            },
        ]
    }


def _query(
    name: str, schema: Obj, description: str, *, explode: bool | None = None, **extra: Any
) -> Obj:
    out: Obj = {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }
    if explode is not None:
        out["style"] = "form"
        out["explode"] = explode
    out.update(extra)
    return out


def _options(values: list[str], description: str) -> Obj:
    return _query(
        "options",
        _array({"type": "string", "enum": values}, uniqueItems=True),
        description + " Comma-separated; unknown options are refused with 400 InvalidRequest.",
        explode=False,
    )


def _not_yet(name: str, schema: Obj | None = None) -> Obj:
    return _query(
        name,
        schema or {"type": "string"},
        "Recognised but not implemented yet: present, it makes Kaido answer 422 "
        "OperationNotSupported.",
    )


def _ignored(name: str, what: str) -> Obj:
    return _query(name, {"type": "string"}, f"{what} Accepted, and has no effect in Kaido.")


def _headers(*names: str) -> Obj:
    return {name: _ref("headers", name) for name in ("NGSILD-Tenant", "X-Request-Id", *names)}


def _response(
    description: str, content: Obj | None = None, *, headers: tuple[str, ...] = ()
) -> Obj:
    out: Obj = {"description": description, "headers": _headers(*headers)}
    if content is not None:
        out["content"] = content
    return out


def _json_content(schema: Obj) -> Obj:
    return {JSON: {"schema": schema}}


def _ngsi_content(schema: Obj, geojson: Obj | None = None) -> Obj:
    """application/json (the @context in a Link header), application/ld+json (in the body),
    and GeoJSON where the operation offers it."""
    out = {JSON: {"schema": schema}, JSONLD: {"schema": _ld(schema)}}
    if geojson is not None:
        out[GEOJSON] = {"schema": geojson}
    return out


def _ld(schema: Obj) -> Obj:
    """schema in application/ld+json: each object (each item of an array) has @context."""
    if "oneOf" in schema:
        return {"oneOf": [_ld(alternative) for alternative in schema["oneOf"]]}
    if schema.get("type") == "array":
        return _array(_with_context(schema["items"]))
    return _with_context(schema)


def _body(
    description: str, schema: Obj, *, merge_patch: bool = False, ld_schema: Obj | None = None
) -> Obj:
    """A request body in application/json (@context in the Link header) or
    application/ld+json (@context in the body), and JSON Merge Patch where accepted."""
    content: Obj = {
        JSON: {"schema": schema},
        JSONLD: {"schema": ld_schema if ld_schema is not None else _with_context(schema)},
    }
    if merge_patch:
        content[MERGE_PATCH] = {"schema": schema}
    return {"required": True, "description": description, "content": content}


def _plain_body(description: str, schema: Obj) -> Obj:
    """A JSON body whose @context (if any) is not read: application/json or ld+json."""
    return {
        "required": True,
        "description": description,
        "content": {JSON: {"schema": schema}, JSONLD: {"schema": schema}},
    }


def _errors(*codes: int) -> Obj:
    names = {
        400: "BadRequest",
        404: "NotFound",
        406: "NotAcceptable",
        409: "Conflict",
        411: "LengthRequired",
        413: "PayloadTooLarge",
        415: "UnsupportedMediaType",
        422: "Unprocessable",
        500: "InternalError",
        503: "ServiceUnavailable",
    }
    return {str(code): _ref("responses", names[code]) for code in (*codes, 500)}


#: The errors of any request with a body (the protocol middleware and the body reader).
_BODY_ERRORS: Final = (400, 411, 413, 415)


def _operation(
    op_id: str,
    tag: str,
    summary: str,
    description: str,
    responses: Obj,
    *,
    params: list[Obj] | None = None,
    body: Obj | None = None,
    trailing_slash: bool = False,
    tenant: bool = True,
    link: bool = True,
) -> Obj:
    parameters = list(params or [])
    if link:
        parameters.append(_p("Link"))
    if tenant:
        parameters.append(_p("NGSILD-Tenant"))
    parameters.append(_p("X-Request-Id"))
    out: Obj = {
        "operationId": op_id,
        "tags": [tag],
        "summary": summary,
        "description": description,
    }
    if parameters:
        out["parameters"] = parameters
    if body is not None:
        out["requestBody"] = body
    out["responses"] = dict(sorted(responses.items()))
    if trailing_slash:
        out[TRAILING_SLASH] = True
    return out


# -- the document ----------------------------------------------------------------------------

_PROVISION = "Context Information Provision"
_CONSUMPTION = "Context Information Consumption"
_BATCH = "Batch operations"
_DISCOVERY = "Discovery"
_SUBSCRIPTION = "Context Information Subscription"
_CONTEXTS = "JSON-LD Context API"
_MODELS = "Data models"
_OPERATIONS = "Operations"

_NGSI = "/ngsi-ld/v1"


def document() -> Obj:
    """The OpenAPI 3.1 document, a fresh copy on each call."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Kaido NGSI-LD context broker",
            "version": __version__,
            "summary": "The HTTP API of Kaido, an NGSI-LD context broker (ETSI GS CIM 009 "
            "V1.9.1) on MongoDB.",
            "description": _INFO_DESCRIPTION,
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "externalDocs": {
            "description": "ETSI GS CIM 009 V1.9.1, Context Information Management (CIM); "
            "NGSI-LD API",
            "url": "https://www.etsi.org/deliver/etsi_gs/CIM/001_099/009/01.09.01_60/"
            "gs_CIM009v010901p.pdf",
        },
        "servers": [{"url": "/", "description": "The broker that serves this document"}],
        "tags": [
            {"name": _PROVISION, "description": "Create, update and delete entities (6.4-6.7)."},
            {"name": _CONSUMPTION, "description": "Retrieve and query entities (6.4-6.5)."},
            {"name": _BATCH, "description": "Batch entity operations (6.14-6.18, 6.23, 6.31)."},
            {"name": _DISCOVERY, "description": "Entity types and attributes (6.25-6.28)."},
            {"name": _SUBSCRIPTION, "description": "Subscriptions (6.10-6.11)."},
            {"name": _CONTEXTS, "description": "Hosted and cached @contexts (6.29)."},
            {"name": _MODELS, "description": "Kaido's data-model (JSON Schema) API."},
            {"name": _OPERATIONS, "description": "Version, health, metrics and this document."},
        ],
        "paths": _paths(),
        "webhooks": {
            "notification": {
                "post": {
                    "operationId": "receiveNotification",
                    "tags": [_SUBSCRIPTION],
                    "summary": "A notification, as Kaido sends it to a subscription's endpoint",
                    "description": (
                        "Sent to notification.endpoint.uri (HTTP POST, or an MQTT publish). "
                        "With endpoint.accept application/json the @context is in a Link "
                        "header, with application/ld+json it is in the body. receiverInfo "
                        "items become headers, and NGSILD-Tenant names the tenant."
                    ),
                    "requestBody": {
                        "required": True,
                        "content": {
                            JSON: {"schema": _s("Notification")},
                            JSONLD: {"schema": _with_context(_s("Notification"))},
                        },
                    },
                    "responses": {
                        "200": {"description": "Received (any 2xx counts as delivered)."}
                    },
                }
            }
        },
        "components": {
            "schemas": _schemas(),
            "parameters": _parameters(),
            "headers": _response_headers(),
            "responses": _error_responses(),
        },
    }


_INFO_DESCRIPTION = f"""\
The NGSI-LD API lives under `{_NGSI}`; Kaido's own routes (version, health, data models
and this document) are outside it.

- **@context** (clause 6.3.5): a request in `application/json` gives its @context in a
  JSON-LD `Link` header, one in `application/ld+json` in the body's `@context` member;
  mixing the two is a 400. Without either, the core context ({CORE_CONTEXT_URL}) applies.
  Responses in `application/json` carry the @context in a `Link` header, those in
  `application/ld+json` in the body.
- **Tenants** (clause 6.3.14): the `NGSILD-Tenant` header picks the tenant; writes create
  it, reads of a tenant that does not exist are a 404 NonexistentTenant. The header is
  echoed on every response.
- **Errors** are ProblemDetails (RFC 9457) with an NGSI-LD error type URI, except the 411
  (a request with a body but no Content-Length), which has no body.
- **Unknown query parameters** are refused with 400 InvalidRequest, so that a typo in a
  filter never silently returns everything.
- **Data models**: in `warn` mode, a write that does not fit its type's model is stored and
  told in a `Warning` header; in `enforce` mode it is a 400 BadRequestData.
"""


def _paths() -> Obj:
    return {
        **_entity_paths(),
        **_batch_paths(),
        **_discovery_paths(),
        **_context_paths(),
        **_subscription_paths(),
        **_model_paths(),
        **_operation_paths(),
    }


# -- entities --------------------------------------------------------------------------------

_RENDER_OPTIONS: Final = ["keyValues", "simplified", "concise", "normalized", "sysAttrs"]


def _render_params() -> list[Obj]:
    return [
        _options(
            _RENDER_OPTIONS,
            "keyValues (or simplified), concise or normalized (the default) representation, "
            "and sysAttrs for createdAt/modifiedAt.",
        ),
        _p("format"),
        _p("attrs"),
        _p("lang"),
        _p("geometryProperty"),
    ]


def _entity_paths() -> Obj:
    base = f"{_NGSI}/entities"
    one = base + "/{entityId}"
    attrs = one + "/attrs"
    attr = attrs + "/{attrId}"
    entities = _array(_s("EntityRepresentation"))
    write_ok = ("Warning",)
    return {
        base: {
            "post": _operation(
                "createEntity",
                _PROVISION,
                "Create Entity",
                "Clause 6.4.3.1. 201 with the new entity's URL in Location.",
                {
                    "201": _response("Created.", headers=("Location", "Warning")),
                    **_errors(*_BODY_ERRORS, 409, 503),
                },
                params=[_p("local")],
                body=_body(
                    "The entity, normalized or concise: id and type are required.",
                    _s("EntityInput"),
                ),
                trailing_slash=True,
            ),
            "get": _operation(
                "queryEntities",
                _CONSUMPTION,
                "Query Entities",
                "Clause 6.4.3.2 (5.7.2). Needs at least one of type, attrs, q or georel "
                "(or local=true). Pages with limit and offset; count=true returns the "
                "total in NGSILD-Results-Count. Accept: application/geo+json returns a "
                "GeoJSON FeatureCollection.",
                {
                    "200": _response(
                        "The matching entities (an empty array if none).",
                        _ngsi_content(entities, _s("FeatureCollection")),
                        headers=("Link", "NGSILD-Results-Count"),
                    ),
                    **_errors(400, 404, 406, 422, 503),
                },
                params=[
                    _query(
                        "type",
                        {"type": "string"},
                        "Entity type(s): a name, a comma-separated list, or an expression "
                        "with ; (and), | and , (or) and parentheses (clause 4.17); * for any.",
                    ),
                    _query(
                        "id",
                        _array(_uri()),
                        "Entity ids, comma-separated.",
                        explode=False,
                    ),
                    _query("idPattern", {"type": "string"}, "A regular expression on ids."),
                    _query("q", {"type": "string"}, "A query (clause 4.9)."),
                    _p("georel"),
                    _p("geometry"),
                    _p("coordinates"),
                    _p("geoproperty"),
                    _p("limit"),
                    _p("offset"),
                    _p("count"),
                    *_render_params(),
                    _p("local"),
                    _p("Prefer"),
                    _not_yet("csf"),
                    _query("scopeQ", {"type": "string"}, "A scope query (clause 4.19)."),
                    _query(
                        "pick",
                        {"type": "string"},
                        "Entity members to keep, comma-separated (clause 4.21); not with attrs.",
                    ),
                    _query(
                        "omit",
                        {"type": "string"},
                        "Entity members to drop, comma-separated (clause 4.21); not with attrs.",
                    ),
                    _not_yet("datasetId"),
                    _not_yet("join"),
                    _not_yet("orderBy"),
                    _ignored("expandValues", "Clause 4.5.x (linked entities)."),
                    _ignored("joinLevel", "Linked-entity retrieval depth."),
                    _ignored("entityMap", "Entity maps (distributed operations)."),
                    _ignored("orderFrom", "Ordering."),
                    _ignored("collation", "Ordering."),
                ],
                trailing_slash=True,
            ),
        },
        one: {
            "parameters": [_p("entityId")],
            "get": _operation(
                "retrieveEntity",
                _CONSUMPTION,
                "Retrieve Entity",
                "Clause 6.5.3.1. 404 if the entity does not exist, is not of the given "
                "type, or has none of the attributes in attrs. (GET with an empty id, "
                f"`{base}/`, is Query Entities.)",
                {
                    "200": _response(
                        "The entity.",
                        _ngsi_content(_s("EntityRepresentation"), _s("Feature")),
                        headers=("Link",),
                    ),
                    **_errors(400, 404, 406, 422, 503),
                },
                params=[
                    _p("typeSelector"),
                    *_render_params(),
                    _p("local"),
                    _p("Prefer"),
                    _query(
                        "pick",
                        {"type": "string"},
                        "Entity members to keep, comma-separated (clause 4.21); not with attrs.",
                    ),
                    _query(
                        "omit",
                        {"type": "string"},
                        "Entity members to drop, comma-separated (clause 4.21); not with attrs.",
                    ),
                ],
            ),
            "delete": _operation(
                "deleteEntity",
                _PROVISION,
                "Delete Entity",
                "Clause 6.5.3.2.",
                {"204": _response("Deleted."), **_errors(400, 404, 503)},
                params=[_p("typeSelector"), _p("local")],
            ),
            "put": _operation(
                "replaceEntity",
                _PROVISION,
                "Replace Entity",
                "Clause 6.5.3.3: new types and attributes, same id (an id in the body must "
                "match the URL's).",
                {
                    "204": _response("Replaced.", headers=write_ok),
                    **_errors(*_BODY_ERRORS, 404, 503),
                },
                params=[_p("typeSelector"), _p("local")],
                body=_body("The replacement entity.", _s("EntityFragment")),
            ),
            "patch": _operation(
                "mergeEntity",
                _PROVISION,
                "Merge Entity",
                "Clause 6.5.3.4: JSON Merge Patch semantics; NGSI-LD Null removes.",
                {"204": _response("Merged.", headers=write_ok), **_errors(*_BODY_ERRORS, 404, 503)},
                params=[
                    _p("typeSelector"),
                    _p("local"),
                    _ignored("options", "Representation options."),
                    _ignored("format", "Representation format."),
                ],
                body=_body("The entity fragment to merge.", _s("EntityFragment"), merge_patch=True),
            ),
        },
        attrs: {
            "parameters": [_p("entityId")],
            "post": _operation(
                "appendEntityAttrs",
                _PROVISION,
                "Append Entity Attributes",
                "Clause 6.6.3.1. With options=noOverwrite, existing attributes are kept "
                "and reported in a 207 UpdateResult.",
                {
                    "204": _response("All appended.", headers=write_ok),
                    "207": _ref("responses", "UpdateResult"),
                    **_errors(*_BODY_ERRORS, 404, 503),
                },
                params=[
                    _options(["noOverwrite"], "noOverwrite keeps the attributes there are."),
                    _p("typeSelector"),
                    _p("local"),
                ],
                body=_body("The attributes (and optionally type, scope).", _s("EntityFragment")),
                trailing_slash=True,
            ),
            "patch": _operation(
                "updateEntityAttrs",
                _PROVISION,
                "Update Entity Attributes",
                "Clause 6.6.3.2. Only attributes the entity has are updated; the others "
                "are reported in a 207 UpdateResult.",
                {
                    "204": _response("All updated.", headers=write_ok),
                    "207": _ref("responses", "UpdateResult"),
                    **_errors(*_BODY_ERRORS, 404, 503),
                },
                params=[
                    _ignored("options", "Update options."),
                    _p("typeSelector"),
                    _p("local"),
                ],
                body=_body("The attributes to update.", _s("EntityFragment"), merge_patch=True),
                trailing_slash=True,
            ),
        },
        attr: {
            "parameters": [_p("entityId"), _p("attrId")],
            "patch": _operation(
                "partialAttrUpdate",
                _PROVISION,
                "Partial Attribute Update",
                "Clause 6.7.3.1: the members given replace the attribute's ones.",
                {
                    "204": _response("Updated.", headers=write_ok),
                    **_errors(*_BODY_ERRORS, 404, 503),
                },
                params=[_p("typeSelector"), _p("local")],
                body=_body(
                    "An attribute fragment (its type may be left out).",
                    _s("AttributeFragment"),
                    merge_patch=True,
                ),
            ),
            "put": _operation(
                "replaceAttr",
                _PROVISION,
                "Replace Attribute",
                "Clause 6.7.3.3.",
                {
                    "204": _response("Replaced.", headers=write_ok),
                    **_errors(*_BODY_ERRORS, 404, 503),
                },
                params=[_p("typeSelector"), _p("local")],
                body=_body("The new attribute.", _s("AttributeFragment")),
            ),
            "delete": _operation(
                "deleteAttr",
                _PROVISION,
                "Delete Entity Attribute",
                "Clause 6.7.3.2. attrId 'scope' deletes the entity's scope.",
                {"204": _response("Deleted."), **_errors(400, 404, 503)},
                params=[
                    _query("datasetId", _uri(), "The instance to delete."),
                    _query(
                        "deleteAll",
                        {"type": "boolean", "default": False},
                        "true deletes every instance of the attribute.",
                    ),
                    _p("typeSelector"),
                    _p("local"),
                ],
            ),
        },
    }


# -- batch -----------------------------------------------------------------------------------


def _batch_paths() -> Obj:
    base = f"{_NGSI}/entityOperations"
    entities_body = _body(
        "A non-empty array of entities. In application/ld+json each entity carries its own "
        "@context (and a Link header is refused); in application/json the Link header's "
        "@context applies to all.",
        _array(_s("EntityInput"), minItems=1),
        ld_schema=_array(_with_context(_s("EntityInput")), minItems=1),
    )
    fragments_body = _body(
        "A non-empty array of entity fragments, each with its id.",
        _array(_s("EntityFragmentWithId"), minItems=1),
        ld_schema=_array(_with_context(_s("EntityFragmentWithId")), minItems=1),
    )
    created = _response("All created: the ids.", _json_content(_array(_uri())))
    partial = _ref("responses", "BatchOperationResult")
    errors = _errors(*_BODY_ERRORS, 503)
    return {
        base + "/create": {
            "post": _operation(
                "batchCreate",
                _BATCH,
                "Create Batch of Entities",
                "Clause 6.14.3.1. Each entity is created or fails on its own.",
                {"201": created, "207": partial, **errors},
                params=[_p("local")],
                body=entities_body,
            )
        },
        base + "/upsert": {
            "post": _operation(
                "batchUpsert",
                _BATCH,
                "Upsert Batch of Entities",
                "Clause 6.15.3.1. options=replace (the default) replaces existing "
                "entities, options=update appends to them. 201 with the created ids if "
                "any was created, 204 if all existed.",
                {
                    "201": created,
                    "204": _response("All existed, and were updated."),
                    "207": partial,
                    **errors,
                },
                params=[
                    _options(["replace", "update"], "replace (default) or update, not both."),
                    _p("local"),
                ],
                body=entities_body,
            )
        },
        base + "/update": {
            "post": _operation(
                "batchUpdate",
                _BATCH,
                "Update Batch of Entities",
                "Clause 6.16.3.1: append semantics per entity; with options=noOverwrite the "
                "attributes there are kept (and the entity reported in the 207).",
                {"204": _response("All updated."), "207": partial, **errors},
                params=[
                    _options(["noOverwrite"], "noOverwrite keeps existing attributes."),
                    _p("local"),
                ],
                body=fragments_body,
            )
        },
        base + "/merge": {
            "post": _operation(
                "batchMerge",
                _BATCH,
                "Merge Batch of Entities",
                "Clause 6.31.3.1: Merge Entity on each.",
                {"204": _response("All merged."), "207": partial, **errors},
                params=[_p("local")],
                body=fragments_body,
            )
        },
        base + "/delete": {
            "post": _operation(
                "batchDelete",
                _BATCH,
                "Delete Batch of Entities",
                "Clause 6.17.3.1: the body is an array of entity ids (no @context).",
                {
                    "204": _response("All deleted."),
                    "207": partial,
                    **_errors(*_BODY_ERRORS, 404, 503),
                },
                params=[_p("local")],
                body=_plain_body("A non-empty array of entity ids.", _array(_uri(), minItems=1)),
            )
        },
        base + "/query": {
            "post": _operation(
                "queryBatch",
                _BATCH,
                "Query Entities (POST)",
                "Clause 6.23.3.1: a Query in the body. In application/ld+json without an "
                "@context member the Link header's @context is used.",
                {
                    "200": _response(
                        "The matching entities.",
                        _ngsi_content(_array(_s("EntityRepresentation")), _s("FeatureCollection")),
                        headers=("Link", "NGSILD-Results-Count"),
                    ),
                    **_errors(*_BODY_ERRORS, 404, 406, 422, 503),
                },
                params=[
                    _options(
                        _RENDER_OPTIONS,
                        "keyValues (or simplified), concise or normalized, and sysAttrs.",
                    ),
                    _p("format"),
                    _p("lang"),
                    _p("limit"),
                    _p("offset"),
                    _p("count"),
                    _p("local"),
                ],
                body=_body("The query.", _s("Query"), ld_schema=_s("Query")),
            )
        },
    }


# -- discovery -------------------------------------------------------------------------------


def _discovery_paths() -> Obj:
    types = f"{_NGSI}/types"
    attributes = f"{_NGSI}/attributes"
    errors = _errors(400, 404, 406, 503)
    return {
        types: {
            "get": _operation(
                "retrieveEntityTypes",
                _DISCOVERY,
                "Retrieve Available Entity Types",
                "Clause 6.25.3.1: an EntityTypeList, or with details=true an array of EntityType.",
                {
                    "200": _response(
                        "The types of the tenant's entities, compacted with the @context.",
                        _ngsi_content({"oneOf": [_s("EntityTypeList"), _array(_s("EntityType"))]}),
                        headers=("Link",),
                    ),
                    **errors,
                },
                params=[_p("details"), _p("local")],
                trailing_slash=True,
            )
        },
        types + "/{type}": {
            "get": _operation(
                "retrieveEntityTypeInfo",
                _DISCOVERY,
                "Retrieve Entity Type Information",
                "Clause 6.26.3.1.",
                {
                    "200": _response(
                        "The type's entity count and attributes.",
                        _ngsi_content(_s("EntityTypeInfo")),
                        headers=("Link",),
                    ),
                    **errors,
                },
                params=[
                    {
                        "name": "type",
                        "in": "path",
                        "required": True,
                        "description": "An entity type: a short name (expanded with the "
                        "@context) or an IRI.",
                        "schema": {"type": "string"},
                    },
                    _p("local"),
                ],
            )
        },
        attributes: {
            "get": _operation(
                "retrieveAttrTypes",
                _DISCOVERY,
                "Retrieve Available Attributes",
                "Clause 6.27.3.1: an AttributeList, or with details=true an array of Attribute.",
                {
                    "200": _response(
                        "The attributes of the tenant's entities.",
                        _ngsi_content({"oneOf": [_s("AttributeList"), _array(_s("Attribute"))]}),
                        headers=("Link",),
                    ),
                    **errors,
                },
                params=[_p("details"), _p("local")],
                trailing_slash=True,
            )
        },
        attributes + "/{attrId}": {
            "get": _operation(
                "retrieveAttrTypeInfo",
                _DISCOVERY,
                "Retrieve Available Attribute Information",
                "Clause 6.28.3.1.",
                {
                    "200": _response(
                        "The attribute's count, kinds and entity types.",
                        _ngsi_content(_s("Attribute")),
                        headers=("Link",),
                    ),
                    **errors,
                },
                params=[_p("attrId"), _p("local")],
            )
        },
    }


# -- @contexts -------------------------------------------------------------------------------


def _context_paths() -> Obj:
    base = f"{_NGSI}/jsonldContexts"
    context_id = {
        "name": "contextId",
        "in": "path",
        "required": True,
        "description": "A local id (urn:kaido:context:..., urn:kaido:core, "
        "urn:kaido:cached:...) or, percent-encoded, the URL of a cached or the core @context.",
        "schema": {"type": "string"},
    }
    return {
        base: {
            "post": _operation(
                "addContext",
                _CONTEXTS,
                "Add @context",
                "Clause 6.29.3.1: the body is a JSON-LD context document; the remote "
                "@contexts it references are fetched and cached. It is served back "
                "byte for byte.",
                {
                    "201": _response("Hosted.", headers=("Location",)),
                    **_errors(*_BODY_ERRORS, 503),
                },
                body=_plain_body("A JSON-LD context document.", _s("ContextDocument")),
                trailing_slash=True,
                link=False,
            ),
            "get": _operation(
                "listContexts",
                _CONTEXTS,
                "List @contexts",
                "Clause 6.29.3.2: the URLs of the tenant's hosted @contexts, the core "
                "@context and the cached ones; with details=true their metadata.",
                {
                    "200": _response(
                        "URLs, or metadata with details=true.",
                        _json_content({"oneOf": [_array(_uri()), _array(_s("LdContextMetadata"))]}),
                    ),
                    **_errors(400),
                },
                params=[
                    _p("details"),
                    _query(
                        "kind",
                        {"type": "string", "enum": ["Hosted", "Cached", "ImplicitlyCreated"]},
                        "Only the @contexts of this kind.",
                    ),
                ],
                trailing_slash=True,
                link=False,
            ),
        },
        base + "/{contextId}": {
            "parameters": [context_id],
            "get": _operation(
                "serveContext",
                _CONTEXTS,
                "Serve @context",
                "Clause 6.29.3.3: the document (a hosted one exactly as it was added), or "
                "its metadata with details=true.",
                {
                    "200": _response(
                        "The context document, or its metadata.",
                        _json_content({"oneOf": [_s("ContextDocument"), _s("LdContextMetadata")]}),
                    ),
                    **_errors(400, 404),
                },
                params=[_p("details")],
                link=False,
            ),
            "delete": _operation(
                "deleteContext",
                _CONTEXTS,
                "Delete @context",
                "Clause 6.29.3.4: deletes a hosted @context or forgets a cached one; "
                "reload=true re-fetches a cached one instead (the core one can only be "
                "reloaded).",
                {"204": _response("Deleted (or reloaded)."), **_errors(400, 404, 503)},
                params=[
                    _query(
                        "reload",
                        {"type": "boolean", "default": False},
                        "Re-fetch a cached @context instead of deleting it.",
                    )
                ],
                link=False,
            ),
        },
    }


# -- subscriptions ---------------------------------------------------------------------------


def _subscription_paths() -> Obj:
    base = f"{_NGSI}/subscriptions"
    sub_id = {
        "name": "subscriptionId",
        "in": "path",
        "required": True,
        "description": "The subscription's id (a URI).",
        "schema": {"type": "string", "format": "uri"},
    }
    return {
        base: {
            "post": _operation(
                "createSubscription",
                _SUBSCRIPTION,
                "Create Subscription",
                "Clause 6.10.3.1. 201 with the subscription's URL in Location. A "
                "jsonldContext must resolve now (400 if invalid, 503 if unreachable).",
                {
                    "201": _response("Created.", headers=("Location",)),
                    **_errors(*_BODY_ERRORS, 409, 503),
                },
                body=_body("The subscription.", _s("Subscription")),
                trailing_slash=True,
            ),
            "get": _operation(
                "querySubscriptions",
                _SUBSCRIPTION,
                "Query Subscriptions",
                "Clause 6.10.3.2. Pages by limit and offset, with prev/next Link headers; "
                "count=true returns the total in NGSILD-Results-Count.",
                {
                    "200": _response(
                        "The subscriptions, with their delivery status.",
                        _ngsi_content(_array(_s("Subscription"))),
                        headers=("Link", "NGSILD-Results-Count"),
                    ),
                    **_errors(400, 404, 406, 503),
                },
                params=[_p("limit"), _p("offset"), _p("count")],
                trailing_slash=True,
            ),
        },
        base + "/{subscriptionId}": {
            "parameters": [sub_id],
            "get": _operation(
                "retrieveSubscription",
                _SUBSCRIPTION,
                "Retrieve Subscription",
                "Clause 6.11.3.1, with its delivery status (clause 5.2.14).",
                {
                    "200": _response(
                        "The subscription.",
                        _ngsi_content(_s("Subscription")),
                        headers=("Link",),
                    ),
                    **_errors(400, 404, 406, 503),
                },
            ),
            "patch": _operation(
                "updateSubscription",
                _SUBSCRIPTION,
                "Update Subscription",
                "Clause 6.11.3.2: the members given replace the current ones, null "
                "removes one, notification is merged member by member.",
                {"204": _response("Updated."), **_errors(*_BODY_ERRORS, 404, 503)},
                body=_body(
                    "A subscription fragment.", _s("SubscriptionFragment"), merge_patch=True
                ),
            ),
            "delete": _operation(
                "deleteSubscription",
                _SUBSCRIPTION,
                "Delete Subscription",
                "Clause 6.11.3.3: its pending notifications go with it.",
                {"204": _response("Deleted."), **_errors(400, 404)},
                link=False,
            ),
        },
    }


# -- data models -----------------------------------------------------------------------------


def _model_paths() -> Obj:
    model_type = {
        "name": "type",
        "in": "path",
        "required": True,
        "description": "The model's entity type, as the model names it (short name).",
        "schema": {"type": "string"},
    }
    validate_body = _plain_body(
        "An entity (normalized, concise or keyValues; with or without @context), or an "
        "array of them.",
        {"oneOf": [{"type": "object"}, _array({"type": "object"})]},
    )
    reports = _json_content({"oneOf": [_s("ValidationReport"), _array(_s("ValidationReport"))]})
    return {
        "/models": {
            "get": _operation(
                "listModels",
                _MODELS,
                "List data models",
                "The packaged models and the tenant's own.",
                {"200": _response("The models.", _json_content(_array(_s("ModelInfo"))))},
                link=False,
            )
        },
        "/models/validate": {
            "post": _operation(
                "validateEntity",
                _MODELS,
                "Validate against the model of the entity's type",
                "Nothing is stored. An entity whose type has no model is reported invalid.",
                {
                    "200": _response("One report per entity.", reports),
                    **_errors(*_BODY_ERRORS),
                },
                body=validate_body,
                link=False,
            )
        },
        "/models/{type}": {
            "parameters": [model_type],
            "get": _operation(
                "getModel",
                _MODELS,
                "Get a data model",
                "The model's JSON Schema.",
                {
                    "200": _response("The JSON Schema.", _json_content(_s("JsonSchema"))),
                    **_errors(404),
                },
                link=False,
            ),
            "put": _operation(
                "putModel",
                _MODELS,
                "Register or replace a tenant's data model",
                "The body is a JSON Schema; an unusable one is refused (400).",
                {
                    "201": _response("Registered.", headers=("Location",)),
                    "204": _response("Replaced."),
                    **_errors(*_BODY_ERRORS),
                },
                body=_plain_body("A JSON Schema.", _s("JsonSchema")),
                link=False,
            ),
            "delete": _operation(
                "deleteModel",
                _MODELS,
                "Remove a tenant's data model",
                "Packaged models cannot be removed (404).",
                {"204": _response("Removed."), **_errors(404)},
                link=False,
            ),
        },
        "/models/{type}/validate": {
            "parameters": [model_type],
            "post": _operation(
                "validateEntityAs",
                _MODELS,
                "Validate against a given model",
                "Entities without a type are taken to be of the model's type.",
                {
                    "200": _response("One report per entity.", reports),
                    **_errors(*_BODY_ERRORS, 404),
                },
                body=validate_body,
                link=False,
            ),
        },
        "/config/model-enforcement": {
            "get": _operation(
                "getModelEnforcement",
                _MODELS,
                "Get the tenant's model enforcement mode",
                "off, warn (stored, and told in a Warning header) or enforce (refused).",
                {"200": _response("The mode.", _json_content(_s("EnforcementMode")))},
                link=False,
            ),
            "put": _operation(
                "putModelEnforcement",
                _MODELS,
                "Set the tenant's model enforcement mode",
                "Applies to the tenant's later writes.",
                {"204": _response("Set."), **_errors(*_BODY_ERRORS)},
                body=_plain_body("The mode.", _s("EnforcementMode")),
                link=False,
            ),
        },
    }


# -- operations ------------------------------------------------------------------------------


def _operation_paths() -> Obj:
    return {
        "/version": {
            "get": _operation(
                "version",
                _OPERATIONS,
                "What is running",
                "Name, versions, uptime and the store in use (like Orion-LD's /version). "
                "Answers even when the store is down.",
                {"200": _response("The versions.", _json_content(_s("Version")))},
                tenant=False,
                link=False,
            )
        },
        "/health": {
            "get": _operation(
                "health",
                _OPERATIONS,
                "Liveness and store reachability",
                "For load balancers and orchestrators.",
                {
                    "200": _response("Healthy.", _json_content(_s("Health"))),
                    "503": _response("The store is unreachable.", _json_content(_s("Health"))),
                },
                tenant=False,
                link=False,
            )
        },
        "/metrics": {
            "get": _operation(
                "metrics",
                _OPERATIONS,
                "Metrics for Prometheus",
                "Every series of this broker in the Prometheus text exposition format "
                "(version 0.0.4): requests by method, route pattern and status, with their "
                "durations, and the store's commands.",
                {
                    "200": _response(
                        "The series.",
                        {"text/plain": {"schema": {"type": "string"}}},
                    )
                },
                tenant=False,
                link=False,
            )
        },
        OPENAPI_PATH: {
            "get": _operation(
                "openapi",
                _OPERATIONS,
                "This document",
                "The OpenAPI 3.1 description of Kaido's HTTP API.",
                {
                    "200": _response("The OpenAPI document.", _json_content({"type": "object"})),
                    **_errors(400),
                },
                tenant=False,
                link=False,
            )
        },
    }


# -- components: parameters, headers, responses ---------------------------------------------


def _parameters() -> Obj:
    boolean = {"type": "boolean", "default": False}
    return {
        "Link": {
            "name": "Link",
            "in": "header",
            "required": False,
            "description": "The JSON-LD @context (clause 6.3.5): "
            '`<URL>; rel="http://www.w3.org/ns/json-ld#context"; '
            'type="application/ld+json"`. Not allowed with an application/ld+json body '
            "(its @context goes in the body). Without it the core @context applies.",
            "schema": {"type": "string"},
        },
        "NGSILD-Tenant": {
            "name": "NGSILD-Tenant",
            "in": "header",
            "required": False,
            "description": "The tenant (clause 6.3.14): 1 to 100 printable characters. "
            "Created by the first write; reading one that does not exist is a 404 "
            "NonexistentTenant. Without it, the default tenant.",
            "schema": {"type": "string", "minLength": 1},
        },
        "X-Request-Id": {
            "name": "X-Request-Id",
            "in": "header",
            "required": False,
            "description": "The client's id for this request, kept if it is 1 to 128 "
            "characters of A-Za-z0-9._- (else the broker makes one); answered in the "
            "X-Request-Id response header and written in every log line of the request.",
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,128}$"},
        },
        "Prefer": {
            "name": "Prefer",
            "in": "header",
            "required": False,
            "description": "With Accept: application/geo+json, `body=json` puts the "
            "@context in a Link header instead of the body.",
            "schema": {"type": "string"},
        },
        "entityId": {
            "name": "entityId",
            "in": "path",
            "required": True,
            "description": "The entity's id (a URI). Empty is a 400.",
            "schema": {"type": "string", "format": "uri"},
        },
        "attrId": {
            "name": "attrId",
            "in": "path",
            "required": True,
            "description": "An attribute name: a short name (expanded with the @context) "
            "or an IRI.",
            "schema": {"type": "string"},
        },
        "typeSelector": _query(
            "type",
            _array({"type": "string"}),
            "Entity type(s), comma-separated: the entity must have one of them, else 404.",
            explode=False,
        ),
        "local": _query(
            "local",
            {"type": "boolean"},
            "Accepted for compatibility: Kaido has no context sources, so every operation "
            "is local anyway (on Query Entities, local=true alone is a valid query).",
        ),
        "format": _query(
            "format",
            {"type": "string", "enum": ["normalized", "concise", "keyValues", "simplified"]},
            "The representation; wins over options.",
        ),
        "attrs": _query(
            "attrs",
            _array({"type": "string"}),
            "Only these attributes (comma-separated names).",
            explode=False,
        ),
        "lang": _query(
            "lang",
            {"type": "string"},
            "Language(s) for LanguageProperty values (clause 4.15).",
        ),
        "geometryProperty": _query(
            "geometryProperty",
            {"type": "string", "default": "location"},
            "With Accept: application/geo+json only: the GeoProperty to use as geometry.",
        ),
        "georel": _query(
            "georel",
            {"type": "string"},
            "Geo relationship (clause 4.10): near;maxDistance==m, near;minDistance==m, "
            "equals, disjoint, intersects, within, contains, overlaps.",
        ),
        "geometry": _query(
            "geometry",
            {
                "type": "string",
                "enum": [
                    "Point",
                    "MultiPoint",
                    "LineString",
                    "MultiLineString",
                    "Polygon",
                    "MultiPolygon",
                ],
            },
            "The reference geometry's type.",
        ),
        "coordinates": _query(
            "coordinates",
            {"type": "string"},
            "The reference geometry's coordinates, as JSON (e.g. [8.68,49.41]).",
        ),
        "geoproperty": _query(
            "geoproperty",
            {"type": "string", "default": "location"},
            "The GeoProperty the geo-query applies to.",
        ),
        "limit": _query(
            "limit",
            {"type": "integer", "minimum": 0, "default": 20},
            "Page size; above the broker's MAX_LIMIT is a 400. 0 with count=true only counts.",
        ),
        "offset": _query(
            "offset", {"type": "integer", "minimum": 0, "default": 0}, "Results to skip."
        ),
        "count": _query(
            "count",
            boolean,
            "true: the total number of matches in the NGSILD-Results-Count header.",
        ),
        "details": _query(
            "details",
            boolean,
            "true: detailed objects instead of a list of names (or URLs).",
        ),
    }


def _response_headers() -> Obj:
    return {
        "NGSILD-Tenant": {
            "description": "The request's NGSILD-Tenant, echoed (clause 6.3.14).",
            "schema": {"type": "string"},
        },
        "X-Request-Id": {
            "description": "The request's id: the client's X-Request-Id if it was sane, "
            "else one the broker made. On every response, errors included.",
            "schema": {"type": "string"},
        },
        "Location": {
            "description": "The created resource's path.",
            "schema": {"type": "string"},
        },
        "Link": {
            "description": "The JSON-LD @context of an application/json body (clause "
            "6.3.6). Query Subscriptions adds rel=prev and rel=next page links.",
            "schema": {"type": "string"},
        },
        "NGSILD-Results-Count": {
            "description": "The total number of matches, with count=true (clause 6.3.13).",
            "schema": {"type": "integer", "minimum": 0},
        },
        "Warning": {
            "description": "In data-model warn mode: what did not fit the model "
            '(`199 kaido "data model: ..."`).',
            "schema": {"type": "string"},
        },
    }


def _problem(status: int, description: str, *errors: type[NgsiError]) -> Obj:
    uris = [ERROR_BASE + e.type_name for e in errors]
    schema = {
        "allOf": [
            _s("ProblemDetails"),
            {
                "type": "object",
                "properties": {
                    "type": {"enum": uris},
                    "status": {"const": status},
                },
            },
        ]
    }
    return _response(description, _json_content(schema))


def _error_responses() -> Obj:
    return {
        "BadRequest": _problem(
            400,
            "The request is malformed (InvalidRequest: not JSON, unknown query parameter "
            "or option) or its content is not acceptable (BadRequestData).",
            InvalidRequest,
            BadRequestData,
        ),
        "NotFound": _problem(
            404,
            "No such resource (ResourceNotFound), or the NGSILD-Tenant does not exist "
            "(NonexistentTenant).",
            ResourceNotFound,
            NonexistentTenant,
        ),
        "NotAcceptable": _problem(
            406,
            "None of the media types in Accept is offered (InvalidRequest).",
            InvalidRequest,
        ),
        "Conflict": _problem(409, "It already exists (AlreadyExists).", AlreadyExists),
        "LengthRequired": _response(
            "A request with a body must have a Content-Length (no chunked bodies): a bare "
            "411 with no body."
        ),
        "PayloadTooLarge": _problem(
            413,
            "The body is larger than MAX_BODY_BYTES (BadRequestData).",
            BadRequestData,
        ),
        "UnsupportedMediaType": _problem(
            415,
            "The Content-Type is not one the operation reads (InvalidRequest).",
            InvalidRequest,
        ),
        "Unprocessable": _problem(
            422,
            "A feature Kaido does not support yet (OperationNotSupported).",
            OperationNotSupported,
        ),
        "InternalError": _problem(
            500,
            "The broker failed (InternalError); it logged the error.",
            InternalError,
        ),
        "ServiceUnavailable": _problem(
            503,
            "A remote @context could not be fetched (LdContextNotAvailable).",
            LdContextNotAvailable,
        ),
        "UpdateResult": _response(
            "Not all attributes were changed: which were, and why the others were not.",
            _json_content(_s("UpdateResult")),
            headers=("Link",),
        ),
        "BatchOperationResult": _response(
            "Some entities failed: the ids that succeeded, and an error for each other one.",
            _json_content(_s("BatchOperationResult")),
        ),
    }


# -- components: schemas ---------------------------------------------------------------------

#: The attribute kinds (clause 4.5), in the order the model module gives them.
_ATTRIBUTE_KINDS: Final = tuple(MAIN_MEMBER)


def _attribute(kind: str, main: str, main_schema: Obj, description: str) -> Obj:
    """An attribute of one kind (clause 4.5, 5.2.5 ff.): its main member, the common
    members, and sub-attributes (any other member)."""
    return {
        "type": "object",
        "description": description,
        "required": ["type", main],
        "properties": {
            "type": {"const": kind},
            main: main_schema,
            **_attribute_members(),
        },
        "additionalProperties": _s("AttributeOrInstances"),
    }


def _attribute_members() -> Obj:
    return {
        "datasetId": _uri("The instance's dataset (multi-attributes)."),
        "observedAt": _s("DateTime"),
        "unitCode": _string("UN/CEFACT unit code."),
        "createdAt": _s("DateTime"),
        "modifiedAt": _s("DateTime"),
        "deletedAt": _s("DateTime"),
        "instanceId": _uri(),
        "lang": _string(),
        "objectType": {"oneOf": [{"type": "string"}, _array({"type": "string"})]},
        # In notifications with showChanges (clause 5.2.14): the value before the change.
        **{f"previous{m[0].upper()}{m[1:]}": {} for m in dict.fromkeys(MAIN_MEMBER.values())},
    }


def _entity_top_members() -> Obj:
    return {
        "id": _uri("The entity's id."),
        "type": {
            "description": "Entity type(s): short names or IRIs.",
            "oneOf": [{"type": "string"}, _array({"type": "string"}, minItems=1)],
        },
        "scope": {"oneOf": [{"type": "string"}, _array({"type": "string"})]},
        "createdAt": _s("DateTime"),
        "modifiedAt": _s("DateTime"),
        "deletedAt": _s("DateTime"),
        "@context": _s("LdContext"),
    }


def _schemas() -> Obj:
    key_value = {
        "type": "object",
        "required": ["key", "value"],
        "properties": {"key": {"type": "string", "minLength": 1}, "value": {"type": "string"}},
        "additionalProperties": False,
    }
    delivery_status = {
        "status": {"type": "string", "enum": ["ok", "failed"], "readOnly": True},
        "timesSent": {"type": "integer", "minimum": 0, "readOnly": True},
        "timesFailed": {"type": "integer", "minimum": 0, "readOnly": True},
        "lastNotification": {**_s("DateTime"), "readOnly": True},
        "lastSuccess": {**_s("DateTime"), "readOnly": True},
        "lastFailure": {**_s("DateTime"), "readOnly": True},
        "lastFailureReason": {"type": "string", "readOnly": True},
    }
    subscription_members = {
        "id": _uri("The subscription's id; generated if not given."),
        "type": {"const": "Subscription"},
        "subscriptionName": {"type": "string", "minLength": 1},
        "description": {"type": "string", "minLength": 1},
        "entities": _array(_s("EntitySelector"), minItems=1),
        "watchedAttributes": _array({"type": "string"}, minItems=1),
        "notificationTrigger": _array(
            {"type": "string", "enum": list(TRIGGERS)},
            minItems=1,
            description="Default: attributeCreated, attributeUpdated.",
        ),
        "timeInterval": {
            "type": "number",
            "exclusiveMinimum": 0,
            "description": "Periodic notifications every so many seconds.",
        },
        "q": {"type": "string"},
        "geoQ": _s("GeoQuery"),
        "scopeQ": {"type": "string"},
        "lang": {"type": "string"},
        "datasetId": _array({"type": "string"}),
        "notification": _s("NotificationParams"),
        "throttling": {"type": "number", "exclusiveMinimum": 0},
        "expiresAt": _s("DateTime"),
        "isActive": {"type": "boolean"},
        "jsonldContext": _uri("The @context to compact notifications with."),
        "status": {
            "type": "string",
            "enum": ["active", "paused", "expired"],
            "readOnly": True,
        },
        "@context": _s("LdContext"),
    }
    return {
        "DateTime": {"type": "string", "format": "date-time"},
        "LdContext": {
            "description": "A JSON-LD @context: a URL, an object, or an array of those.",
            "oneOf": [
                {"type": "string", "format": "uri"},
                {"type": "object"},
                _array({"oneOf": [{"type": "string", "format": "uri"}, {"type": "object"}]}),
            ],
        },
        "ContextDocument": {
            "type": "object",
            "required": ["@context"],
            "properties": {"@context": _s("LdContext")},
        },
        "ProblemDetails": {
            "type": "object",
            "description": "RFC 9457 ProblemDetails; type is an NGSI-LD error type URI "
            "(clause 5.5.2).",
            "required": ["type", "title", "status", "detail"],
            "properties": {
                "type": {"type": "string", "format": "uri"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "instance": {"type": "string"},
            },
        },
        "Geometry": {
            "type": "object",
            "description": "A GeoJSON geometry (RFC 7946).",
            "required": ["type"],
            "properties": {
                "type": {
                    "type": "string",
                    "enum": [
                        "Point",
                        "MultiPoint",
                        "LineString",
                        "MultiLineString",
                        "Polygon",
                        "MultiPolygon",
                        "GeometryCollection",
                    ],
                },
                "coordinates": {"type": "array"},
                "geometries": _array({"type": "object"}),
            },
        },
        "Property": _attribute("Property", "value", {}, "Clause 5.2.5: any JSON value (not null)."),
        "Relationship": _attribute(
            "Relationship",
            "object",
            {"oneOf": [_uri(), _array(_uri())]},
            "Clause 5.2.6: the related entity's id(s).",
        ),
        "GeoProperty": _attribute(
            "GeoProperty", "value", _s("Geometry"), "Clause 5.2.7: a GeoJSON geometry."
        ),
        "LanguageProperty": _attribute(
            "LanguageProperty",
            "languageMap",
            {"type": "object", "additionalProperties": {"type": "string"}},
            "Clause 5.2.32: strings by language tag (@none for no language).",
        ),
        "VocabProperty": _attribute(
            "VocabProperty",
            "vocab",
            {"oneOf": [{"type": "string"}, _array({"type": "string"})]},
            "Clause 5.2.35: term(s) expanded with the @context.",
        ),
        "JsonProperty": _attribute(
            "JsonProperty", "json", {}, "Clause 5.2.38: a JSON value kept as is."
        ),
        "ListProperty": _attribute(
            "ListProperty", "valueList", {"type": "array"}, "Clause 5.2.36: an ordered list."
        ),
        "ListRelationship": _attribute(
            "ListRelationship",
            "objectList",
            _array({"oneOf": [_uri(), {"type": "object"}]}),
            "Clause 5.2.37: an ordered list of entity ids.",
        ),
        "EntityAttribute": {
            "description": "An attribute in the normalized representation.",
            "oneOf": [_s(kind) for kind in _ATTRIBUTE_KINDS],
            "discriminator": {
                "propertyName": "type",
                "mapping": {kind: f"#/components/schemas/{kind}" for kind in _ATTRIBUTE_KINDS},
            },
        },
        "AttributeOrInstances": {
            "description": "An attribute, or an array of its instances (one per datasetId).",
            "oneOf": [_s("EntityAttribute"), _array(_s("EntityAttribute"), minItems=1)],
        },
        "AttributeFragment": {
            "type": "object",
            "description": "An attribute's members (normalized or concise; type optional), "
            "or an array of instances.",
            "properties": {
                "type": {"type": "string", "enum": list(_ATTRIBUTE_KINDS)},
                **_attribute_members(),
            },
        },
        "Entity": {
            "type": "object",
            "description": "An entity in the normalized representation (clause 5.2.4): every "
            "other member is an attribute.",
            "required": ["id", "type"],
            "properties": _entity_top_members(),
            "additionalProperties": _s("AttributeOrInstances"),
        },
        "EntityConcise": {
            "type": "object",
            "description": "An entity in the concise representation (clause 4.5.1): "
            "attributes without their type where it can be inferred.",
            "required": ["id", "type"],
            "properties": _entity_top_members(),
        },
        "EntityKeyValues": {
            "type": "object",
            "description": "An entity in the simplified (keyValues) representation: each "
            "attribute is its value.",
            "required": ["id", "type"],
            "properties": _entity_top_members(),
        },
        "EntityRepresentation": {
            "description": "An entity as Kaido renders it: normalized (default), concise "
            "or keyValues, as asked with options/format.",
            "anyOf": [_s("Entity"), _s("EntityConcise"), _s("EntityKeyValues")],
        },
        "EntityInput": {
            "description": "An entity to create: normalized or concise, id and type required.",
            "anyOf": [_s("Entity"), _s("EntityConcise")],
        },
        "EntityFragment": {
            "type": "object",
            "description": "Attributes (normalized or concise), and optionally type and "
            "scope; an id, if any, must be the entity's.",
            "properties": _entity_top_members(),
        },
        "EntityFragmentWithId": {
            "allOf": [_s("EntityFragment"), {"type": "object", "required": ["id"]}],
        },
        "Feature": {
            "type": "object",
            "description": "An entity as a GeoJSON Feature (clause 4.5.16).",
            "required": ["id", "type", "geometry", "properties"],
            "properties": {
                "id": _uri(),
                "type": {"const": "Feature"},
                "geometry": {"oneOf": [_s("Geometry"), {"type": "null"}]},
                "properties": {"type": "object"},
                "@context": _s("LdContext"),
            },
        },
        "FeatureCollection": {
            "type": "object",
            "required": ["type", "features"],
            "properties": {
                "type": {"const": "FeatureCollection"},
                "features": _array(_s("Feature")),
                "@context": _s("LdContext"),
            },
        },
        "NotUpdatedDetails": {
            "type": "object",
            "required": ["attributeName", "reason"],
            "properties": {
                "attributeName": {"type": "string", "description": "Expanded (an IRI)."},
                "reason": {"type": "string"},
            },
        },
        "UpdateResult": {
            "type": "object",
            "description": "Clause 5.2.18.",
            "required": ["updated", "notUpdated"],
            "properties": {
                "updated": _array({"type": "string"}),
                "notUpdated": _array(_s("NotUpdatedDetails")),
            },
        },
        "BatchEntityError": {
            "type": "object",
            "required": ["entityId", "error"],
            "properties": {
                "entityId": {"type": "string", "description": "Empty if the item had none."},
                "error": _s("ProblemDetails"),
            },
        },
        "BatchOperationResult": {
            "type": "object",
            "description": "Clause 5.2.16.",
            "required": ["success", "errors"],
            "properties": {
                "success": _array(_uri()),
                "errors": _array(_s("BatchEntityError")),
            },
        },
        "EntitySelector": {
            "type": "object",
            "description": "Clause 5.2.33.",
            "required": ["type"],
            "properties": {
                "id": {"oneOf": [_uri(), _array(_uri(), minItems=1)]},
                "idPattern": {"type": "string"},
                "type": {"type": "string", "description": "A type or a type expression."},
            },
        },
        "GeoQuery": {
            "type": "object",
            "description": "Clause 5.2.13.",
            "required": ["geometry", "coordinates", "georel"],
            "properties": {
                "geometry": {"type": "string"},
                "coordinates": {"oneOf": [{"type": "array"}, {"type": "string"}]},
                "georel": {"type": "string"},
                "geoproperty": {"type": "string"},
            },
        },
        "Query": {
            "type": "object",
            "description": "Clause 5.2.23: needs at least one of entities, attrs, q, geoQ. "
            "scopeQ and csf are answered with 422; other members with 400.",
            "required": ["type"],
            "properties": {
                "type": {"const": "Query"},
                "entities": _array(_s("EntitySelector"), minItems=1),
                "attrs": _array({"type": "string"}, minItems=1),
                "q": {"type": "string"},
                "geoQ": _s("GeoQuery"),
                "scopeQ": {"type": "string"},
                "csf": {"type": "string"},
                "lang": {"type": "string"},
                "local": {"type": "boolean"},
                "@context": _s("LdContext"),
            },
            "additionalProperties": False,
        },
        "KeyValuePair": key_value,
        "Endpoint": {
            "type": "object",
            "description": "Clause 5.2.15: http(s) or mqtt(s).",
            "required": ["uri"],
            "properties": {
                "uri": _uri(),
                "accept": {"type": "string", "enum": list(ACCEPTS)},
                "receiverInfo": _array(_s("KeyValuePair")),
                "notifierInfo": _array(
                    _s("KeyValuePair"),
                    description="MQTT-QoS (0, 1, 2) and MQTT-Version (mqtt3.1.1, mqtt5.0).",
                ),
                "timeout": {"type": "number", "exclusiveMinimum": 0},
                "cooldown": {"type": "number", "exclusiveMinimum": 0},
            },
            "additionalProperties": False,
        },
        "NotificationParams": {
            "type": "object",
            "description": "Clause 5.2.14, with the delivery status when read back.",
            "required": ["endpoint"],
            "properties": {
                "attributes": _array({"type": "string"}, minItems=1),
                "format": {"type": "string", "enum": list(FORMATS)},
                "sysAttrs": {"type": "boolean"},
                "showChanges": {"type": "boolean"},
                "endpoint": _s("Endpoint"),
                **delivery_status,
            },
        },
        "Subscription": {
            "type": "object",
            "description": "Clause 5.2.12: needs entities or watchedAttributes, and "
            "notification.endpoint.",
            "required": ["type", "notification"],
            "properties": subscription_members,
        },
        "SubscriptionFragment": {
            "type": "object",
            "description": "Members to replace; null removes one.",
            "properties": subscription_members,
        },
        "Notification": {
            "type": "object",
            "description": "Clause 5.3.1.",
            "required": ["id", "type", "subscriptionId", "notifiedAt", "data"],
            "properties": {
                "id": _uri(),
                "type": {"const": "Notification"},
                "subscriptionId": _uri(),
                "notifiedAt": _s("DateTime"),
                "data": _array(_s("EntityRepresentation")),
                "triggerReason": {"type": "string"},
                "@context": _s("LdContext"),
            },
        },
        "EntityTypeList": {
            "type": "object",
            "description": "Clause 5.2.24.",
            "required": ["id", "type", "typeList"],
            "properties": {
                "id": _uri(),
                "type": {"const": "EntityTypeList"},
                "typeList": _array({"type": "string"}),
                "@context": _s("LdContext"),
            },
        },
        "EntityType": {
            "type": "object",
            "description": "Clause 5.2.25.",
            "required": ["id", "type", "typeName", "attributeNames"],
            "properties": {
                "id": _uri(),
                "type": {"const": "EntityType"},
                "typeName": {"type": "string"},
                "attributeNames": _array({"type": "string"}),
                "@context": _s("LdContext"),
            },
        },
        "EntityTypeInfo": {
            "type": "object",
            "description": "Clause 5.2.26.",
            "required": ["id", "type", "typeName", "entityCount", "attributeDetails"],
            "properties": {
                "id": _uri(),
                "type": {"const": "EntityTypeInfo"},
                "typeName": {"type": "string"},
                "entityCount": {"type": "integer", "minimum": 0},
                "attributeDetails": _array(_s("Attribute")),
                "@context": _s("LdContext"),
            },
        },
        "AttributeList": {
            "type": "object",
            "description": "Clause 5.2.27.",
            "required": ["id", "type", "attributeList"],
            "properties": {
                "id": _uri(),
                "type": {"const": "AttributeList"},
                "attributeList": _array({"type": "string"}),
                "@context": _s("LdContext"),
            },
        },
        "Attribute": {
            "type": "object",
            "description": "Clause 5.2.28: what discovery says about an attribute.",
            "required": ["id", "type", "attributeName"],
            "properties": {
                "id": _uri(),
                "type": {"const": "Attribute"},
                "attributeName": {"type": "string"},
                "attributeCount": {"type": "integer", "minimum": 0},
                "attributeTypes": _array({"type": "string", "enum": list(_ATTRIBUTE_KINDS)}),
                "typeNames": _array({"type": "string"}),
                "@context": _s("LdContext"),
            },
        },
        "LdContextMetadata": {
            "type": "object",
            "description": "Clause 5.13.2: an @context the broker hosts or has cached.",
            "required": ["URL", "localId", "kind", "createdAt"],
            "properties": {
                "URL": _uri(),
                "localId": _uri(),
                "kind": {"type": "string", "enum": ["Hosted", "Cached", "ImplicitlyCreated"]},
                "createdAt": _s("DateTime"),
                "lastUsage": _s("DateTime"),
            },
        },
        "Version": {
            "type": "object",
            "required": ["name", "version", "ngsi-ld", "coreContext", "store"],
            "properties": {
                "name": {"const": "kaido"},
                "version": {"type": "string"},
                "ngsi-ld": {"type": "string"},
                "coreContext": _uri(),
                "python": {"type": "string"},
                "uptimeSeconds": {"type": "number"},
                "store": {
                    "type": "object",
                    "required": ["kind"],
                    "properties": {
                        "kind": {"type": "string"},
                        "version": {"type": ["string", "null"]},
                        "error": {"type": "string"},
                        "database": {"type": "string"},
                    },
                },
            },
        },
        "Health": {
            "type": "object",
            "required": ["status"],
            "properties": {
                "status": {"type": "string", "enum": ["ok", "unhealthy"]},
                "store": {"type": "string", "description": "The store's error, if unhealthy."},
            },
        },
        "ModelInfo": {
            "type": "object",
            "required": ["name", "iri"],
            "properties": {
                "name": {"type": "string"},
                "iri": _uri(),
                "title": {"type": ["string", "null"]},
                "description": {"type": ["string", "null"]},
                "source": {"type": ["string", "null"]},
                "schema": {"type": ["string", "null"]},
            },
        },
        "JsonSchema": {
            "type": "object",
            "description": "A JSON Schema (draft 2020-12 or an earlier draft it names).",
        },
        "ValidationReport": {
            "type": "object",
            "required": ["type", "valid", "errors"],
            "properties": {
                "type": {"description": "The entity's type as given (null if absent)."},
                "valid": {"type": "boolean"},
                "errors": _array(
                    {
                        "type": "object",
                        "required": ["path", "message"],
                        "properties": {
                            "path": {
                                "type": "string",
                                "description": "A JSON pointer into the entity as given.",
                            },
                            "message": {"type": "string"},
                        },
                    }
                ),
            },
        },
        "EnforcementMode": {
            "type": "object",
            "required": ["mode"],
            "properties": {"mode": {"type": "string", "enum": ["off", "warn", "enforce"]}},
        },
    }
