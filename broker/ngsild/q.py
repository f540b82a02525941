"""The NGSI-LD Query Language (clause 4.9) and Entity Type Selection Language (clause 4.17).

Parsing only (pure, no I/O): a ``q`` or ``type`` string becomes a small tree of frozen
dataclasses with every attribute and type name already expanded with the request's
@context, so that the store (store/filters.py) and anything else evaluating a query
never sees short names. Every syntax error is a BadRequestData (clause 5.7.2.4: "the
query ... not syntactically valid") whose detail names the problem and its character
position (1-based), because q strings are hard to debug from a bare 400.

Grammar of q (clause 4.9 ABNF; where it is stricter than real clients and the spec's own
examples, the parser accepts the examples)::

    Query     = OrExpr
    OrExpr    = AndExpr *("|" AndExpr)            ; ";" binds tighter than "|"
    AndExpr   = Primary *(";" Primary)
    Primary   = "(" OrExpr ")" / Term             ; nesting: EXAMPLE 6 nests groups
    Term      = "!" Path                          ; the target element does not exist
              / Path [Operator Operand]           ; no operator: it exists (EXAMPLE 0)
              / Path ("~=" / "!~=") RegExp
    Operator  = "==" / "!=" / ">=" / ">" / "<=" / "<"
    Operand   = Value / Value ".." Value / Value 1*("," Value)   ; range, list: == and != only
    Value     = quotedStr (JSON escapes) / Number (JSON) / true / false
              / DateTime / Date / Time (clause 4.6.3) / URI / bare word (a string)
    Path      = Name "{" [Type *("," Type) ":"] LinkedPath "}"    ; linked entity (4.5.23)
              / Name *("." Name) *("[" Member *("." Member) "]")

The first Name is the attribute, further dotted Names are sub-attributes, except that a
last ``observedAt``, ``unitCode``, ``datasetId``, ``createdAt``, ``modifiedAt`` or
``objectType`` addresses that member of the attribute (EXAMPLE 8), and a path that is
just ``createdAt`` or ``modifiedAt`` addresses the Entity's own system timestamps (the
"system attributes" of clause 5.7.2.4). Bracketed Members walk into a compound value
(EXAMPLE 9/10; ``a[b.c]`` as in V1.9.1 and ``a[b][c]`` as in earlier versions) and are
not expanded; ``[*]`` as last member means "any member" (``color[*]``, clause 4.9 on
LanguageProperty). An unquoted RegExp runs to the next ``;`` or ``|`` outside
parentheses and brackets (so ``(a|b)`` inside it is fine); a quoted one may contain
anything, with ``\\"`` for a quote.

Beyond the ABNF, as clients send them: ``!path`` (non-existence, as in Stellio and
Scorpio), unquoted words as strings (``category==commercial``, 019_29_13), whitespace
between tokens, and compact IRIs (``ex:speed``) as names outside ``{...}``. Full IRIs
cannot be attribute names in q (their dots would read as a path); use a @context term.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from .errors import BadRequestData
from .model import META_MEMBERS
from .parse import ENTITY_MEMBERS, TermExpander
from .uris import is_uri

__all__ = [
    "ATTRIBUTE_META",
    "ENTITY_SYSTEM_MEMBERS",
    "And",
    "AttrPath",
    "Comparison",
    "Exists",
    "Link",
    "Match",
    "Op",
    "Operand",
    "Or",
    "QueryNode",
    "Range",
    "TypeExpr",
    "Value",
    "ValueKind",
    "ValueList",
    "attribute_names",
    "linked_depth",
    "parse_q",
    "parse_type_expression",
    "paths",
]

#: Members of an attribute that a path may end with (clause 4.9 EXAMPLE 8, clause 4.5.2).
ATTRIBUTE_META: Final = frozenset(
    {"observedAt", "unitCode", "datasetId", "createdAt", "modifiedAt", "objectType"}
)
#: Entity members a path may consist of: the system timestamps (clause 5.7.2.4).
ENTITY_SYSTEM_MEMBERS: Final = frozenset({"createdAt", "modifiedAt"})

_MAX_NESTING: Final = 32
_MAX_LINKS: Final = 10
_MAX_TYPE_ALTERNATIVES: Final = 64
_INT64: Final = 2**63 - 1

_NAME = re.compile(r"[^\W\d][\w\-]*")
_TYPE_HINTS = re.compile(r"[^\W\d][\w\-]*(?:,[^\W\d][\w\-]*)*:")
_MEMBER = re.compile(r"[^.\[\]\s\"=<>!~;|(){},]+")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[.,]\d+)?Z")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"\d{2}:\d{2}:\d{2}(?:[.,]\d+)?Z")
_TOKEN = re.compile(r"[^;|,()\"\s]+")
_TYPE_TOKEN = re.compile(r"[^,;|()\s]+")
_TERM = re.compile(r"[^\W\d][\w\-]*\Z")
_WHITESPACE = " \t\r\n"
_OPERATORS: Final = ("==", "!=", ">=", ">", "<=", "<", "!~=", "~=")


class ValueKind(StrEnum):
    """What a Query Term value was written as (clause 4.9 production rules)."""

    STRING = "string"  # quotedStr
    TERM = "term"  # an unquoted word: not in the ABNF, but sent by clients (EXAMPLE 12)
    URI = "uri"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATETIME = "dateTime"
    DATE = "date"
    TIME = "time"


_COMPARABLE: Final = frozenset(
    {ValueKind.STRING, ValueKind.NUMBER, ValueKind.DATETIME, ValueKind.DATE, ValueKind.TIME}
)
_EXPANDABLE: Final = frozenset({ValueKind.STRING, ValueKind.TERM, ValueKind.URI})


class Op(StrEnum):
    EQ = "=="
    NE = "!="
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="


@dataclass(frozen=True, slots=True)
class Value:
    """A literal: str for strings, URIs, words and date/times, int/float, bool."""

    value: str | int | float | bool
    kind: ValueKind


@dataclass(frozen=True, slots=True)
class Range:
    """``low..high``, both included (clause 4.9, Equal operator)."""

    low: Value
    high: Value


@dataclass(frozen=True, slots=True)
class ValueList:
    """``a,b,c``: equal to (or, for arrays, including) any of them."""

    items: tuple[Value, ...]


Operand = Value | Range | ValueList


@dataclass(frozen=True, slots=True)
class Link:
    """One hop of a linked-entity path (``rel{...}``, clause 4.9 EXAMPLE 13/14)."""

    attr: str  # expanded name of the Relationship followed
    types: tuple[str, ...] = ()  # expanded Entity Type hints for the entity reached


@dataclass(frozen=True, slots=True)
class AttrPath:
    """What a Query Term looks at, with names expanded.

    attrs: the attribute, then its sub-attributes (empty: a member of the Entity itself);
    meta: a member of that (sub-)attribute or of the Entity, instead of its value;
    members: compound-value member names (not expanded), ``*`` last for any member;
    links: Relationships followed first, to another Entity (not evaluated by the store).
    """

    attrs: tuple[str, ...]
    meta: str | None = None
    members: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    text: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Exists:
    """``path`` (the target element exists) or ``!path`` (negated: it does not)."""

    path: AttrPath
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Comparison:
    path: AttrPath
    op: Op
    operand: Operand


@dataclass(frozen=True, slots=True)
class Match:
    """``path~=regexp`` or, negated, ``path!~=regexp``."""

    path: AttrPath
    pattern: str
    negated: bool = False


@dataclass(frozen=True, slots=True)
class And:
    terms: tuple[QueryNode, ...]


@dataclass(frozen=True, slots=True)
class Or:
    terms: tuple[QueryNode, ...]


QueryNode = And | Or | Exists | Comparison | Match


@dataclass(frozen=True, slots=True)
class TypeExpr:
    """A type selection (clause 4.17) in disjunctive normal form.

    An Entity matches when it has all the types of at least one alternative.
    """

    alternatives: tuple[tuple[str, ...], ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Every type named, once each, in order."""
        return tuple(dict.fromkeys(t for alt in self.alternatives for t in alt))

    def matches(self, types: Collection[str]) -> bool:
        return any(all(t in types for t in alt) for alt in self.alternatives)


