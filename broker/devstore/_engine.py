"""The storage engine: mongomock-ng's in-memory databases behind a small typed interface.

mongomock-ng is untyped and mimics PyMongo's client API, so it is reached only from this
module (as ``Any``) and everything else sees plain dicts. mongomock scans collections
linearly; the broker's hot paths filter on a scalar ``_id``, so ``_FastCollection``
answers those from the collection's documents dict (O(1)) and only checks the rest of
the filter on that one document. mongomock's ``$geoWithin`` and ``$geoIntersects`` are
replaced by the dev store's own (``_geo``), see there why and what they compute.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import bson
from bson.codec_options import CodecOptions
from bson.objectid import ObjectId

from ._errors import CommandError
from ._geo import install as _install_geo_operators
from ._membership import install as _install_membership
from ._planner import Clock, IndexPlan, View, build_view, plan_for, winning_plan
from ._simple import compile_filter, field_value, scalar_kind

__all__ = ["Document", "Engine", "UpdateOutcome", "bson_safe"]

Document = dict[str, Any]

_mongomock: Any = importlib.import_module("mongomock_ng")
_collection_module: Any = importlib.import_module("mongomock_ng.collection")
_filtering: Any = importlib.import_module("mongomock_ng.filtering")
_helpers: Any = importlib.import_module("mongomock_ng.helpers")
_aggregate: Any = importlib.import_module("mongomock_ng.aggregate")
_geospatial: Any = importlib.import_module("mongomock_ng.geospatial")

# mongomock-ng's geo operators get the broker's geo-queries wrong (see _geo).
_install_geo_operators(_filtering)
# Its $in is quadratic in Python; the outbox's queries list hundreds of keys.
_install_membership(_filtering)

# How documents are held in the engine: dicts with naive UTC datetimes.
_STORED: CodecOptions[dict[str, Any]] = CodecOptions(document_class=dict, tz_aware=False)
_MISSING = object()
_ID_INDEX = "_id_"
#: Aggregation stages that write (to a collection of the engine).
_WRITING_STAGES = frozenset({"$out", "$merge"})


def _is_fast_key(value: object) -> bool:
    # Types whose dict lookup agrees with MongoDB equality. Excluded: bool (True == 1),
    # float (NaN), datetimes (the engine truncates them), documents and binaries.
    return type(value) is str or isinstance(value, ObjectId) or type(value) is int


def _id_candidates(store: Any, flt: object) -> list[Any] | None:
    """The stored documents whose ``_id`` can match flt, or None if flt has no usable _id."""
    if not isinstance(flt, Mapping):
        return None
    value = flt.get("_id", _MISSING)
    if value is _MISSING:
        return None
    documents = getattr(store, "_documents", None)
    # TTL indexes expire documents during scans: leave those collections to mongomock.
    if not isinstance(documents, dict) or getattr(store, "_ttl_indexes", True):
        return None
    keys: Iterable[Any]
    if _is_fast_key(value):
        keys = (value,)
    elif isinstance(value, Mapping) and len(value) == 1:
        ((operator, argument),) = value.items()
        if operator == "$eq" and _is_fast_key(argument):
            keys = (argument,)
        elif (
            operator == "$in"
            and isinstance(argument, list)
            and all(_is_fast_key(key) for key in argument)
        ):
            keys = dict.fromkeys(argument)
        else:
            return None
    else:
        return None
    found = []
    for key in keys:
        doc = documents.get(key)
        if doc is not None:
            found.append(doc)
    return found


def _single_sort_key(sort: Any) -> tuple[str, int] | None:
    """(path, direction) of a sort on one plain field, else None."""
    if not sort:
        return None
    items = list(sort.items()) if isinstance(sort, Mapping) else list(sort)
    if len(items) != 1:
        return None
    item = items[0]
    path, direction = (item, 1) if isinstance(item, str) else item
    if not isinstance(path, str) or not path or path.startswith("$"):
        return None
    if type(direction) is not int or direction not in (1, -1):
        return None
    return path, direction


def _near(spec: Any) -> bool:
    """Whether a filter has a $near or $nearSphere (mongomock orders its answer by distance)."""
    return bool(spec) and bool(_geospatial.extract_near_specs(spec)[0])


def _snapshot(doc: Document) -> Callable[[], None]:
    """A way back to doc's current contents, restored in place (doc is the stored object)."""
    try:
        raw = bson.encode(doc)  # cheaper than a deep copy, and only decoded on failure
    except Exception:
        saved = _helpers._clone_document(doc)

        def restore_copy() -> None:
            doc.clear()
            doc.update(saved)

        return restore_copy

    def restore() -> None:
        doc.clear()
        doc.update(bson.decode(raw, _STORED))

    return restore


