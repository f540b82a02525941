"""The typed face of jsonschema, the one module that imports it.

jsonschema 4.26 ships no type information (no py.typed, and types-jsonschema is not a
dependency), so its names are Any to mypy. The Protocols below state the little of it that
the package uses, so that everything else stays fully typed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Final, Protocol

import jsonschema  # type: ignore[import-untyped,unused-ignore]
from jsonschema import exceptions as _exceptions
from referencing import Registry

__all__ = ["DRAFTS", "Draft", "Error", "Validator", "best_match", "format_checker", "schema_error"]


class Error(Protocol):
    """A jsonschema ValidationError, as read here."""

    @property
    def message(self) -> str: ...
    @property
    def validator(self) -> str: ...
    @property
    def absolute_path(self) -> Sequence[str | int]: ...
    @property
    def relative_schema_path(self) -> Sequence[str | int]: ...
    @property
    def context(self) -> list[Error]: ...


class Validator(Protocol):
    """A jsonschema validator bound to one schema."""

    def iter_errors(self, instance: Any) -> Iterator[Error]: ...


class Draft(Protocol):
    """A jsonschema validator class (Draft7Validator, Draft202012Validator, ...)."""

    META_SCHEMA: Mapping[str, Any]
    FORMAT_CHECKER: Any

    def __call__(
        self, schema: Mapping[str, Any], *, registry: Registry[Any], format_checker: object
    ) -> Validator: ...

    def check_schema(self, schema: Mapping[str, Any]) -> None: ...


DRAFTS: Final[dict[str, Draft]] = {
    "draft-04": jsonschema.Draft4Validator,
    "draft-06": jsonschema.Draft6Validator,
    "draft-07": jsonschema.Draft7Validator,
    "draft/2019-09": jsonschema.Draft201909Validator,
    "draft/2020-12": jsonschema.Draft202012Validator,
}


def schema_error(draft: Draft, schema: Mapping[str, Any]) -> tuple[Sequence[str | int], str] | None:
    """(where, what) if schema is not valid against its draft's metaschema, else None."""
    try:
        draft.check_schema(schema)
    except _exceptions.SchemaError as error:
        return tuple(error.absolute_path), str(error.message)
    return None


def best_match(errors: Iterable[Error]) -> Error | None:
    """The most relevant of several alternatives' errors (jsonschema's own heuristic)."""
    found: Error | None = _exceptions.best_match(errors)
    return found


def format_checker(draft: Draft, extra: Mapping[str, Callable[[object], bool]]) -> object:
    """A copy of the draft's format checker with extra checks for formats it lacks."""
    checker = jsonschema.FormatChecker(())
    checker.checkers = dict(draft.FORMAT_CHECKER.checkers)
    for name, check in extra.items():
        if name not in checker.checkers:
            checker.checks(name)(check)
    return checker