def paths(node: QueryNode) -> Iterator[AttrPath]:
    """Every attribute path of a query, in order."""
    if isinstance(node, And | Or):
        for term in node.terms:
            yield from paths(term)
    else:
        yield node.path


def attribute_names(node: QueryNode) -> frozenset[str]:
    """The (expanded) top-level attributes a query refers to, system timestamps aside.

    Clause 5.7.2.4 c): a q only narrows a query enough if it names at least one
    non-system attribute; an empty result means it does not.
    """
    names: set[str] = set()
    for path in paths(node):
        if path.links:
            names.add(path.links[0].attr)
        elif path.attrs:
            names.add(path.attrs[0])
    return frozenset(names)


def linked_depth(node: QueryNode) -> int:
    """How many Relationships the deepest path follows (0: no linked entities).

    Clause 5.7.2.4: a q with linked-entity attributes needs ``join`` and at most
    ``joinLevel`` hops, else BadRequestData; the API layer checks that with this.
    """
    return max((len(path.links) for path in paths(node)), default=0)


def parse_q(text: str, ctx: TermExpander, expand_values: Collection[str] = ()) -> QueryNode:
    """Parse a q string (clause 4.9); names are expanded with ctx.

    expand_values: the ``expandValues`` parameter (clause 4.9 EXAMPLE 12), attribute
    names whose string values are expanded with ctx as well, so that ``gender==Male``
    finds the VocabProperty value ``http://example.org/Male``.
    """
    expand: set[str] = set()
    for name in expand_values:
        iri = ctx.expand(name)
        if iri.startswith("@") or not is_uri(iri):
            raise BadRequestData(f"expandValues: {name!r} does not expand to an attribute IRI")
        expand.add(iri)
    return _Parser(text, ctx, "q").query(frozenset(expand))


