"""Database commands, answered the way a MongoDB 7.0 standalone answers them.

The reply shapes (cursors, write errors, findAndModify's lastErrorObject, error codes)
are what PyMongo's normal code paths expect, so the broker needs no special case for the
dev store. The server never advertises compression, transactions or a replica set, so
drivers do not try them. Driver fields such as lsid, $clusterTime, $readPreference,
writeConcern, readConcern, comment or maxTimeMS are accepted and ignored.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from pymongo.errors import DuplicateKeyError

from ._cursors import CursorTable
from ._engine import Document, Engine, bson_safe
from ._errors import CommandError, from_exception
from ._wire import MAX_BSON_SIZE, MAX_MESSAGE_SIZE

__all__ = ["Commands"]

Handler = Callable[[str, Document, int], Document]

MAX_WIRE_VERSION = 21  # MongoDB 7.0
MAX_WRITE_BATCH_SIZE = 100_000
_LEGACY_COMMANDS = frozenset({"hello", "isMaster", "ismaster"})
_PARAMETERS: dict[str, Any] = {
    "featureCompatibilityVersion": {"version": "7.0"},
    "authenticationMechanisms": [],
}
_UNSUPPORTED_CREATE_OPTIONS = (
    "capped",
    "timeseries",
    "clusteredIndex",
    "viewOn",
    "collation",
    "expireAfterSeconds",
    "changeStreamPreAndPostImages",
)
_ID_INDEX = {"v": 2, "key": {"_id": 1}, "name": "_id_"}


def _engine_version() -> str:
    try:
        return importlib.metadata.version("mongomock-ng")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _type_name(value: object) -> str:
    names = {str: "string", int: "int", float: "double", bool: "bool", dict: "object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _collection_name(cmd: Document, field: str) -> str:
    value = cmd.get(field)
    if not isinstance(value, str) or not value:
        raise CommandError(73, f"collection name has invalid type {_type_name(value)}")
    return value


def _document(cmd: Document, field: str) -> Document | None:
    value = cmd.get(field)
    if value is None or isinstance(value, dict):
        return value
    raise CommandError(
        14, f"BSON field '{field}' is the wrong type '{_type_name(value)}', expected type 'object'"
    )


def _integer(cmd: Document, field: str) -> int | None:
    value = cmd.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CommandError(
            14,
            f"BSON field '{field}' is the wrong type '{_type_name(value)}', expected a number",
        )
    return int(value)


def _non_negative(cmd: Document, field: str) -> int | None:
    value = _integer(cmd, field)
    if value is not None and value < 0:
        raise CommandError(
            51024, f"BSON field '{field}' value must be >= 0, actual value '{value}'"
        )
    return value


def _flag(cmd: Document, field: str) -> bool:
    return bool(cmd.get(field, False))


def _list(cmd: Document, field: str) -> list[Any]:
    value = cmd.get(field)
    if not isinstance(value, list):
        raise CommandError(
            14, f"BSON field '{field}' is the wrong type '{_type_name(value)}', expected 'array'"
        )
    return value


def _no_collation(spec: Document) -> None:
    # Ignoring a collation would silently give wrong answers (e.g. case-insensitive ones).
    if spec.get("collation"):
        raise CommandError(238, "collation is not supported by the Kaido dev store")


def _cursor_batch_size(cmd: Document) -> int | None:
    options = _document(cmd, "cursor")
    if options is None:
        return None
    return _non_negative(options, "batchSize")


def _format_value(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, dict):
        return _format_key_value(value)
    return repr(value)


def _format_key_value(value: Mapping[str, Any]) -> str:
    """A document the way MongoDB prints one in messages, e.g. ``{ _id: "x" }``."""
    return "{ " + ", ".join(f"{key}: {_format_value(item)}" for key, item in value.items()) + " }"


class Commands:
    """Runs commands against one Engine; never raises, failures become error replies."""

    def __init__(self, engine: Engine | None = None) -> None:
        self.engine = engine if engine is not None else Engine()
        self.cursors = CursorTable()
        self._engine_version = _engine_version()
        self._handlers: dict[str, Handler] = {
            "hello": self._hello,
            "isMaster": self._is_master,
            "ismaster": self._is_master,
            "ping": self._ok,
            "buildInfo": self._build_info,
            "buildinfo": self._build_info,
            "getParameter": self._get_parameter,
            "connectionStatus": self._connection_status,
            "endSessions": self._ok,
            "killSessions": self._ok,
            "refreshSessions": self._ok,
            "listDatabases": self._list_databases,
            "dropDatabase": self._drop_database,
            "listCollections": self._list_collections,
            "create": self._create,
            "drop": self._drop,
            "renameCollection": self._rename_collection,
            "createIndexes": self._create_indexes,
            "listIndexes": self._list_indexes,
            "dropIndexes": self._drop_indexes,
            "insert": self._insert,
            "update": self._update,
            "delete": self._delete,
            "findAndModify": self._find_and_modify,
            "findandmodify": self._find_and_modify,
            "find": self._find,
            "getMore": self._get_more,
            "killCursors": self._kill_cursors,
            "count": self._count,
            "distinct": self._distinct,
            "aggregate": self._aggregate,
            "explain": self._explain,
        }

    def run(
        self, db: str, command: Document, connection_id: int, *, legacy: bool = False
    ) -> Document:
        """Run one command; legacy: it came in an OP_QUERY (only the handshake may)."""
        name = next(iter(command), "")
        try:
            handler = self._handlers.get(name)
            if handler is None:
                raise CommandError(59, f"no such command: '{name}'")
            if legacy and name not in _LEGACY_COMMANDS:
                raise CommandError(
                    352,
                    f"Unsupported OP_QUERY command: {name}. The client driver may require an "
                    "upgrade. For more details see https://dochub.mongodb.org/core/legacy-opcode-removal",
                )
            reply = handler(db, command, connection_id)
        except Exception as exc:
            target = command.get(name)
            return self._error(exc, db, target if isinstance(target, str) else "").reply()
        reply["ok"] = 1.0
        return reply

    def _error(self, exc: BaseException, db: str, collection: str) -> CommandError:
        if not isinstance(exc, DuplicateKeyError):
            return from_exception(exc)
        details = exc.details or {}
        key_pattern = details.get("keyPattern") or {"_id": 1}
        key_value = bson_safe(details.get("keyValue") or {})
        index_name = "_id_" if list(key_pattern) == ["_id"] else None
        if index_name is None:
            for index in self.engine.indexes(db, collection) or ():
                if index["key"] == dict(key_pattern):
                    index_name = index["name"]
                    break
        if index_name is None:  # an index being built
            index_name = "_".join(
                f"{field}_{direction}" for field, direction in key_pattern.items()
            )
        return CommandError(
            11000,
            f"E11000 duplicate key error collection: {db}.{collection} "
            f"index: {index_name} dup key: {_format_key_value(key_value)}",
            keyPattern=dict(key_pattern),
            keyValue=dict(key_value),
        )

    # -- handshake and server information ------------------------------------------------

    def _ok(self, db: str, cmd: Document, connection_id: int) -> Document:
        return {}

    def _server_description(self, cmd: Document, connection_id: int) -> Document:
        reply: Document = {}
        if cmd.get("helloOk"):
            reply["helloOk"] = True
        reply.update(
            maxBsonObjectSize=MAX_BSON_SIZE,
            maxMessageSizeBytes=MAX_MESSAGE_SIZE,
            maxWriteBatchSize=MAX_WRITE_BATCH_SIZE,
            localTime=datetime.now(UTC),
            logicalSessionTimeoutMinutes=30,
            connectionId=connection_id,
            minWireVersion=0,
            maxWireVersion=MAX_WIRE_VERSION,
            readOnly=False,
        )
        return reply

    def _hello(self, db: str, cmd: Document, connection_id: int) -> Document:
        return {"isWritablePrimary": True, **self._server_description(cmd, connection_id)}

    def _is_master(self, db: str, cmd: Document, connection_id: int) -> Document:
        return {"ismaster": True, **self._server_description(cmd, connection_id)}

    def _build_info(self, db: str, cmd: Document, connection_id: int) -> Document:
        return {
            "version": "7.0.0",
            "gitVersion": "kaido-devstore",
            "versionArray": [7, 0, 0, 0],
            "kaidoDevstore": {
                "description": "Kaido dev store: an in-memory store for development and "
                "tests, not MongoDB",
                "engine": f"mongomock-ng {self._engine_version}",
            },
            "modules": [],
            "allocator": "system",
            "javascriptEngine": "none",
            "sysInfo": "deprecated",
            "storageEngines": ["kaido-devstore"],
            "bits": 64,
            "debug": False,
            "maxBsonObjectSize": MAX_BSON_SIZE,
        }

    def _get_parameter(self, db: str, cmd: Document, connection_id: int) -> Document:
        selector = cmd["getParameter"]
        if selector == "*" or (isinstance(selector, dict) and selector.get("allParameters")):
            return dict(_PARAMETERS)
        reply = {name: value for name, value in _PARAMETERS.items() if name in cmd}
        if not reply:
            raise CommandError(72, "no option found to get")
        return reply

    def _connection_status(self, db: str, cmd: Document, connection_id: int) -> Document:
        return {"authInfo": {"authenticatedUsers": [], "authenticatedUserRoles": []}}

    # -- databases and collections -------------------------------------------------------

    def _list_databases(self, db: str, cmd: Document, connection_id: int) -> Document:
        entries: list[Document] = [
            {"name": name, "sizeOnDisk": 0, "empty": False}
            for name in sorted(self.engine.database_names())
        ]
        flt = _document(cmd, "filter")
        if flt:
            entries = [entry for entry in entries if self.engine.matches(flt, entry)]
        if _flag(cmd, "nameOnly"):
            return {"databases": [{"name": entry["name"]} for entry in entries]}
        return {"databases": entries, "totalSize": 0, "totalSizeMb": 0}

    def _drop_database(self, db: str, cmd: Document, connection_id: int) -> Document:
        self.engine.drop_database(db)
        return {}

    def _list_collections(self, db: str, cmd: Document, connection_id: int) -> Document:
        entries: list[Document] = [
            {
                "name": name,
                "type": "collection",
                "options": self.engine.collection_options(db, name),
                "info": {"readOnly": False},
                "idIndex": dict(_ID_INDEX),
            }
            for name in sorted(self.engine.collection_names(db))
        ]
        flt = _document(cmd, "filter")
        if flt:
            entries = [entry for entry in entries if self.engine.matches(flt, entry)]
        if _flag(cmd, "nameOnly"):
            entries = [{"name": entry["name"], "type": entry["type"]} for entry in entries]
        cursor = self.cursors.first_batch(
            f"{db}.$cmd.listCollections", entries, _cursor_batch_size(cmd)
        )
        return {"cursor": cursor}

    def _create(self, db: str, cmd: Document, connection_id: int) -> Document:
        name = _collection_name(cmd, "create")
        for option in _UNSUPPORTED_CREATE_OPTIONS:
            if cmd.get(option):
                raise CommandError(
                    238, f"create with '{option}' is not supported by the Kaido dev store"
                )
        options: Document = {
            option: cmd[option]
            for option in ("validator", "validationLevel", "validationAction")
            if option in cmd
        }
        self.engine.create_collection(db, name, options)
        return {}

    def _drop(self, db: str, cmd: Document, connection_id: int) -> Document:
        name = _collection_name(cmd, "drop")
        count = self.engine.drop_collection(db, name)
        # Like MongoDB 7.0, dropping a collection that does not exist succeeds.
        return {} if count is None else {"nIndexesWas": count, "ns": f"{db}.{name}"}

    def _rename_collection(self, db: str, cmd: Document, connection_id: int) -> Document:
        if db != "admin":
            raise CommandError(13, "renameCollection may only be run against the admin database.")
        source, target = cmd.get("renameCollection"), cmd.get("to")
        if not isinstance(source, str) or not isinstance(target, str):
            raise CommandError(73, "renameCollection and to must be namespace strings")
        source_db, _, source_name = source.partition(".")
        target_db, _, target_name = target.partition(".")
        if not source_name or not target_name:
            raise CommandError(73, f"Invalid namespace specified '{source}' or '{target}'")
        if source_db != target_db:
            raise CommandError(
                238, "renaming across databases is not supported by the Kaido dev store"
            )
        if not self.engine.has_collection(source_db, source_name):
            raise CommandError(26, f"Source collection {source} does not exist")
        drop_target = _flag(cmd, "dropTarget")
        if self.engine.has_collection(target_db, target_name) and not drop_target:
            raise CommandError(48, "target namespace exists")
        self.engine.rename_collection(source_db, source_name, target_name, drop_target)
        return {}

    # -- indexes -------------------------------------------------------------------------

    def _create_indexes(self, db: str, cmd: Document, connection_id: int) -> Document:
        name = _collection_name(cmd, "createIndexes")
        specs = _list(cmd, "indexes")
        if not specs:
            raise CommandError(2, "Must specify at least one index to create")
        existed = self.engine.has_collection(db, name)
        before = len(self.engine.indexes(db, name) or ()) if existed else 1
        created = 0
        for spec in specs:
            if not isinstance(spec, dict):
                raise CommandError(14, "each index specification must be an object")
            _no_collation(spec)
            created += self.engine.create_index(db, name, spec)
        reply: Document = {
            "numIndexesBefore": before,
            "numIndexesAfter": len(self.engine.indexes(db, name) or ()),
            "createdCollectionAutomatically": not existed,
        }
        if not created:
            reply["note"] = "all indexes already exist"
        return reply

    def _list_indexes(self, db: str, cmd: Document, connection_id: int) -> Document:
        name = _collection_name(cmd, "listIndexes")
        indexes = self.engine.indexes(db, name)
        if indexes is None:
            raise CommandError(26, f"ns does not exist: {db}.{name}")
        ns = f"{db}.$cmd.listIndexes.{name}"
        return {"cursor": self.cursors.first_batch(ns, indexes, _cursor_batch_size(cmd))}

    def _drop_indexes(self, db: str, cmd: Document, connection_id: int) -> Document:
        name = _collection_name(cmd, "dropIndexes")
        indexes = self.engine.indexes(db, name)
        if indexes is None:
            raise CommandError(26, f"ns not found {db}.{name}")
        existing = [index["name"] for index in indexes]
        target = cmd.get("index")
        if target == "*":
            names = [index_name for index_name in existing if index_name != "_id_"]
        elif isinstance(target, str):
            names = [target]
        elif isinstance(target, list) and all(isinstance(n, str) for n in target):
            names = list(target)
        elif isinstance(target, dict):
            matching = [index["name"] for index in indexes if index["key"] == target]
            if not matching:
                raise CommandError(27, f"can't find index with key: {_format_key_value(target)}")
            names = matching[:1]
        else:
            raise CommandError(14, "dropIndexes 'index' must be a string, array or object")
        for index_name in names:
            if index_name == "_id_":
                raise CommandError(72, "cannot drop _id index")
            if index_name not in existing:
                raise CommandError(27, f"index not found with name [{index_name}]")
        for index_name in names:
            self.engine.drop_index(db, name, index_name)
        return {"nIndexesWas": len(existing)}

    # -- writes --------------------------------------------------------------------------

    def _insert(self, db: str, cmd: Document, connection_id: int) -> Document:
        name = _collection_name(cmd, "insert")
        documents = _list(cmd, "documents")
        self.engine.check_namespace(db, name)
        ordered = cmd.get("ordered", True) is not False
        inserted = 0
        errors: list[Document] = []
        for index, doc in enumerate(documents):
            try:
                if not isinstance(doc, dict):
                    raise CommandError(14, "each document to insert must be an object")
                self.engine.insert(db, name, doc)
                inserted += 1
            except Exception as exc:
                errors.append(self._error(exc, db, name).write_error(index))
                if ordered:
                    break
        reply: Document = {"n": inserted}
        if errors:
            reply["writeErrors"] = errors
        return reply

    def _update(self, db: str, cmd: Document, connection_id: int) -> Document:
        name = _collection_name(cmd, "update")
        statements = _list(cmd, "updates")
        self.engine.check_namespace(db, name)
        ordered = cmd.get("ordered", True) is not False
        matched = modified = 0
        upserted: list[Document] = []
        errors: list[Document] = []
        for index, statement in enumerate(statements):
            try:
                if not isinstance(statement, dict):
                    raise CommandError(14, "each update statement must be an object")
                _no_collation(statement)
                flt = _document(statement, "q") or {}
                update = statement.get("u")
                if not isinstance(update, dict | list):
                    raise CommandError(14, "the update 'u' must be an object or an array")
                array_filters = statement.get("arrayFilters")
                if array_filters is not None and not isinstance(array_filters, list):
                    raise CommandError(14, "arrayFilters must be an array")
                outcome = self.engine.update(
                    db,
                    name,
                    flt,
                    update,
                    multi=_flag(statement, "multi"),
                    upsert=_flag(statement, "upsert"),
                    array_filters=array_filters,
                )
            except Exception as exc:
                errors.append(self._error(exc, db, name).write_error(index))
                if ordered:
                    break
                continue
            matched += outcome.matched
            modified += outcome.modified
            if outcome.upserted:
                upserted.append({"index": index, "_id": outcome.upserted_id})
        reply: Document = {"n": matched, "nModified": modified}
        if upserted:
            reply["upserted"] = upserted
        if errors:
            reply["writeErrors"] = errors
        return reply

    def _delete(self, db: str, cmd: Document, connection_id: int) -> Document:
        name = _collection_name(cmd, "delete")
        statements = _list(cmd, "deletes")
        self.engine.check_namespace(db, name)
        ordered = cmd.get("ordered", True) is not False
        deleted = 0
        errors: list[Document] = []
        for index, statement in enumerate(statements):
            try:
                if not isinstance(statement, dict):
                    raise CommandError(14, "each delete statement must be an object")
                _no_collation(statement)
                flt = _document(statement, "q") or {}
                limit = _integer(statement, "limit") or 0
                if limit not in (0, 1):
                    raise CommandError(9, "The limit field in delete objects must be 0 or 1.")
                deleted += self.engine.delete(db, name, flt, multi=limit == 0)
            except Exception as exc:
                errors.append(self._error(exc, db, name).write_error(index))
                if ordered:
                    break
        reply: Document = {"n": deleted}
        if errors:
            reply["writeErrors"] = errors
        return reply

    def _find_and_modify(self, db: str, cmd: Document, connection_id: int) -> Document:
        name = _collection_name(cmd, next(iter(cmd)))
        _no_collation(cmd)
        query = _document(cmd, "query") or {}
        sort = _document(cmd, "sort")
        fields = _document(cmd, "fields")
        remove = _flag(cmd, "remove")
        new = _flag(cmd, "new")
        upsert = _flag(cmd, "upsert")
        update = cmd.get("update")
        array_filters = cmd.get("arrayFilters")
        if remove and update is not None:
            raise CommandError(9, "Cannot specify both an update and remove=true")
        if not remove and update is None:
            raise CommandError(9, "Either an update or remove=true must be specified")
        if remove and (new or upsert):
            raise CommandError(9, "Cannot specify both new=true or upsert=true and remove=true")
        if update is not None and not isinstance(update, dict | list):
            raise CommandError(14, "the update must be an object or an array")
        if array_filters is not None and not isinstance(array_filters, list):
            raise CommandError(14, "arrayFilters must be an array")

        old = next(self.engine.find(db, name, query, sort), None)
        if remove:
            if old is None:
                return {"lastErrorObject": {"n": 0}, "value": None}
            self.engine.delete(db, name, {"_id": old["_id"]}, multi=False)
            return {
                "lastErrorObject": {"n": 1},
                "value": self.engine.project(db, name, old, fields),
            }
        if old is None and not upsert:
            return {"lastErrorObject": {"n": 0, "updatedExisting": False}, "value": None}
        assert update is not None
        # Pin the update to the document found (the rest of the query stays, for "$").
        target = query if old is None else {**query, "_id": old["_id"]}
        outcome = self.engine.update(
            db, name, target, update, upsert=old is None, array_filters=array_filters
        )
        last_error: Document
        if outcome.upserted:
            doc_id = outcome.upserted_id
            last_error = {"n": 1, "updatedExisting": False, "upserted": doc_id}
        else:
            assert old is not None
            doc_id = old["_id"]
            last_error = {"n": 1, "updatedExisting": True}
        if new:
            value = next(self.engine.find(db, name, {"_id": doc_id}, None, fields), None)
        else:
            value = None if old is None else self.engine.project(db, name, old, fields)
        return {"lastErrorObject": last_error, "value": value}

    # -- reads ---------------------------------------------------------------------------

    def _find(self, db: str, cmd: Document, connection_id: int) -> Document:
        name = _collection_name(cmd, "find")
        _no_collation(cmd)
        flt = _document(cmd, "filter") or {}
        sort = _document(cmd, "sort")
        projection = _document(cmd, "projection")
        skip = _non_negative(cmd, "skip") or 0
        limit = _integer(cmd, "limit") or 0
        batch_size = _non_negative(cmd, "batchSize")
        single_batch = _flag(cmd, "singleBatch")
        if limit < 0:  # the legacy "negative limit": one batch only
            limit, single_batch = -limit, True
        source = self.engine.find(db, name, flt, sort, projection)
        if skip or limit:
            source = islice(source, skip, skip + limit if limit else None)
        cursor = self.cursors.first_batch(f"{db}.{name}", source, batch_size, single_batch)
        return {"cursor": cursor}

    def _explain(self, db: str, cmd: Document, connection_id: int) -> Document:
        """The plan of a find or count (verbosity queryPlanner: nothing is executed)."""
        inner = _document(cmd, "explain")
        if not inner:
            raise CommandError(9, "explain must be given the command to explain, as an object")
        operation = next(iter(inner))
        if operation not in ("find", "count"):
            raise CommandError(
                238, f"explain of {operation!r} is not supported by the Kaido dev store"
            )
        name = _collection_name(inner, operation)
        flt = _document(inner, "filter" if operation == "find" else "query") or {}
        sort = _document(inner, "sort") if operation == "find" else None
        plan = self.engine.explain(db, name, flt, sort, count=operation == "count")
        if operation == "count":
            plan = {"stage": "COUNT", "inputStage": plan}
        return {
            "explainVersion": "1",
            "queryPlanner": {
                "namespace": f"{db}.{name}",
                "parsedQuery": flt,
                "winningPlan": plan,
                "rejectedPlans": [],
            },
            "command": inner,
            "serverInfo": {"host": "kaido-devstore", "version": self._engine_version},
        }

    def _get_more(self, db: str, cmd: Document, connection_id: int) -> Document:
        cursor_id = cmd.get("getMore")
        if isinstance(cursor_id, bool) or not isinstance(cursor_id, int):
            raise CommandError(14, "getMore cursor id must be a long")
        name = _collection_name(cmd, "collection")
        batch_size = _non_negative(cmd, "batchSize")
        return {"cursor": self.cursors.next_batch(int(cursor_id), f"{db}.{name}", batch_size)}

    def _kill_cursors(self, db: str, cmd: Document, connection_id: int) -> Document:
        _collection_name(cmd, "killCursors")
        ids = _list(cmd, "cursors")
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise CommandError(14, "killCursors cursor ids must be longs")
        killed, not_found = self.cursors.kill(int(i) for i in ids)
        return {
            "cursorsKilled": killed,
            "cursorsNotFound": not_found,
            "cursorsAlive": [],
            "cursorsUnknown": [],
        }

    def _count(self, db: str, cmd: Document, connection_id: int) -> Document:
        name = _collection_name(cmd, "count")
        _no_collation(cmd)
        query = _document(cmd, "query") or {}
        skip = _non_negative(cmd, "skip") or 0
        limit = abs(_integer(cmd, "limit") or 0)
        n = max(self.engine.count(db, name, query) - skip, 0)
        return {"n": min(n, limit) if limit else n}

    def _distinct(self, db: str, cmd: Document, connection_id: int) -> Document:
        name = _collection_name(cmd, "distinct")
        _no_collation(cmd)
        key = cmd.get("key")
        if not isinstance(key, str) or not key:
            raise CommandError(14, "distinct 'key' must be a non-empty string")
        values = self.engine.distinct(db, name, key, _document(cmd, "query") or {})
        # Sorted for stable output; with mixed types the order is left as it is.
        with contextlib.suppress(TypeError):
            values.sort()
        return {"values": values}

    def _aggregate(self, db: str, cmd: Document, connection_id: int) -> Document:
        target = cmd.get("aggregate")
        if not isinstance(target, str):
            raise CommandError(
                238, "database-level aggregation is not supported by the Kaido dev store"
            )
        name = _collection_name(cmd, "aggregate")
        _no_collation(cmd)
        pipeline = _list(cmd, "pipeline")
        if _flag(cmd, "explain"):
            raise CommandError(
                238, "explain of an aggregate is not supported by the Kaido dev store"
            )
        if "cursor" not in cmd:
            raise CommandError(
                9, "The 'cursor' option is required, except for aggregate with the explain argument"
            )
        source = self.engine.aggregate(db, name, pipeline)
        cursor = self.cursors.first_batch(f"{db}.{name}", source, _cursor_batch_size(cmd))
        return {"cursor": cursor}