class _FastCollection(_collection_module.Collection):  # type: ignore[misc]
    """A mongomock collection with an O(1) path for ``_id`` filters, and atomic updates.

    ``_iter_documents`` is where every read, update, delete and count of mongomock gets
    its matching stored documents; for a scalar ``_id`` it returns what a full scan
    would (still checked against the whole filter), in ``_id`` lookup order.

    mongomock applies an update to the stored document in place and does not undo it
    when the update then fails (e.g. a replacement that changes ``_id``, or ``$inc`` on
    a string after a ``$set``); MongoDB leaves the document unchanged, and so do we.
    """

    #: The engine's write count (set by Engine): index views built before a write are stale.
    _clock: Clock

    def _iter_documents(self, filter: Any) -> Any:
        candidates = _id_candidates(self._store, filter)
        if candidates is not None:
            return (doc for doc in candidates if _filtering.filter_applies(filter, doc))
        test = compile_filter(filter)
        store = self._store
        if test is None or getattr(store, "_ttl_indexes", True):
            return super()._iter_documents(filter)
        matches = _matcher(filter, test)
        return (doc for doc in list(store._documents.values()) if matches(doc))

    def _index_plan(self, spec: Any) -> tuple[IndexPlan, View] | None:
        """The index a filter can be read from, with its current view; None: scan."""
        store = self._store
        if getattr(store, "_ttl_indexes", True) or not store.indexes:
            return None
        if _id_candidates(store, spec) is not None:  # the _id path is quicker still
            return None
        plan = plan_for(store.indexes, spec)
        if plan is None:
            return None
        documents = store._documents
        views: dict[str, View] = self.__dict__.setdefault("_views", {})
        view = views.get(plan.path)
        if view is None or view.writes != self._clock.writes or view.documents_id != id(documents):
            view = views[plan.path] = build_view(documents, plan.path, self._clock.writes)
        return None if view.ids is None else (plan, view)

    def _read_index(self, planned: tuple[IndexPlan, View], spec: Any, direction: int) -> Any:
        """The matching documents, read through the index in _id order."""
        plan, view = planned
        documents = self._store._documents
        matches = _matcher(spec, compile_filter(spec))
        for key in plan.ids(view, direction):
            doc = documents.get(key)
            if doc is not None and matches(doc):
                yield doc

    def matching(self, spec: Any) -> Any:
        """The documents that match spec (for counting: in no particular order)."""
        planned = self._index_plan(spec)
        if planned is None:
            return self._iter_documents(spec)
        return self._read_index(planned, spec, 1)

    def sorted_plan(self, spec: Any, key: tuple[str, int] | None) -> tuple[IndexPlan, View] | None:
        """The index a find sorted on key (_single_sort_key's) reads, if the index gives
        that order: a sort on _id, and no $near (whose order is the distance)."""
        if key is None or key[0] != "_id" or _near(spec):
            return None
        return self._index_plan(spec)

    def _get_dataset(self, spec: Any, sort: Any, fields: Any, as_class: Any) -> Any:
        """mongomock's, but a sort on ``_id`` that an index on (field, ``_id``) gives is
        read from it (see _planner), and a sort on one field whose values are all
        strings or all numbers is done by Python's sort on the values (the same order;
        mongomock compares each pair through its BSON comparison, about a second for
        10,000)."""
        key = _single_sort_key(sort)
        planned = self.sorted_plan(spec, key)
        if key is not None and planned is not None:
            # The index gives the order: the read stops where the reader stops.
            yield from self._projected(
                self._read_index(planned, spec, key[1]), spec, fields, as_class
            )
            return
        if key is None or _near(spec):
            yield from super()._get_dataset(spec, sort, fields, as_class)
            return
        path, direction = key
        docs = list(self._iter_documents(spec))
        read = field_value(path)
        values = [read(doc) for doc in docs]
        kinds = {scalar_kind(value) for value in values}
        if len(kinds) > 1 or None in kinds:
            yield from super()._get_dataset(spec, sort, fields, as_class)
            return
        order = sorted(range(len(docs)), key=values.__getitem__, reverse=direction < 0)
        yield from self._projected((docs[i] for i in order), spec, fields, as_class)

    def _projected(self, docs: Iterable[Any], spec: Any, fields: Any, as_class: Any) -> Any:
        """Each document as mongomock's find gives it (its projection, as_class), lazily."""
        for doc in docs:
            result = self._copy_only_fields(doc, fields, as_class, filter=spec)
            if result is not None:
                yield result

    def _apply_update_document(
        self, existing_document: Document, spec: Any, document: Any, was_insert: bool
    ) -> None:
        if was_insert:  # a new document, discarded anyway if this fails
            super()._apply_update_document(existing_document, spec, document, was_insert)
            return
        restore = _snapshot(existing_document)
        try:
            super()._apply_update_document(existing_document, spec, document, was_insert)
        except BaseException:
            restore()
            raise

    def _apply_update_pipeline(
        self, existing_document: Document, pipeline: Any, session: Any
    ) -> None:
        restore = _snapshot(existing_document)
        try:
            super()._apply_update_pipeline(existing_document, pipeline, session)
        except BaseException:
            restore()
            raise


