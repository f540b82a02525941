"""Check a folder of entity files against Kaido's data models, twice: with the command line
(`python -m broker validate`) and over HTTP (`POST /models/validate` on a running broker).

    .venv/bin/python examples/integrator/validate.py            # data/ next to this script
    .venv/bin/python examples/integrator/validate.py --url http://localhost:1026 my/*.json
    .venv/bin/python examples/integrator/validate.py --no-http  # no broker needed

It prints what each check answers, raw, then file by file: OK, or each error with its JSON
pointer into the file (e.g. /status/value: the "value" of the "status" attribute).
Exit status: 0 every file is valid, 1 some file is invalid, 2 the check could not be made
(a file that cannot be read or is not JSON, the broker unreachable).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

DATA: Final = Path(__file__).resolve().parent / "data"
RULE: Final = "-" * 78


def _name(path: Path) -> str:
    """path relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _show(name: str, entity_type: Any, errors: list[dict[str, str]]) -> None:
    if isinstance(entity_type, list):  # a file holding an array of entities
        entity_type = ", ".join(map(str, entity_type))
    if not errors:
        print(f"  OK       {name} ({entity_type})")
        return
    print(f"  INVALID  {name} ({entity_type}): {len(errors)} error(s)")
    for error in errors:
        print(f"             {error['path'] or '(the entity)'}: {error['message']}")


def check_cli(files: Sequence[Path]) -> int:
    """Run `python -m broker validate FILE...`; its exit status (0, 1 or 2)."""
    command = [sys.executable, "-m", "broker", "validate", *map(_name, files)]
    print(RULE)
    print("1. Command line:", " ".join(["python", *command[1:]]))
    print(RULE)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    print(done.stdout, end="")
    print(done.stderr, end="", file=sys.stderr)
    print(f"\nexit status {done.returncode} (0 all valid, 1 some invalid, 2 usage error)\n")
    for line in done.stdout.splitlines():
        result = json.loads(line)
        _show(result["file"], result["type"], result["errors"])
    print()
    return done.returncode


def _post(url: str, body: bytes, media_type: str, tenant: str | None) -> tuple[int, Any]:
    headers = {"Content-Type": media_type, "Accept": "application/json"}
    if tenant:
        headers["NGSILD-Tenant"] = tenant
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:  # 4xx/5xx: a ProblemDetails body
        return error.code, json.loads(error.read() or b"null")


def check_http(files: Sequence[Path], url: str, tenant: str | None) -> int:
    """POST each file to /models/validate; 0 all valid, 1 some invalid, 2 not checked."""
    endpoint = url.rstrip("/") + "/models/validate"
    print(RULE)
    print(f"2. Over HTTP: POST {endpoint}" + (f" (NGSILD-Tenant: {tenant})" if tenant else ""))
    print(RULE)
    status = 0
    for path in files:
        body = path.read_bytes()
        document = json.loads(body)
        items = document if isinstance(document, list) else [document]
        has_context = any(isinstance(i, dict) and "@context" in i for i in items)
        media_type = "application/ld+json" if has_context else "application/json"
        try:
            code, answer = _post(endpoint, body, media_type, tenant)
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            print(f"cannot reach the broker at {url}: {reason}", file=sys.stderr)
            print("start it with `make run` in another terminal, or use --no-http")
            return 2
        print(f"{_name(path)} -> HTTP {code}")
        print(json.dumps(answer, ensure_ascii=False))
        if code != 200:
            status = 2
            continue
        # An array gets an array of reports, one per entity, each with pointers into that
        # entity: prefix them with its index to point into the file as the CLI does.
        reports = answer if isinstance(document, list) else [answer]
        prefixes = [f"/{i}" for i in range(len(reports))] if isinstance(document, list) else [""]
        errors = [
            {"path": prefix + e["path"], "message": e["message"]}
            for prefix, report in zip(prefixes, reports, strict=True)
            for e in report["errors"]
        ]
        _show(
            _name(path),
            [r["type"] for r in reports] if len(reports) > 1 else answer["type"],
            errors,
        )
        if errors and status == 0:
            status = 1
    print()
    return status


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="validate.py",
        description="Validate entity files against the data models with the CLI and over HTTP.",
    )
    parser.add_argument(
        "files",
        nargs="*",
        type=Path,
        metavar="FILE",
        help=f"JSON files of one entity or an array of entities (default: {_name(DATA)}/*.json)",
    )
    parser.add_argument(
        "--url", default="http://localhost:1026", help="the broker (default %(default)s)"
    )
    parser.add_argument("--tenant", help="NGSILD-Tenant, to use the models a tenant registered")
    parser.add_argument("--no-http", action="store_true", help="only the command-line check")
    args = parser.parse_args(argv)
    files: list[Path] = args.files or sorted(DATA.glob("*.json"))
    if not files:
        parser.error("no files to check")
    cli = check_cli(files)
    if cli == 2:
        return 2
    if args.no_http:
        return cli
    http = check_http(files, args.url, args.tenant)
    if http != 2 and http != cli:
        print("the command line and the broker disagree", file=sys.stderr)
        return 2
    return http


if __name__ == "__main__":
    sys.exit(main())