def parse_type_expression(text: str, ctx: TermExpander) -> TypeExpr:
    """Parse a ``type`` parameter (clause 4.17): ``A,B`` and ``A|B`` (either), ``(A;B)``
    (both), ``(A;B)|C``; ``A;B`` without parentheses and deeper nesting are accepted too
    (``;`` binds tighter). Names are expanded with ctx."""
    return _Parser(text, ctx, "type").type_expression()


def _excerpt(text: str, pos: int) -> str:
    if len(text) <= 80:
        return text
    start = max(0, pos - 40)
    end = min(len(text), pos + 40)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


def _describe(value: Value) -> str:
    return f"{value.kind.value} {value.value!r}"


class _Parser:
    """Recursive descent over the string, one character position at a time."""

    def __init__(self, text: str, ctx: TermExpander, what: str) -> None:
        self.text = text
        self.ctx = ctx
        self.what = what
        self.pos = 0
        self.expand_values: frozenset[str] = frozenset()

    # -- helpers -------------------------------------------------------------------------

    def error(self, message: str, pos: int | None = None) -> BadRequestData:
        at = self.pos if pos is None else pos
        return BadRequestData(
            f"{self.what}: {message} at position {at + 1}: {_excerpt(self.text, at)}"
        )

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _WHITESPACE:
            self.pos += 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def found(self) -> str:
        ch = self.peek()
        return f"found {ch!r}" if ch else "found the end"

    def expand_name(self, name: str, pos: int, what: str = "attribute name") -> str:
        iri = self.ctx.expand(name)
        if iri.startswith("@") or not is_uri(iri):
            raise self.error(
                f"the {what} {name!r} does not expand to an IRI with the given @context", pos
            )
        return iri

    # -- q -------------------------------------------------------------------------------

    def query(self, expand_values: frozenset[str]) -> QueryNode:
        self.expand_values = expand_values
        self.skip_ws()
        if self.pos == len(self.text):
            raise BadRequestData("q: the query is empty")
        node = self.or_expr(0)
        self.skip_ws()
        if self.pos < len(self.text):
            if self.peek() == ")":
                raise self.error("')' without a matching '('")
            raise self.error(f"expected ';', '|' or the end of the query, {self.found()}")
        return node

    def or_expr(self, depth: int) -> QueryNode:
        terms = [self.and_expr(depth)]
        while self.peek() == "|":
            self.pos += 1
            terms.append(self.and_expr(depth))
        return terms[0] if len(terms) == 1 else Or(_flatten(Or, terms))

    def and_expr(self, depth: int) -> QueryNode:
        terms = [self.primary(depth)]
        while self.peek() == ";":
            self.pos += 1
            terms.append(self.primary(depth))
        return terms[0] if len(terms) == 1 else And(_flatten(And, terms))

    def primary(self, depth: int) -> QueryNode:
        self.skip_ws()
        if self.peek() != "(":
            node = self.term()
            self.skip_ws()
            return node
        if depth >= _MAX_NESTING:
            raise self.error("parentheses are nested too deeply")
        start = self.pos
        self.pos += 1
        node = self.or_expr(depth + 1)
        self.skip_ws()
        if self.peek() != ")":
            raise self.error(
                f"expected ')' (to close the '(' at position {start + 1}), {self.found()}"
            )
        self.pos += 1
        self.skip_ws()
        return node

    def term(self) -> QueryNode:
        if self.peek() == "!":
            self.pos += 1
            path = self.path()
            self.skip_ws()
            if self.peek() and self.peek() not in ";|)":
                raise self.error(
                    f"'!{path.text}' only says the attribute does not exist: expected ';', "
                    f"'|' or ')' after it, {self.found()}"
                )
            return Exists(path, negated=True)
        if self.pos == len(self.text) or self.peek() in ";|)":
            raise self.error(f"expected a Query Term (an attribute path), {self.found()}")
        path = self.path()
        self.skip_ws()
        op_pos = self.pos
        op = self.operator()
        if op is None:
            ch = self.peek()
            if ch and ch not in ";|)":
                raise self.error(
                    f"expected an operator (==, !=, >, >=, <, <=, ~=, !~=), ';', '|' or ')' "
                    f"after the attribute path {path.text!r}, {self.found()}"
                )
            return Exists(path)
        if op in ("~=", "!~="):
            if path.meta == "datasetId":
                raise self.error("a datasetId can only be compared with == or !=", op_pos)
            return Match(path, self.regex(op), negated=op == "!~=")
        operator = Op(op)
        if path.meta == "datasetId" and operator not in (Op.EQ, Op.NE):
            raise self.error("a datasetId can only be compared with == or !=", op_pos)
        operand = self.operand(operator, path)
        return Comparison(path, operator, self.expanded(path, operand))

    def operator(self) -> str | None:
        for op in _OPERATORS:
            if self.text.startswith(op, self.pos):
                self.pos += len(op)
                return op
        return None

    # -- paths ---------------------------------------------------------------------------

    def path(self) -> AttrPath:
        start = self.pos
        links: list[Link] = []
        while True:
            if links:
                hints = _TYPE_HINTS.match(self.text, self.pos)
                if hints:
                    types = tuple(
                        self.expand_name(t, self.pos, "entity type")
                        for t in hints.group()[:-1].split(",")
                    )
                    links[-1] = Link(links[-1].attr, types)
                    self.pos = hints.end()
            name_pos = self.pos
            name = self.name(compact=not links)
            if self.peek() != "{":
                break
            if len(links) >= _MAX_LINKS:
                raise self.error("linked-entity paths are nested too deeply")
            links.append(Link(self.expand_name(name, name_pos)))
            self.pos += 1
        names = [(name, name_pos)]
        while self.peek() == "." and not self.text.startswith("..", self.pos):
            self.pos += 1
            pos = self.pos
            names.append((self.name(compact=False), pos))
        members = self.members()
        for _ in links:
            if self.peek() != "}":
                raise self.error(f"expected '}}' to close a linked-entity path, {self.found()}")
            self.pos += 1
        attrs, meta = self.classify(names, members)
        return AttrPath(attrs, meta, members, tuple(links), self.text[start : self.pos])

    def name(self, compact: bool) -> str:
        """A name; self.pos is left after it (callers record the start first)."""
        match = _NAME.match(self.text, self.pos)
        if match is None:
            raise self.error(f"expected an attribute name, {self.found()}")
        end = match.end()
        if compact and self.text.startswith(":", end):
            # A compact IRI (prefix:name), expanded with the @context's prefix.
            suffix = _NAME.match(self.text, end + 1)
            if suffix is not None:
                end = suffix.end()
        self.pos = end
        return self.text[match.start() : end]

    def members(self) -> tuple[str, ...]:
        members: list[str] = []
        while self.peek() == "[":
            self.pos += 1
            while True:
                match = _MEMBER.match(self.text, self.pos)
                if match is None:
                    raise self.error(f"expected a member name inside '[...]', {self.found()}")
                if members and members[-1] == "*":
                    raise self.error("'*' (any member) must be the last member", match.start())
                members.append(match.group())
                self.pos = match.end()
                if self.peek() == ".":
                    self.pos += 1
                    continue
                if self.peek() == "]":
                    self.pos += 1
                    break
                raise self.error(f"expected '.' or ']' in the member path, {self.found()}")
        return tuple(members)

    def classify(
        self, names: list[tuple[str, int]], members: tuple[str, ...]
    ) -> tuple[tuple[str, ...], str | None]:
        first, first_pos = names[0]
        if first in ENTITY_SYSTEM_MEMBERS:
            if len(names) > 1 or members:
                raise self.error(
                    f"{first!r} is the Entity's timestamp: it has no sub-attributes or members",
                    names[1][1] if len(names) > 1 else first_pos,
                )
            return (), first
        if first in META_MEMBERS or first in ENTITY_MEMBERS:
            hint = (
                f"write <attribute>.{first} for the {first} of an attribute"
                if first in ATTRIBUTE_META
                else "it is not an attribute name"
            )
            raise self.error(f"{first!r} cannot be queried with q: {hint}", first_pos)
        attrs = [self.expand_name(first, first_pos)]
        meta: str | None = None
        for index, (name, pos) in enumerate(names[1:], 1):
            if meta is not None:
                raise self.error(f"nothing can follow {meta!r} in an attribute path", pos)
            if name in ATTRIBUTE_META:
                if name == "datasetId" and index > 1:
                    raise self.error("only a top-level attribute has a datasetId", pos)
                meta = name
            elif name in META_MEMBERS:
                raise self.error(
                    f"{name!r} is not a sub-attribute: a Query Term on the attribute itself "
                    "already compares its value",
                    pos,
                )
            else:
                attrs.append(self.expand_name(name, pos))
        if meta is not None and members:
            raise self.error(f"{meta!r} has no members to select with '[...]'")
        return tuple(attrs), meta

    # -- values --------------------------------------------------------------------------

    def operand(self, op: Op, path: AttrPath) -> Operand:
        self.skip_ws()
        if self.pos == len(self.text) or self.peek() in ";|)":
            raise self.error(f"expected a value after '{op.value}'")
        first_pos = self.pos
        first = self.value()
        equality = op in (Op.EQ, Op.NE)
        if self.text.startswith("..", self.pos):
            if not equality:
                raise self.error(f"a range (a..b) can only follow '==' or '!=', not '{op.value}'")
            self.pos += 2
            high_pos = self.pos
            if self.pos == len(self.text) or self.peek() in ";|),":
                raise self.error("expected the upper end of the range after '..'")
            high = self.value()
            for value, pos in ((first, first_pos), (high, high_pos)):
                if value.kind not in _COMPARABLE:
                    raise self.error(
                        "a range needs numbers, quoted strings or date/times at both ends, "
                        f"not the {_describe(value)}",
                        pos,
                    )
            if (first.kind is ValueKind.NUMBER) != (high.kind is ValueKind.NUMBER):
                raise self.error("both ends of a range must be numbers, or neither", high_pos)
            operand: Operand = Range(first, high)
        elif self.peek() == ",":
            if not equality:
                raise self.error(
                    f"a list of values (a,b,c) can only follow '==' or '!=', not '{op.value}'"
                )
            items = [first]
            while self.peek() == ",":
                self.pos += 1
                if self.pos == len(self.text) or self.peek() in ";|),":
                    raise self.error("expected a value after ','")
                items.append(self.value())
            operand = ValueList(tuple(items))
        else:
            if not equality and first.kind not in _COMPARABLE:
                raise self.error(
                    f"'{op.value}' compares with a number, a quoted string or a date/time, "
                    f"not the {_describe(first)}",
                    first_pos,
                )
            operand = first
        if path.meta == "datasetId":
            values: tuple[Value, ...] = (
                operand.items if isinstance(operand, ValueList) else (first,)
            )
            if isinstance(operand, Range) or not all(isinstance(v.value, str) for v in values):
                raise self.error("a datasetId is compared with URIs (one or a list)", first_pos)
        return operand

    def ends_value(self, pos: int) -> bool:
        return (
            pos == len(self.text)
            or self.text[pos] in ";|,)" + _WHITESPACE
            or self.text.startswith("..", pos)
        )

    def value(self) -> Value:
        self.skip_ws()
        start = self.pos
        if self.peek() == '"':
            text = self.quoted()
            self.skip_ws()
            return Value(text, ValueKind.STRING)
        for pattern, kind in (
            (_DATETIME, ValueKind.DATETIME),
            (_TIME, ValueKind.TIME),
            (_DATE, ValueKind.DATE),
        ):
            match = pattern.match(self.text, start)
            if match is not None and self.ends_value(match.end()):
                self.pos = match.end()
                self.skip_ws()
                return Value(match.group(), kind)
        match = _NUMBER.match(self.text, start)
        if match is not None and self.ends_value(match.end()):
            self.pos = match.end()
            self.skip_ws()
            return Value(self.number(match.group(), start), ValueKind.NUMBER)
        match = _TOKEN.match(self.text, start)
        if match is None:
            raise self.error(f"expected a value, {self.found()}")
        token = match.group()
        if token in ("true", "false"):
            value = Value(token == "true", ValueKind.BOOLEAN)
        elif is_uri(token):
            value = Value(token, ValueKind.URI)
        elif token[0].isalpha():
            token = token.split("..", 1)[0]
            value = Value(token, ValueKind.TERM)
        else:
            raise self.error(
                f"{token!r} is not a value: write strings in double quotes, numbers as in "
                "JSON, date-times like 2026-11-27T10:00:00Z",
                start,
            )
        self.pos = start + len(token)
        self.skip_ws()
        return value

    def number(self, text: str, pos: int) -> int | float:
        if not any(c in text for c in ".eE"):
            number = int(text)
            # MongoDB integers are 64-bit: beyond that, compare as a double.
            return number if abs(number) <= _INT64 else float(number)
        result = float(text)
        if not math.isfinite(result):
            raise self.error(f"the number {text} is out of range", pos)
        return result

    def closing_quote(self, start: int) -> int:
        i = start + 1
        while i < len(self.text):
            ch = self.text[i]
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                return i
            i += 1
        raise self.error("unterminated string: the closing '\"' is missing", start)

    def quoted(self) -> str:
        """A JSON string (RFC 8259 section 7, as clause 4.9 says for quotedStr)."""
        start = self.pos
        end = self.closing_quote(start)
        try:
            text = json.loads(self.text[start : end + 1])
        except ValueError:
            raise self.error(
                'invalid quoted string (escapes are those of JSON: \\" \\\\ \\/ \\b \\f \\n '
                "\\r \\t \\uXXXX; control characters must be escaped)",
                start,
            ) from None
        try:
            str(text).encode()
        except UnicodeEncodeError:
            raise self.error(
                "the quoted string has an unpaired \\u surrogate escape", start
            ) from None
        self.pos = end + 1
        return str(text)

    def regex(self, op: str) -> str:
        self.skip_ws()
        start = self.pos
        if self.peek() == '"':
            end = self.closing_quote(start)
            pattern = self.text[start + 1 : end].replace('\\"', '"')
            offset = start + 1
            self.pos = end + 1
        else:
            pattern = self.unquoted_regex()
            offset = start
        if not pattern:
            raise self.error(f"expected a regular expression after '{op}'", start)
        try:
            re.compile(pattern)
        except re.error as exc:
            raise self.error(
                f"invalid regular expression ({exc.msg})", offset + (exc.pos or 0)
            ) from None
        return pattern

    def unquoted_regex(self) -> str:
        text = self.text
        start = i = self.pos
        depth = 0
        in_class = False
        while i < len(text):
            ch = text[i]
            if ch == "\\":
                i += 2
                continue
            if in_class:
                in_class = ch != "]"
            elif ch == "[":
                in_class = True
            elif ch == "(":
                depth += 1
            elif ch == ")":
                if depth == 0:
                    break
                depth -= 1
            elif ch in ";|" and depth == 0:
                break
            i += 1
        self.pos = min(i, len(text))
        return text[start : self.pos]

    def expanded(self, path: AttrPath, operand: Operand) -> Operand:
        """Apply expandValues (clause 4.9 EXAMPLE 12) to the values of one Query Term."""
        if path.meta is not None or path.links or not path.attrs:
            return operand
        if path.attrs[0] not in self.expand_values:
            return operand

        def one(value: Value) -> Value:
            if value.kind in _EXPANDABLE and isinstance(value.value, str):
                return Value(self.ctx.expand(value.value), ValueKind.URI)
            return value

        if isinstance(operand, ValueList):
            return ValueList(tuple(one(v) for v in operand.items))
        if isinstance(operand, Range):
            return operand
        return one(operand)

    # -- type selection (clause 4.17) ----------------------------------------------------

    def type_expression(self) -> TypeExpr:
        self.skip_ws()
        if self.pos == len(self.text):
            raise BadRequestData("type: the type selection is empty")
        alternatives = self.type_or(0)
        self.skip_ws()
        if self.pos < len(self.text):
            if self.peek() == ")":
                raise self.error("')' without a matching '('")
            raise self.error(f"expected ',', '|', ';' or the end, {self.found()}")
        return TypeExpr(tuple(tuple(alt) for alt in alternatives))

    def type_or(self, depth: int) -> list[list[str]]:
        alternatives = self.type_and(depth)
        while self.peek() in ("|", ","):
            self.pos += 1
            alternatives = _union(alternatives, self.type_and(depth))
        return alternatives

    def type_and(self, depth: int) -> list[list[str]]:
        alternatives = self.type_factor(depth)
        while self.peek() == ";":
            self.pos += 1
            pos = self.pos
            right = self.type_factor(depth)
            product = [_merge(a, b) for a in alternatives for b in right]
            if len(product) > _MAX_TYPE_ALTERNATIVES:
                raise self.error("the type selection is too complex", pos)
            alternatives = _union([], product)
        return alternatives

    def type_factor(self, depth: int) -> list[list[str]]:
        self.skip_ws()
        if self.peek() == "(":
            if depth >= _MAX_NESTING:
                raise self.error("parentheses are nested too deeply")
            start = self.pos
            self.pos += 1
            alternatives = self.type_or(depth + 1)
            self.skip_ws()
            if self.peek() != ")":
                raise self.error(
                    f"expected ')' (to close the '(' at position {start + 1}), {self.found()}"
                )
            self.pos += 1
            self.skip_ws()
            return alternatives
        match = _TYPE_TOKEN.match(self.text, self.pos)
        if match is None:
            raise self.error(f"expected an entity type, {self.found()}")
        name = match.group()
        if not (_TERM.match(name) or is_uri(name)):
            raise self.error(
                f"{name!r} is not an entity type: use a name (a letter, then letters, digits, "
                "'_' or '-') or a URI",
                match.start(),
            )
        self.pos = match.end()
        iri = self.expand_name(name, match.start(), "entity type")
        self.skip_ws()
        return [[iri]]


def _flatten(kind: type[And] | type[Or], terms: list[QueryNode]) -> tuple[QueryNode, ...]:
    out: list[QueryNode] = []
    for term in terms:
        if isinstance(term, kind):
            out.extend(term.terms)
        else:
            out.append(term)
    return tuple(out)


def _merge(a: list[str], b: list[str]) -> list[str]:
    return list(dict.fromkeys([*a, *b]))


def _union(a: list[list[str]], b: list[list[str]]) -> list[list[str]]:
    out = list(a)
    for alt in b:
        if not any(set(alt) == set(seen) for seen in out):
            out.append(alt)
    return out
