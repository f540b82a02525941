"""JSON-LD @context handling for NGSI-LD: term expansion and compaction (clauses 4.4, 5.5.7).

NGSI-LD uses the @context only to turn short terms (attribute names, entity type names,
VocabProperty values) into IRIs and back. Like Orion-LD, Scorpio and Stellio we do not run a
JSON-LD processor per request: a @context is processed once into a term table (a Context) and
`expand`/`compact` are memoised dictionary lookups after that.

Processing follows JSON-LD 1.1 (W3C JSON-LD 1.1 Processing Algorithms: 4.1 Context Processing,
4.2 Create Term Definition, 5.2 IRI Expansion, 6.2 IRI Compaction) for the parts that matter to
term expansion, with the NGSI-LD rules on top:

* The core @context is always in force and has absolute precedence, wherever (and whether) it
  appears in the user's @context (clauses 4.4 and 5.5.7): a user definition of a core term
  (id, type, location, Property, ngsi-ld, ...) is ignored, never an error, and core terms can be
  used as prefixes by user definitions.
* The core's "@vocab" is a fallback (clause 4.4): a user "@vocab" wins over it for terms that
  nothing else defines.
* "@type", "@container", "@language", "@protected" and the like are accepted and ignored: they
  change how values are interpreted, not which IRI a term names. Scoped contexts are refused
  (clause 5.5.7): they would give one name several meanings.

A term defined as null (or with "@reverse") is treated as undefined and falls back to the
vocabulary mapping: a broker must give every attribute name an IRI rather than drop it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import resources
from typing import Any, Final, NamedTuple
from urllib.parse import urljoin

import orjson

__all__ = [
    "CORE",
    "CORE_CONTEXT_URL",
    "CORE_CONTEXT_URLS",
    "DEFAULT_VOCAB",
    "Context",
    "ContextError",
    "build_context",
    "core_context_document",
    "is_absolute_iri",
    "missing_urls",
    "remote_urls",
]

#: The core context shipped in core_context.jsonld (annex B, clause 4.4).
CORE_CONTEXT_URL: Final = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld"
#: The core context's "@vocab": where terms that nothing defines expand to.
DEFAULT_VOCAB: Final = "https://uri.etsi.org/ngsi-ld/default-context/"


def _core_urls() -> frozenset[str]:
    """Every published name of the core context, unversioned and v1.0 to v1.9, http(s).

    They all resolve to the built-in core context, never to a fetch: older core versions only
    lack some recent terms, and clients keep sending them for years.
    """
    names = ["ngsi-ld-core-context.jsonld"]
    names += [f"ngsi-ld-core-context-v1.{minor}.jsonld" for minor in range(10)]
    return frozenset(
        f"{scheme}://uri.etsi.org/ngsi-ld/v1/{name}"
        for scheme in ("https", "http")
        for name in names
    )


CORE_CONTEXT_URLS: Final = _core_urls()

_KEYWORDS: Final = frozenset(
    {
        "@base",
        "@container",
        "@context",
        "@direction",
        "@graph",
        "@id",
        "@import",
        "@included",
        "@index",
        "@json",
        "@language",
        "@list",
        "@nest",
        "@none",
        "@prefix",
        "@propagate",
        "@protected",
        "@reverse",
        "@set",
        "@type",
        "@value",
        "@version",
        "@vocab",
    }
)
#: Context members that are settings, not terms (JSON-LD 1.1 context processing, step 5).
_CONTEXT_SETTINGS: Final = frozenset(
    {
        "@base",
        "@direction",
        "@import",
        "@language",
        "@propagate",
        "@protected",
        "@version",
        "@vocab",
    }
)
#: What an expanded term definition may contain (JSON-LD 1.1 create term definition, step 11).
_TERM_DEFINITION_MEMBERS: Final = frozenset(
    {
        "@id",
        "@reverse",
        "@container",
        "@context",
        "@direction",
        "@index",
        "@language",
        "@nest",
        "@prefix",
        "@protected",
        "@type",
    }
)
#: JSON-LD ignores (with a warning) terms and IRIs that look like future keywords.
_KEYWORD_FORM: Final = re.compile(r"@[A-Za-z]+\Z")
_SCHEME: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_SPACE_OR_CONTROL: Final = re.compile(r"[\s\x00-\x1f\x7f]")
_GEN_DELIMS: Final = frozenset(":/?#[]@")
#: Remote contexts may include others; this bounds the chain (cycles are caught separately).
_MAX_NESTING: Final = 16
#: Memo size per Context and direction: a bound, because names come from clients.
_CACHE_LIMIT: Final = 2048


class ContextError(ValueError):
    """The @context is not valid; the message says what to fix (the API maps it to 400)."""


def is_absolute_iri(value: str) -> bool:
    """Whether value is an absolute IRI by syntax: an RFC 3986 scheme, ":" and a non-empty rest.

    Whitespace and control characters make it False. This is purely syntactic and knows no
    @context: a compact IRI such as "schema:name" is True here (its prefix looks like a
    scheme), and "_:b0" (a blank node) is False. Expand with a Context first when the
    difference matters.
    """
    match = _SCHEME.match(value)
    return (
        match is not None and len(value) > match.end() and _SPACE_OR_CONTROL.search(value) is None
    )


class _Term(NamedTuple):
    iri: str  # an IRI, a blank node identifier or a keyword (an alias such as "id" -> "@id")
    prefix: bool  # may be the prefix of a compact IRI (the JSON-LD 1.1 prefix flag)


class Context:
    """An active context: the core context plus the user's @context, as a term table.

    Build it with build_context (or use CORE). It is immutable and compared by identity, so
    one instance can be cached and shared by every request that sends the same @context.
    """

    __slots__ = (
        "_compacted",
        "_expanded",
        "_inverse",
        "_prefix_order",
        "_prefixes",
        "_source",
        "_terms",
        "_vocab",
    )

    _source: tuple[object, ...]
    _vocab: str
    _terms: dict[str, str]
    _prefixes: dict[str, str]
    _prefix_order: tuple[tuple[str, str], ...]
    _inverse: dict[str, str]
    _expanded: dict[str, str]
    _compacted: dict[str, str]

    def __init__(
        self,
        source: list[object],
        vocab: str,
        core: Mapping[str, _Term],
        user: Mapping[str, _Term],
    ) -> None:
        """Internal: use build_context. Core terms win over user terms of the same name."""
        effective = {**user, **core}
        terms = {term: d.iri for term, d in effective.items()}
        prefixes = {
            term: d.iri for term, d in effective.items() if d.prefix and d.iri not in _KEYWORDS
        }
        # IRI -> term; the core's term wins (it is protected); otherwise, as in a JSON-LD
        # inverse context, the shortest term, then the lexicographically least.
        inverse = _inverse(user)
        inverse.update(_inverse(core))
        setattr_ = object.__setattr__
        setattr_(self, "_source", tuple(source))
        setattr_(self, "_vocab", vocab)
        setattr_(self, "_terms", terms)
        setattr_(self, "_prefixes", prefixes)
        setattr_(
            self,
            "_prefix_order",
            tuple(sorted(prefixes.items(), key=lambda p: (-len(p[1]), len(p[0]), p[0]))),
        )
        setattr_(self, "_inverse", inverse)
        setattr_(self, "_expanded", dict(terms))
        setattr_(self, "_compacted", dict(inverse))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Context is immutable")

    def __repr__(self) -> str:
        return f"<Context source={list(self._source)!r} vocab={self._vocab!r}>"

    @property
    def source(self) -> list[object]:
        """The user's @context entries as given (URLs, objects, nulls), core URLs left out."""
        return list(self._source)

    @property
    def vocab(self) -> str:
        """Where undefined terms expand to: the user's "@vocab" if set, else DEFAULT_VOCAB."""
        return self._vocab

    def expand(self, term: str) -> str:
        """The IRI a term names (JSON-LD vocabulary-relative IRI expansion, clause 5.5.7).

        In order: a JSON-LD keyword comes back unchanged (the caller rejects it as a name);
        a defined term gives its IRI; "prefix:suffix" with a prefix term gives the prefix's
        IRI + suffix; any other absolute IRI (urn:..., https://...) and blank node comes
        back unchanged; anything else is appended to the vocabulary mapping.
        """
        iri = self._expanded.get(term)
        if iri is None:
            iri = self._expand(term)
            cache = self._expanded
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
                cache.update(self._terms)
            cache[term] = iri
        return iri

    def compact(self, iri: str) -> str:
        """The shortest form of an IRI that expands back to it (JSON-LD IRI compaction).

        In order: the term defined for it (core terms first); the IRI minus the vocabulary
        mapping; a compact IRI with the prefix term whose IRI is the longest match; the IRI
        itself (clause 5.5.7: "implementations shall render Fully Qualified Names").
        """
        term = self._compacted.get(iri)
        if term is None:
            term = self._compact(iri)
            cache = self._compacted
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
                cache.update(self._inverse)
            cache[iri] = term
        return term

    def _expand(self, term: str) -> str:
        if term.startswith("@") and _KEYWORD_FORM.match(term):
            return term
        iri = self._terms.get(term)
        if iri is not None:
            return iri
        colon = term.find(":")
        if colon > 0:
            prefix, suffix = term[:colon], term[colon + 1 :]
            if prefix == "_" or suffix.startswith("//"):
                return term
            base = self._prefixes.get(prefix)
            if base is not None:
                return base + suffix
            if is_absolute_iri(term):
                return term
        return self._vocab + term

    def _compact(self, iri: str) -> str:
        term = self._inverse.get(iri)
        if term is not None:
            return term
        vocab = self._vocab
        if len(iri) > len(vocab) and iri.startswith(vocab):
            suffix = iri[len(vocab) :]
            if self.expand(suffix) == iri:
                return suffix
        for prefix, base in self._prefix_order:
            if len(iri) > len(base) and iri.startswith(base):
                candidate = f"{prefix}:{iri[len(base) :]}"
                if self.expand(candidate) == iri:
                    return candidate
        return iri