def _matcher(flt: Any, test: Any) -> Callable[[Document], bool]:
    """flt as a predicate: test (compile_filter's) where it decides, mongomock otherwise."""
    applies = _filtering.filter_applies
    applies(flt, {})  # as mongomock does: a malformed filter raises on no document
    if test is None:
        return lambda doc: bool(applies(flt, doc))

    def matches(doc: Document) -> bool:
        decided = test(doc)
        return bool(decided) or (decided is None and bool(applies(flt, doc)))

    return matches


@dataclass(frozen=True, slots=True)
class UpdateOutcome:
    matched: int  # documents matched, plus the upserted one
    modified: int
    upserted: bool
    upserted_id: Any = None


def _copy(doc: Any) -> Document:
    result: Document = _collection_module._copy_field(doc, dict)
    return result


def _naive_utc(value: Any) -> Any:
    return _helpers.patch_datetime_awareness_in_document(value)


def _index_keys(key: Mapping[str, Any]) -> list[tuple[str, int | str]]:
    keys: list[tuple[str, int | str]] = []
    for field, direction in key.items():
        if isinstance(direction, str):
            keys.append((field, direction))
        elif isinstance(direction, int | float) and not isinstance(direction, bool):
            keys.append((field, -1 if direction < 0 else 1))
        else:
            raise CommandError(67, f"Values in the index key pattern must be numbers: {field}")
    if not keys:
        raise CommandError(67, "Index keys cannot be empty.")
    return keys


