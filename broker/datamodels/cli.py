"""``python -m broker validate`` and ``python -m broker models``.

validate [--schema-dir DIR ...] FILE...: one JSON line per file on stdout,
{"file", "type", "valid", "errors": [{"path", "message"}]}; exit 0 if every file is valid,
1 if any is invalid, 2 on a usage error (unknown option, no file, a file that cannot be read
or is not JSON, a schema folder that cannot be loaded), said on stderr. A file holding an
array of entities gives one line whose pointers start with the entity's index.

models [--schema-dir DIR ...]: one JSON line per known model.

The packaged models/ folder is always loaded; --schema-dir folders are loaded after it.
The broker's own command line reuses add_subcommands and run; main is for direct use.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

import orjson

from ._errors import ModelError

if TYPE_CHECKING:
    from ._registry import ModelRegistry
    from ._report import ErrorItem

__all__ = ["COMMANDS", "add_subcommands", "main", "run"]

#: The sub-commands this module handles (the value of args.command).
COMMANDS: Final = ("validate", "models")
_PROG: Final = "kaido"
_UTF8_BOM: Final = b"\xef\xbb\xbf"


class _UsageError(Exception):
    """Something the user must fix in the command line or its files (exit status 2)."""


def add_subcommands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add "validate" and "models" to a parser made with add_subparsers(dest="command")."""
    schema_dir: dict[str, Any] = {
        "action": "append",
        "default": [],
        "metavar": "DIR",
        "dest": "schema_dirs",
        "help": "also load the schemas in DIR (laid out as the Smart Data Models "
        "repositories); may be repeated",
    }
    validate = subparsers.add_parser(
        "validate",
        help="validate entity files against the data models",
        description="Validate NGSI-LD entities (normalized, concise or keyValues) or plain "
        "keyValues JSON against the data model of their type. Prints one JSON line per file; "
        "exits 1 if any file is invalid, 2 on a usage error.",
    )
    validate.add_argument("--schema-dir", **schema_dir)
    validate.add_argument("files", nargs="+", metavar="FILE", help="a JSON file of one entity")
    models = subparsers.add_parser(
        "models",
        help="list the known data models",
        description="Print one JSON line per known data model.",
    )
    models.add_argument("--schema-dir", **schema_dir)


def _registry(dirs: Sequence[str]) -> ModelRegistry:
    from ._registry import ModelRegistry  # here: jsonschema is slow to import

    try:
        return ModelRegistry.default(dirs)
    except ModelError as error:
        raise _UsageError(str(error)) from None


def _read(name: str) -> object:
    try:
        raw = Path(name).read_bytes()
    except OSError as error:
        raise _UsageError(f"{name}: cannot read it: {error.strerror or error}") from None
    try:
        return orjson.loads(raw.removeprefix(_UTF8_BOM))
    except orjson.JSONDecodeError as error:
        raise _UsageError(f"{name}: not JSON: {error}") from None


def _check(registry: ModelRegistry, name: str, document: object) -> dict[str, Any]:
    """The output line for one file (an array of entities: one line, indexed pointers)."""
    entities = document if isinstance(document, list) and document else [document]
    types: list[Any] = []
    errors: list[ErrorItem] = []
    for index, entity in enumerate(entities):
        try:
            result = registry.validate(entity)
        except ModelError as error:
            raise _UsageError(f"{name}: {error}") from None
        prefix = f"/{index}" if entities is document else ""
        types.append(result["type"])
        errors += [{"path": prefix + e["path"], "message": e["message"]} for e in result["errors"]]
    return {
        "file": name,
        "type": types if entities is document else types[0],
        "valid": not errors,
        "errors": errors,
    }


def _emit(line: dict[str, Any], out: TextIO) -> None:
    out.write(orjson.dumps(line).decode() + "\n")
    out.flush()


def _validate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    registry = _registry(args.schema_dirs)
    status = 0
    for name in args.files:
        try:
            line = _check(registry, name, _read(name))
        except _UsageError as error:
            err.write(f"{_PROG} validate: {error}\n")
            status = 2
            continue
        _emit(line, out)
        if not line["valid"] and status == 0:
            status = 1
    return status


def _models(args: argparse.Namespace, out: TextIO) -> int:
    for info in _registry(args.schema_dirs).models():
        _emit(info.as_dict(), out)
    return 0


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run a parsed "validate" or "models" command (args.command); the exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        if args.command == "validate":
            return _validate(args, out, err)
        if args.command == "models":
            return _models(args, out)
    except _UsageError as error:
        err.write(f"{_PROG} {args.command}: {error}\n")
        return 2
    err.write(f"{_PROG}: unknown command {args.command!r}\n")
    return 2


def main(argv: list[str] | None = None) -> int:
    """`validate ...` or `models ...` (argv without the program name); the exit status."""
    parser = argparse.ArgumentParser(prog=_PROG, description="Kaido data model tools.")
    add_subcommands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2
    return run(args)