def _inverse(terms: Mapping[str, _Term]) -> dict[str, str]:
    out: dict[str, str] = {}
    for term, definition in terms.items():
        if definition.iri in _KEYWORDS:
            continue
        current = out.get(definition.iri)
        if current is None or (len(term), term) < (len(current), current):
            out[definition.iri] = term
    return out


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, int | float):
        return f"a number ({value!r})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


_MISSING: Final = object()


class _Builder:
    """JSON-LD 1.1 context processing into a term table (core first, then user contexts)."""

    def __init__(self, core: Mapping[str, _Term], documents: Mapping[str, object]) -> None:
        self.core = core
        self.documents = documents
        self.terms: dict[str, _Term] = {}
        self.vocab: str | None = None

    def lookup(self, term: str) -> _Term | None:
        found = self.core.get(term)
        return found if found is not None else self.terms.get(term)

    def current_vocab(self) -> str | None:
        if self.vocab is not None or not self.core:
            return self.vocab
        return DEFAULT_VOCAB

    def process(self, value: object, base: str | None, stack: tuple[str, ...]) -> None:
        """Apply a @context value (URL, object, null or an array of those) in order."""
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                # JSON-LD: null resets the active context; the core context stays in force.
                self.terms.clear()
                self.vocab = None
            elif isinstance(item, str):
                url = _resolve_url(item, base)
                if url not in CORE_CONTEXT_URLS:
                    self.process(self.remote(url, stack), url, (*stack, url))
            elif isinstance(item, dict):
                self.local(item, base, stack)
            else:
                raise ContextError(
                    f"Each @context entry must be a URL, an object or null, got {_describe(item)}"
                )

    def remote(self, url: str, stack: tuple[str, ...]) -> object:
        """The "@context" member of an already fetched document."""
        if url in stack:
            chain = " -> ".join((*stack, url))
            raise ContextError(f"The @context {url} includes itself: {chain}")
        if len(stack) >= _MAX_NESTING:
            raise ContextError(f"Remote @contexts are nested more than {_MAX_NESTING} deep")
        document = self.documents.get(url, _MISSING)
        if document is _MISSING:
            raise ContextError(f"The @context {url} has not been retrieved")
        if not isinstance(document, dict) or "@context" not in document:
            raise ContextError(f"The document at {url} is not a JSON-LD context: no '@context'")
        return document["@context"]

    def local(self, context: dict[str, Any], base: str | None, stack: tuple[str, ...]) -> None:
        """Process one context object: settings first, then every term definition."""
        if "@import" in context:
            context = self.imported(context, base, stack)
        version = context.get("@version", 1.1)
        if isinstance(version, bool) or version != 1.1:
            raise ContextError(f'"@version" must be the number 1.1, got {_describe(version)}')
        for setting in ("@base", "@language", "@direction"):
            if not isinstance(context.get(setting), str | None):
                raise ContextError(f'"{setting}" must be a string or null')
        for setting in ("@propagate", "@protected"):
            if not isinstance(context.get(setting, False), bool):
                raise ContextError(f'"{setting}" must be true or false')
        if "@vocab" in context:
            self.set_vocab(context["@vocab"])
        defined: dict[str, bool] = {}
        for term in context:
            if term not in _CONTEXT_SETTINGS:
                self.define(context, term, defined, ())

    def imported(
        self, context: dict[str, Any], base: str | None, stack: tuple[str, ...]
    ) -> dict[str, Any]:
        """The context with the one named by "@import" merged under it (JSON-LD 1.1 5.6)."""
        ref = context["@import"]
        if not isinstance(ref, str):
            raise ContextError(f'"@import" must be a URL, got {_describe(ref)}')
        url = _resolve_url(ref, base)
        merged: dict[str, Any] = {}
        if url not in CORE_CONTEXT_URLS:  # importing the core adds nothing: it always applies
            imported = self.remote(url, stack)
            if not isinstance(imported, dict):
                raise ContextError(f'"@import" {url} must name a context object, not an array')
            if "@import" in imported:
                raise ContextError(f'"@import" {url} names a context that itself has "@import"')
            merged.update(imported)
        merged.update((k, v) for k, v in context.items() if k != "@import")
        return merged

    def set_vocab(self, value: object) -> None:
        if value is None:
            self.vocab = None
            return
        if not isinstance(value, str) or not value:
            raise ContextError(f'"@vocab" must be an absolute IRI or null, got {_describe(value)}')
        iri = self.expand_compact_iri(value, None, {}, ())
        if iri is None or not (is_absolute_iri(iri) or iri.startswith("_:")):
            raise ContextError(
                f'"@vocab" must be an absolute IRI (like https://example.org/), got {value!r}'
            )
        self.vocab = iri

    def define(
        self,
        context: dict[str, Any],
        term: str,
        defined: dict[str, bool],
        path: tuple[str, ...],
    ) -> None:
        """Create the definition of term from context (JSON-LD 1.1 create term definition)."""
        state = defined.get(term)
        if state is True:
            return
        if state is False:
            raise ContextError(
                f"Term definitions refer to each other in a cycle: {' -> '.join((*path, term))}"
            )
        value = context[term]
        if not isinstance(value, str | dict | None):
            raise ContextError(
                f'Term {term!r}: a definition must be an IRI string, an object with "@id" '
                f"or null, got {_describe(value)}"
            )
        if term in self.core:  # the core context is protected and takes precedence
            defined[term] = True
            return
        if not term:
            raise ContextError("A @context cannot define the empty string as a term")
        if term in _KEYWORDS:
            if term == "@type" and _is_type_container(value):
                defined[term] = True
                return
            hint = (
                ": give the context object itself, not a document that contains one"
                if term == "@context"
                else ""
            )
            raise ContextError(f"{term!r} is a JSON-LD keyword and cannot be redefined{hint}")
        defined[term] = False
        definition = self.definition(context, term, value, defined, (*path, term))
        defined[term] = True
        if definition is None:
            self.terms.pop(term, None)
        else:
            self.terms[term] = definition

    def definition(
        self,
        context: dict[str, Any],
        term: str,
        value: str | dict[str, Any] | None,
        defined: dict[str, bool],
        path: tuple[str, ...],
    ) -> _Term | None:
        if _KEYWORD_FORM.match(term) or value is None:
            return None  # JSON-LD ignores keyword-like terms; null leaves the term undefined
        simple = isinstance(value, str)
        members: dict[str, Any] = {"@id": value} if isinstance(value, str) else value
        unknown = sorted(set(members) - _TERM_DEFINITION_MEMBERS)
        if unknown:
            raise ContextError(
                f"Term {term!r}: {', '.join(map(repr, unknown))} cannot appear in a term "
                'definition (use "@id" for the IRI; "@type", "@container", "@language", '
                '"@context", "@prefix", "@protected" are also allowed)'
            )
        if "@context" in members and self.core:
            # Clause 5.5.7: a scoped context would give a name two meanings; refuse it.
            raise ContextError(
                f"Term {term!r} has a scoped @context, which NGSI-LD does not support"
            )
        for member, kinds, wanted in (
            ("@type", str, "a string"),
            ("@prefix", bool, "true or false"),
            ("@protected", bool, "true or false"),
            ("@reverse", str, "an IRI string"),
        ):
            if member in members and not isinstance(members[member], kinds):
                raise ContextError(
                    f'Term {term!r}: "{member}" must be {wanted}, got {_describe(members[member])}'
                )
        if "@reverse" in members:
            if "@id" in members:
                raise ContextError(f'Term {term!r}: "@reverse" and "@id" cannot be combined')
            return None  # reverse properties have no NGSI-LD meaning
        raw = members.get("@id", term)
        if raw is None:
            return None
        if not isinstance(raw, str):
            raise ContextError(f'Term {term!r}: "@id" must be an IRI string, got {_describe(raw)}')
        has_colon = term.find(":") > 0
        if raw != term:
            if _KEYWORD_FORM.match(raw) and raw not in _KEYWORDS:
                return None
            iri = self.expand(raw, context, defined, path)
            if iri == "@context":
                raise ContextError(f"Term {term!r}: '@context' cannot be aliased")
            if has_colon:
                # A term that looks like a compact IRI or an IRI must mean just that.
                expected = self.expand_compact_iri(term, context, defined, path)
                if expected is not None and expected != iri:
                    raise ContextError(
                        f"Term {term!r} looks like the IRI {expected} but is defined as {iri}"
                    )
        elif has_colon:
            # JSON-LD 1.1 step 20: here any term may serve as the prefix, flagged or not.
            iri = self.expand_compact_iri(term, context, defined, path, any_prefix=True) or term
        else:
            vocab = self.current_vocab()
            if vocab is None:
                raise ContextError(f'Term {term!r} has no "@id" and there is no "@vocab"')
            iri = vocab + term
        if not (iri in _KEYWORDS or is_absolute_iri(iri) or iri.startswith("_:")):
            raise ContextError(
                f"Term {term!r} must map to an absolute IRI (like https://example.org/{term}), "
                f"got {iri!r}"
            )
        if "@prefix" in members:
            if ":" in term or "/" in term:
                raise ContextError(f'Term {term!r}: "@prefix" is not allowed on a term with : or /')
            prefix: bool = members["@prefix"]
            if prefix and iri in _KEYWORDS:
                raise ContextError(f'Term {term!r}: a keyword alias cannot be a "@prefix"')
        else:
            prefix = (
                simple
                and ":" not in term
                and "/" not in term
                and (iri[-1] in _GEN_DELIMS or iri.startswith("_:"))
            )
        return _Term(iri, prefix)

    def expand(
        self,
        value: str,
        context: dict[str, Any] | None,
        defined: dict[str, bool],
        path: tuple[str, ...],
    ) -> str:
        """IRI expansion while processing (vocab-relative), defining dependencies first."""
        if value in _KEYWORDS:
            return value
        if context is not None and value in context and defined.get(value) is not True:
            self.define(context, value, defined, path)
        found = self.lookup(value)
        if found is not None:
            return found.iri
        iri = self.expand_compact_iri(value, context, defined, path)
        if iri is not None:
            return iri
        vocab = self.current_vocab()
        return value if vocab is None else vocab + value

    def expand_compact_iri(
        self,
        value: str,
        context: dict[str, Any] | None,
        defined: dict[str, bool],
        path: tuple[str, ...],
        *,
        any_prefix: bool = False,
    ) -> str | None:
        """The IRI for "prefix:suffix" (or an IRI as is); None if value is neither.

        JSON-LD 1.1 only expands with prefix terms (simple definitions ending in a gen-delim
        character such as / or #, or "@prefix": true); other "x:y" stay absolute IRIs.
        """
        colon = value.find(":")
        if colon <= 0:
            return None
        prefix, suffix = value[:colon], value[colon + 1 :]
        if prefix == "_" or suffix.startswith("//"):
            return value
        if context is not None and prefix in context and defined.get(prefix) is not True:
            self.define(context, prefix, defined, path)
        found = self.lookup(prefix)
        if found is not None and (found.prefix or any_prefix) and found.iri not in _KEYWORDS:
            return found.iri + suffix
        return value if is_absolute_iri(value) else None