def _count_pipeline(stages: list[Any]) -> tuple[int, int | None, Any, str] | None:
    """(skip, limit, group _id, count field) if stages just count, as count_documents' do.

    That is: optional ``$skip`` and ``$limit`` then ``{$group: {_id: <constant>, <field>:
    {$sum: 1}}}``; anything else returns None.
    """
    skip, limit = 0, None
    for stage in stages[:-1]:
        ((operator, value),) = stage.items()
        if type(value) is not int or operator not in ("$skip", "$limit"):
            return None
        if operator == "$limit":
            if value <= 0:
                return None
            limit = value if limit is None else min(limit, value)
        elif limit is None and value >= 0:
            skip += value
        else:
            return None  # a negative $skip, or a $skip after a $limit
    if not stages or "$group" not in stages[-1]:
        return None
    group = stages[-1]["$group"]
    if not isinstance(group, Mapping) or len(group) != 2 or "_id" not in group:
        return None
    group_id = group["_id"]
    if isinstance(group_id, Mapping | list) or (isinstance(group_id, str) and "$" in group_id):
        return None
    ((field, accumulator),) = ((k, v) for k, v in group.items() if k != "_id")
    if accumulator != {"$sum": 1} or type(accumulator["$sum"]) is not int:
        return None
    return skip, limit, group_id, field


def bson_safe(value: Any) -> Any:
    """Replace mongomock's "missing" sentinel (e.g. in a duplicate key's keyValue) by null."""
    if value is _collection_module.NOTHING:
        return None
    if isinstance(value, Mapping):
        return {key: bson_safe(item) for key, item in value.items()}
    return value