def _is_type_container(value: object) -> bool:
    """JSON-LD 1.1 lets "@type" be given {"@container": "@set"} (and "@protected")."""
    return (
        isinstance(value, dict)
        and bool(value)
        and set(value) <= {"@container", "@protected"}
        and value.get("@container", "@set") == "@set"
    )


def _resolve_url(ref: str, base: str | None) -> str:
    """A context URL, resolved against the URL of the document that references it."""
    url = ref if base is None else urljoin(base, ref)
    if not is_absolute_iri(url):
        where = "" if base is None else f" (in {base})"
        raise ContextError(f"The @context URL {ref!r}{where} is not an absolute URL")
    return url


def _references(value: object, base: str | None) -> list[str]:
    """The URLs a @context value names directly (entries and "@import"), core ones left out."""
    if value is None:
        return []
    out: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict):
            item = item.get("@import")
            if item is None:
                continue
            if not isinstance(item, str):
                raise ContextError(f'"@import" must be a URL, got {_describe(item)}')
        elif item is None:
            continue
        elif not isinstance(item, str):
            raise ContextError(
                f"Each @context entry must be a URL, an object or null, got {_describe(item)}"
            )
        url = _resolve_url(item, base)
        if url not in CORE_CONTEXT_URLS and url not in out:
            out.append(url)
    return out