class Engine:
    """All databases of one dev store server."""

    def __init__(self) -> None:
        self._client: Any = _mongomock.MongoClient()
        self._collections: dict[tuple[str, str], Any] = {}
        #: Ticks on every write (index views are rebuilt after one, see _planner).
        self._clock = Clock()

    # -- namespaces ------------------------------------------------------------------

    def _database(self, db: str) -> Any:
        return self._client.get_database(db)

    def _collection(self, db: str, name: str) -> Any:
        collection = self._collections.get((db, name))
        if collection is None:
            database = self._database(db)
            database._ensure_valid_collection_name(name)
            collection = _FastCollection(
                database,
                name,
                _db_store=database._store,
                codec_options=database.codec_options,
                read_preference=database.read_preference,
            )
            collection._clock = self._clock
            # mongomock's own lookups ($lookup, $out, ...) then share the fast collection.
            database._collection_accesses[name] = collection
            self._collections[(db, name)] = collection
        return collection

    def check_namespace(self, db: str, name: str) -> None:
        """Raise InvalidName for a collection name MongoDB would refuse."""
        self._collection(db, name)

    @staticmethod
    def _keep(collection: Any) -> None:
        # In MongoDB a collection exists from its first write until it is dropped, even
        # once empty; mongomock forgets collections without documents or indexes.
        collection._store.create()

    def database_names(self) -> list[str]:
        return list(self._client.list_database_names())

    def drop_database(self, db: str) -> None:
        self._clock.tick()
        self._client.drop_database(db)
        # Forget the emptied stores too, so that many short-lived test databases do not
        # pile up in memory.
        self._client._store._databases.pop(db, None)
        self._client._database_accesses.pop(db, None)
        for key in [key for key in self._collections if key[0] == db]:
            del self._collections[key]

    def collection_names(self, db: str) -> list[str]:
        if db not in self._client._store._databases:
            return []
        return list(self._database(db).list_collection_names())

    def has_collection(self, db: str, name: str) -> bool:
        databases = self._client._store._databases
        return db in databases and name in databases[db]

    def collection_options(self, db: str, name: str) -> Document:
        return dict(self._collection(db, name).options())

    def create_collection(self, db: str, name: str, options: Mapping[str, Any]) -> None:
        if self.has_collection(db, name):
            raise CommandError(48, f"Collection {db}.{name} already exists.")
        self._collection(db, name)  # validates the name
        self._database(db).create_collection(name, **options)

    def drop_collection(self, db: str, name: str) -> int | None:
        """Drop a collection; returns how many indexes it had, None if it did not exist."""
        if not self.has_collection(db, name):
            return None
        self._clock.tick()
        count = len(self.indexes(db, name) or ())
        self._database(db).drop_collection(name)
        return count

    def rename_collection(self, db: str, name: str, new_name: str, drop_target: bool) -> None:
        self._collection(db, new_name)  # validates the new name
        self._clock.tick()
        self._database(db).rename_collection(name, new_name, dropTarget=drop_target)

    # -- indexes -----------------------------------------------------------------------

    def indexes(self, db: str, name: str) -> list[Document] | None:
        if not self.has_collection(db, name):
            return None
        return [dict(index) for index in self._collection(db, name).list_indexes()]

    def create_index(self, db: str, name: str, spec: Mapping[str, Any]) -> bool:
        """Create one index from a createIndexes entry; False if it already existed."""
        key = spec.get("key")
        if not isinstance(key, Mapping):
            raise CommandError(9, "Error in specification: the 'key' field must be a document")
        keys = _index_keys(key)
        index_name = spec.get("name")
        if index_name is None:
            index_name = _helpers.gen_index_name(keys)
        if not isinstance(index_name, str) or not index_name:
            raise CommandError(9, "Error in specification: the 'name' field must be a string")
        collection = self._collection(db, name)
        if keys == [("_id", 1)]:
            if index_name != _ID_INDEX:
                raise CommandError(85, f"Index already exists with a different name: {_ID_INDEX}")
            existed = self.has_collection(db, name)
            self._keep(collection)
            return not existed
        options: dict[str, Any] = {}
        for option in ("unique", "sparse"):
            if spec.get(option):
                options[option] = True
        for option in ("expireAfterSeconds", "partialFilterExpression"):
            if spec.get(option) is not None:
                options[option] = spec[option]
        for existing in self.indexes(db, name) or ():
            same_key = list(existing["key"].items()) == keys
            if existing["name"] == index_name:
                if not same_key:
                    raise CommandError(
                        86,
                        "An existing index has the same name as the requested index "
                        f"but a different key: {index_name}",
                    )
                existing_options = {
                    option: value
                    for option, value in existing.items()
                    if option not in ("key", "name", "v")
                }
                if existing_options != options:
                    raise CommandError(
                        85,
                        "An existing index has the same name as the requested index "
                        f"but different options: {index_name}",
                    )
                return False
            if same_key:
                raise CommandError(
                    85, f"Index already exists with a different name: {existing['name']}"
                )
        collection.create_index(keys, name=index_name, **options)
        self._keep(collection)
        return True

    def drop_index(self, db: str, name: str, index_name: str) -> None:
        self._collection(db, name).drop_index(index_name)

    # -- reads -------------------------------------------------------------------------

    def matches(self, flt: Mapping[str, Any], doc: Mapping[str, Any]) -> bool:
        return bool(_filtering.filter_applies(flt, doc))

    def find(
        self,
        db: str,
        name: str,
        flt: Mapping[str, Any],
        sort: Mapping[str, Any] | None = None,
        projection: Mapping[str, Any] | None = None,
    ) -> Iterator[Document]:
        """Matching documents (copies), lazily: only what is consumed gets copied."""
        collection = self._collection(db, name)
        spec = _naive_utc(flt)
        sort_items = list(sort.items()) if sort else None
        fields = dict(projection) if projection else None
        documents: Iterator[Document] = collection._get_dataset(spec, sort_items, fields, dict)
        return documents

    def explain(
        self,
        db: str,
        name: str,
        flt: Mapping[str, Any],
        sort: Mapping[str, Any] | None,
        *,
        count: bool = False,
    ) -> Document:
        """queryPlanner.winningPlan of a find (or a count) as find and count run it."""
        collection = self._collection(db, name)
        spec = _naive_utc(flt)
        _filtering.filter_applies(spec, {})  # a malformed filter is refused, as by find
        key = _single_sort_key(list(sort.items()) if sort else None)
        planned = collection._index_plan(spec) if count else collection.sorted_plan(spec, key)
        return winning_plan(
            planned[0] if planned else None,
            _id_candidates(collection._store, spec) is not None,
            None if count else sort,
            key[1] if key else 1,
        )

    def project(
        self, db: str, name: str, doc: Document, projection: Mapping[str, Any] | None
    ) -> Document:
        if not projection:
            return doc
        result: Document = self._collection(db, name)._copy_only_fields(doc, dict(projection), dict)
        return result

    def count(self, db: str, name: str, flt: Mapping[str, Any]) -> int:
        collection = self._collection(db, name)
        if not flt:  # estimated_document_count: no need to look at the documents
            return len(collection._store)
        return sum(1 for _ in collection.matching(_naive_utc(flt)))

    def distinct(self, db: str, name: str, key: str, flt: Mapping[str, Any]) -> list[Any]:
        return list(self._collection(db, name).distinct(key, dict(flt)))

    def aggregate(self, db: str, name: str, pipeline: list[Any]) -> Iterator[Document]:
        for stage in pipeline:
            if not isinstance(stage, Mapping) or len(stage) != 1:
                raise CommandError(
                    40323, "A pipeline stage specification object must contain exactly one field."
                )
            (stage_name,) = stage
            if stage_name not in _aggregate._PIPELINE_HANDLERS:
                raise CommandError(40324, f"Unrecognized pipeline stage name: '{stage_name}'")
        collection = self._collection(db, name)
        if any(next(iter(stage)) in _WRITING_STAGES for stage in pipeline):
            self._clock.tick()
        spec: Any = {}
        if pipeline and "$match" in pipeline[0]:
            spec = _naive_utc(pipeline[0]["$match"])
            if not isinstance(spec, Mapping):
                raise CommandError(15959, "the match filter must be an expression in an object")
            pipeline = pipeline[1:]
        counted = _count_pipeline(pipeline)
        if counted is not None:
            # count_documents' pipeline: count the matches without copying them.
            skip, limit, group_id, field = counted
            n = max(sum(1 for _ in collection.matching(spec)) - skip, 0)
            n = n if limit is None else min(n, limit)
            return iter([{"_id": group_id, field: n}] if n else [])
        # Filter before copying (and through the _id fast path): the same result as
        # mongomock's copy-everything-then-$match.
        docs = [_copy(doc) for doc in collection._iter_documents(spec)]
        result: Iterator[Document] = iter(
            _aggregate.process_pipeline(docs, collection.database, pipeline, None)
        )
        return result

    # -- writes ------------------------------------------------------------------------

    def insert(self, db: str, name: str, doc: Document) -> None:
        self._clock.tick()
        collection = self._collection(db, name)
        collection.insert_one(doc)
        self._keep(collection)

    def update(
        self,
        db: str,
        name: str,
        flt: Mapping[str, Any],
        update: Document | list[Any],
        *,
        multi: bool = False,
        upsert: bool = False,
        array_filters: list[Any] | None = None,
    ) -> UpdateOutcome:
        self._clock.tick()
        collection = self._collection(db, name)
        is_replacement = isinstance(update, dict) and not (
            update and next(iter(update)).startswith("$")
        )
        if is_replacement:
            if multi:
                raise CommandError(9, "multi update is not supported for replacement-style update")
            result = collection.replace_one(dict(flt), update, upsert=upsert)
        elif multi:
            result = collection.update_many(
                dict(flt), update, upsert=upsert, array_filters=array_filters
            )
        else:
            result = collection.update_one(
                dict(flt), update, upsert=upsert, array_filters=array_filters
            )
        raw = result.raw_result
        upserted = raw.get("upserted") is not None
        if upserted:
            self._keep(collection)
        return UpdateOutcome(
            matched=int(raw.get("n") or 0),
            modified=int(raw.get("nModified") or 0),
            upserted=upserted,
            upserted_id=raw.get("upserted"),
        )

    def delete(self, db: str, name: str, flt: Mapping[str, Any], *, multi: bool) -> int:
        self._clock.tick()
        collection = self._collection(db, name)
        result = collection.delete_many(dict(flt)) if multi else collection.delete_one(dict(flt))
        return int(result.deleted_count)