def remote_urls(value: object) -> list[str]:
    """The URLs a @context value references, in order, without duplicates or core URLs.

    Only the value itself is looked at (entries and "@import"), not fetched documents: see
    missing_urls for the transitive closure. Raises ContextError for a malformed value.
    """
    return _references(value, None)


def missing_urls(value: object, documents: Mapping[str, object]) -> list[str]:
    """The URLs still to fetch before build_context(value, documents) can work.

    Follows the documents already fetched, so callers loop: fetch what this returns, add it to
    documents, call again, until it returns []. Core URLs are never listed.
    """
    missing: list[str] = []
    seen: set[str] = set()

    def walk(context: object, base: str | None) -> None:
        for url in _references(context, base):
            if url in seen:
                continue
            seen.add(url)
            document = documents.get(url, _MISSING)
            if document is _MISSING:
                missing.append(url)
            elif isinstance(document, dict) and "@context" in document:
                walk(document["@context"], url)

    walk(value, None)
    return missing


def build_context(value: object, documents: Mapping[str, object]) -> Context:
    """The active context for a request's @context (a Link URL or a body's "@context").

    documents maps every remote URL the value needs (see missing_urls) to its fetched JSON
    document. null, [] or only core URLs give CORE. Raises ContextError when the content is
    not a valid JSON-LD context.
    """
    if value is None:
        return CORE
    if not isinstance(value, str | dict | list):
        raise ContextError(
            f"@context must be a URL, an object, an array of those, or null, got {_describe(value)}"
        )
    entries: list[object] = value if isinstance(value, list) else [value]
    source = [e for e in entries if not (isinstance(e, str) and e in CORE_CONTEXT_URLS)]
    if not source:
        return CORE
    builder = _Builder(_CORE_TERMS, documents)
    builder.process(entries, None, ())
    return Context(source, builder.vocab or DEFAULT_VOCAB, _CORE_TERMS, builder.terms)


def _load_core() -> tuple[bytes, dict[str, _Term]]:
    raw = resources.files(__name__.rpartition(".")[0]).joinpath("core_context.jsonld").read_bytes()
    builder = _Builder({}, {})
    builder.process(orjson.loads(raw)["@context"], None, ())
    if builder.vocab != DEFAULT_VOCAB:
        raise RuntimeError(f"core_context.jsonld has @vocab {builder.vocab!r}")
    return raw, builder.terms


_CORE_RAW, _CORE_TERMS = _load_core()

#: The core context alone: what applies when a request brings no @context (clause 5.5.5).
CORE: Final = Context([], DEFAULT_VOCAB, _CORE_TERMS, {})


def core_context_document() -> dict[str, Any]:
    """A fresh copy of the shipped core context document, e.g. to serve it."""
    document: dict[str, Any] = orjson.loads(_CORE_RAW)
    return document
