"""The NGSI-LD Query Language parser (clause 4.9) and type selections (clause 4.17)."""

from __future__ import annotations

import pytest

from broker.ngsild.context import CORE, Context, build_context
from broker.ngsild.errors import BadRequestData
from broker.ngsild.q import (
    And,
    AttrPath,
    Comparison,
    Exists,
    Link,
    Match,
    Op,
    Or,
    QueryNode,
    Range,
    TypeExpr,
    Value,
    ValueKind,
    ValueList,
    attribute_names,
    linked_depth,
    parse_q,
    parse_type_expression,
)

D = "https://uri.etsi.org/ngsi-ld/default-context/"
EX = "https://example.org/"
USER: Context = build_context(
    {"ex": EX, "speed": EX + "speed", "Car": EX + "Car", "accuracy": EX + "accuracy"}, {}
)


def q(text: str, ctx: Context = CORE) -> QueryNode:
    return parse_q(text, ctx)


def path(*names: str, meta: str | None = None, members: tuple[str, ...] = ()) -> AttrPath:
    return AttrPath(tuple(D + n for n in names), meta, members)


def num(n: int | float) -> Value:
    return Value(n, ValueKind.NUMBER)


def string(s: str) -> Value:
    return Value(s, ValueKind.STRING)


def exists(name: str) -> Exists:
    return Exists(path(name))


def bad(text: str) -> str:
    with pytest.raises(BadRequestData) as info:
        parse_q(text, CORE)
    return info.value.detail


# -- operators ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "op"),
    [
        ("speed==5", Op.EQ),
        ("speed!=5", Op.NE),
        ("speed>5", Op.GT),
        ("speed>=5", Op.GE),
        ("speed<5", Op.LT),
        ("speed<=5", Op.LE),
    ],
)
def test_comparison_operators(text: str, op: Op) -> None:
    """Clause 4.9: Operator = equal / unequal / greaterEq / greater / lessEq / less."""
    assert q(text) == Comparison(path("speed"), op, num(5))


def test_existence_and_non_existence() -> None:
    """EXAMPLE 0 and 5: a bare path asks that the attribute exists; '!' that it does not."""
    assert q("temperature") == exists("temperature")
    assert q("!isMonitoredBy") == Exists(path("isMonitoredBy"), negated=True)
    assert q("!a.b") == Exists(path("a", "b"), negated=True)


def test_pattern_operators() -> None:
    """patternOp ~= and notPatternOp !~= (019_28_05 sends the pattern quoted)."""
    assert q("name~=^Eiff.l") == Match(path("name"), "^Eiff.l")
    assert q('name!~="^Eiffel"') == Match(path("name"), "^Eiffel", negated=True)
    # Unquoted: '|' and ';' inside parentheses or a class belong to the pattern.
    assert q("name~=(Eif|Pis)[;|]*;x") == And((Match(path("name"), "(Eif|Pis)[;|]*"), exists("x")))
    assert q("name~=a\\|b") == Match(path("name"), "a\\|b")
    assert q("name~=abc|x") == Or((Match(path("name"), "abc"), exists("x")))
    # Quoted: anything goes, \" is a quote, other backslashes are the pattern's.
    assert q('name~="a;b|c\\"\\d"') == Match(path("name"), 'a;b|c"\\d')
    assert q("(name~=a(b)c)") == Match(path("name"), "a(b)c")


# -- logic --------------------------------------------------------------------------------


def test_and_binds_tighter_than_or() -> None:
    """Clause 4.9: "the logical AND operator shall take precedence over the logical OR"."""
    a, b, c = exists("a"), exists("b"), exists("c")
    assert q("a;b|c") == Or((And((a, b)), c))
    assert q("a|b;c") == Or((a, And((b, c))))
    assert q("a;b;c") == And((a, b, c))
    assert q("a|b|c") == Or((a, b, c))


def test_parentheses_group_and_nest() -> None:
    """QueryTermAssoc, and EXAMPLE 6, which nests groups."""
    a, b, c = exists("a"), exists("b"), exists("c")
    assert q("(a|b);c") == And((Or((a, b)), c))
    assert q("a;(b;c)") == And((a, b, c))
    assert q("((a))") == a
    example_6 = q('((speed>50|rpm>3000);brandName=="Mercedes")')
    assert example_6 == And(
        (
            Or(
                (
                    Comparison(path("speed"), Op.GT, num(50)),
                    Comparison(path("rpm"), Op.GT, num(3000)),
                )
            ),
            Comparison(path("brandName"), Op.EQ, string("Mercedes")),
        )
    )
    example_7 = q("(temperature>=20;temperature<=25)|capacity<=10")
    assert isinstance(example_7, Or) and isinstance(example_7.terms[0], And)


def test_whitespace_between_tokens_is_ignored() -> None:
    assert q(' speed > 5 ; name == "a b" ') == And(
        (Comparison(path("speed"), Op.GT, num(5)), Comparison(path("name"), Op.EQ, string("a b")))
    )


# -- values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("5", num(5)),
        ("-5", num(-5)),
        ("0", num(0)),
        ("2.5", num(2.5)),
        ("-0.5e-3", num(-0.0005)),
        ("1E3", num(1000.0)),
        ("99999999999999999999", num(1e20)),  # beyond int64: compared as a double
        ('"5"', string("5")),
        ('""', string("")),
        ("true", Value(True, ValueKind.BOOLEAN)),
        ("false", Value(False, ValueKind.BOOLEAN)),
        ("2026-11-27T10:00:00Z", Value("2026-11-27T10:00:00Z", ValueKind.DATETIME)),
        ("2026-11-27T10:00:00.250Z", Value("2026-11-27T10:00:00.250Z", ValueKind.DATETIME)),
        ("2026-11-27", Value("2026-11-27", ValueKind.DATE)),
        ("10:00:00Z", Value("10:00:00Z", ValueKind.TIME)),
        ("urn:ngsi-ld:Park:1", Value("urn:ngsi-ld:Park:1", ValueKind.URI)),
        ("https://ex.org/a?b=c#d", Value("https://ex.org/a?b=c#d", ValueKind.URI)),
        ("commercial", Value("commercial", ValueKind.TERM)),
        ("trueish", Value("trueish", ValueKind.TERM)),
    ],
)
def test_values(literal: str, value: Value) -> None:
    """ComparableValue / OtherValue / URI; an unquoted word is a string (019_29_13)."""
    assert q(f"a=={literal}") == Comparison(path("a"), Op.EQ, value)


def test_quoted_strings_use_json_escapes() -> None:
    """quotedStr is a JSON String (RFC 8259 section 7)."""
    parsed = q(r'a=="say \"hi\" \\ \/ \t \u00e9 \ud83d\ude00"')
    assert parsed == Comparison(path("a"), Op.EQ, string('say "hi" \\ / \t é 😀'))
    # Operators and separators inside quotes are text.
    assert q('a=="x;y|z)(==,.."') == Comparison(path("a"), Op.EQ, string("x;y|z)(==,.."))


def test_ranges() -> None:
    """Range = ComparableValue dots ComparableValue, with == and != (019_28_01/02)."""
    assert q("a==4..5") == Comparison(path("a"), Op.EQ, Range(num(4), num(5)))
    assert q("a!=-1.5..2e1") == Comparison(path("a"), Op.NE, Range(num(-1.5), num(20.0)))
    assert q('a=="a".."m"') == Comparison(path("a"), Op.EQ, Range(string("a"), string("m")))
    t0, t1 = "2026-01-01T00:00:00Z", "2026-12-31T23:59:59.999Z"
    assert q(f"a.observedAt=={t0}..{t1}") == Comparison(
        path("a", meta="observedAt"),
        Op.EQ,
        Range(Value(t0, ValueKind.DATETIME), Value(t1, ValueKind.DATETIME)),
    )


def test_value_lists() -> None:
    """ValueList = Value 1*(, Value), with == and != (019_28_03/04)."""
    assert q('name=="Eiffel Tower","Pisa Tower"') == Comparison(
        path("name"), Op.EQ, ValueList((string("Eiffel Tower"), string("Pisa Tower")))
    )
    assert q("a!=1,true,urn:x:1") == Comparison(
        path("a"),
        Op.NE,
        ValueList((num(1), Value(True, ValueKind.BOOLEAN), Value("urn:x:1", ValueKind.URI))),
    )


def test_relationship_targets_are_unquoted_uris() -> None:
    """019_09_08: locatedIn==urn:ngsi-ld:City:Pisa; EXAMPLE 3 quotes the URI instead."""
    assert q("locatedIn==urn:ngsi-ld:City:Pisa|locatedIn==urn:ngsi-ld:City:Paris") == Or(
        (
            Comparison(path("locatedIn"), Op.EQ, Value("urn:ngsi-ld:City:Pisa", ValueKind.URI)),
            Comparison(path("locatedIn"), Op.EQ, Value("urn:ngsi-ld:City:Paris", ValueKind.URI)),
        )
    )
    assert q('isParked=="urn:ngsi-ld:OffStreetParking:Downtown1"') == Comparison(
        path("isParked"), Op.EQ, string("urn:ngsi-ld:OffStreetParking:Downtown1")
    )


# -- paths --------------------------------------------------------------------------------


def test_dotted_paths_are_sub_attributes() -> None:
    """The first name is the attribute, the next ones sub-attributes, all expanded."""
    assert q("a.b.c==1") == Comparison(path("a", "b", "c"), Op.EQ, num(1))


def test_trailing_paths_are_compound_members() -> None:
    """EXAMPLE 9/10: [..] enters the compound value; its names are not expanded."""
    assert q('address[city]=="Berlin"') == Comparison(
        path("address", members=("city",)), Op.EQ, string("Berlin")
    )
    both = path("sensor", "rawdata", members=("airquality", "particulate"))
    assert q("sensor.rawdata[airquality.particulate]==40") == Comparison(both, Op.EQ, num(40))
    assert q("sensor.rawdata[airquality][particulate]==40") == Comparison(both, Op.EQ, num(40))
    assert q('color[en]=="red"') == Comparison(path("color", members=("en",)), Op.EQ, string("red"))
    assert q("color[*]") == Exists(path("color", members=("*",)))
    assert q("blob[$x][a%b]") == Exists(path("blob", members=("$x", "a%b")))


@pytest.mark.parametrize("meta", ["observedAt", "unitCode", "createdAt", "modifiedAt"])
def test_meta_paths(meta: str) -> None:
    """EXAMPLE 8: temperature.observedAt>=2017-12-24T12:00:00Z; on sub-attributes too."""
    t = Value("2017-12-24T12:00:00Z", ValueKind.DATETIME)
    assert q(f"temperature.{meta}>=2017-12-24T12:00:00Z") == Comparison(
        path("temperature", meta=meta), Op.GE, t
    )
    assert q(f"a.b.{meta}") == Exists(path("a", "b", meta=meta))


def test_dataset_id_paths() -> None:
    assert q("a.datasetId==urn:ds:1,urn:ds:2") == Comparison(
        path("a", meta="datasetId"),
        Op.EQ,
        ValueList((Value("urn:ds:1", ValueKind.URI), Value("urn:ds:2", ValueKind.URI))),
    )
    assert q("!a.datasetId") == Exists(path("a", meta="datasetId"), negated=True)


def test_entity_system_timestamps() -> None:
    """createdAt/modifiedAt alone are the Entity's (the system attributes of 5.7.2.4)."""
    parsed = q('modifiedAt>"2020-01-01T00:00:00Z"')
    assert parsed == Comparison(AttrPath((), "modifiedAt"), Op.GT, string("2020-01-01T00:00:00Z"))
    assert attribute_names(parsed) == frozenset()
    assert attribute_names(q("createdAt>2020-01-01T00:00:00Z;speed")) == {D + "speed"}


def test_names_expand_with_the_user_context() -> None:
    """Clause 4.9: every name is expanded as clause 5.5.7 says; members are not."""
    assert parse_q("speed.accuracy[speed]>1", USER) == Comparison(
        AttrPath((EX + "speed", EX + "accuracy"), None, ("speed",)), Op.GT, num(1)
    )
    assert parse_q("ex:brand", USER) == Exists(AttrPath((EX + "brand",)))
    assert parse_q("other", USER) == exists("other")


def test_expand_values() -> None:
    """EXAMPLE 12: with expandValues, values of those attributes are expanded too."""
    ctx = build_context({"Male": "http://example.org/Male"}, {})
    expanded = Value("http://example.org/Male", ValueKind.URI)
    assert parse_q("gender==Male", ctx, ["gender"]) == Comparison(path("gender"), Op.EQ, expanded)
    assert parse_q('gender=="Male",Female', ctx, ["gender"]) == Comparison(
        path("gender"), Op.EQ, ValueList((expanded, Value(D + "Female", ValueKind.URI)))
    )
    assert parse_q("gender==Male;other==Male", ctx, ["gender"]) == And(
        (
            Comparison(path("gender"), Op.EQ, expanded),
            Comparison(path("other"), Op.EQ, Value("Male", ValueKind.TERM)),
        )
    )
    assert parse_q("gender==Male", ctx) == Comparison(
        path("gender"), Op.EQ, Value("Male", ValueKind.TERM)
    )


def test_linked_entity_paths() -> None:
    """EXAMPLE 13/14: rel{path} and rel{Type:path}; the depth is for 5.7.2.4's check."""
    parsed = q("sensor{Device:humidity}==40")
    assert parsed == Comparison(
        AttrPath((D + "humidity",), links=(Link(D + "sensor", (D + "Device",)),)), Op.EQ, num(40)
    )
    deep = q('owner{Building,House:works{name}}=="x";speed')
    assert linked_depth(deep) == 2
    assert attribute_names(deep) == {D + "owner", D + "speed"}
    first = deep.terms[0] if isinstance(deep, And) else deep
    assert isinstance(first, Comparison)
    assert first.path.links == (
        Link(D + "owner", (D + "Building", D + "House")),
        Link(D + "works"),
    )
    assert linked_depth(q("speed>1")) == 0


def test_attribute_path_text_is_kept_for_messages() -> None:
    parsed = q("a.b[c]==1")
    assert isinstance(parsed, Comparison) and parsed.path.text == "a.b[c]"


# -- malformed input: 400 with what and where ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("speed==;rpm>1", "expected a value after '=='", 8),
        ("speed==", "expected a value after '=='", 8),
        ("speed>", "expected a value after '>'", 7),
        ("a>4..5", "a range (a..b) can only follow '==' or '!='", 4),  # 019_28_06
        ("a<1,2", "a list of values (a,b,c) can only follow '==' or '!='", 4),
        ("a>true", "'>' compares with a number, a quoted string or a date/time", 3),
        ("a<urn:x:1", "'<' compares with a number", 3),
        ("a==1..", "expected the upper end of the range", 7),
        ("a==1..true", "a range needs numbers, quoted strings or date/times", 7),
        ('a==1.."x"', "both ends of a range must be numbers, or neither", 7),
        ("a==1,", "expected a value after ','", 6),
        ('a=="abc', "unterminated string", 4),
        ('a=="\\x"', "invalid quoted string", 4),
        ('a=="\\ud800"', "unpaired \\u surrogate", 4),
        ("a==1e400", "out of range", 4),
        ("a==5%", "'5%' is not a value", 4),
        ("a=5", "expected an operator", 2),
        ("a=>5", "expected an operator", 2),
        ("a b", "expected an operator", 3),
        ("(a;b", "expected ')' (to close the '(' at position 1)", 5),
        ("a;b)", "')' without a matching '('", 4),
        ("a;", "expected a Query Term", 3),
        ("|a", "expected a Query Term", 1),
        ("a;;b", "expected a Query Term", 3),
        ("()", "expected a Query Term", 2),
        ("5a==1", "expected an attribute name", 1),
        ("a.==1", "expected an attribute name", 3),
        ("a[]==1", "expected a member name", 3),
        ("a[b==1", "expected '.' or ']'", 4),
        ("a[*.b]", "'*' (any member) must be the last member", 5),
        ("a{b==1", "expected '}'", 4),
        ("!a==1", "only says the attribute does not exist", 3),
        ("!(a)", "expected an attribute name", 2),
        ("a~=", "expected a regular expression after '~='", 4),
        ("a~=(x", "invalid regular expression", 4),
        ('a~="x[y"', "invalid regular expression", 6),
        ("observedAt>2020-01-01T00:00:00Z", "write <attribute>.observedAt", 1),
        ("type==Car", "'type' cannot be queried with q", 1),
        ("id==urn:a:1", "'id' cannot be queried with q", 1),
        ("a.value>1", "'value' is not a sub-attribute", 3),
        ("a.observedAt.b", "nothing can follow 'observedAt'", 14),
        ("a.unitCode[x]", "'unitCode' has no members", 14),
        ("createdAt.a>1", "it has no sub-attributes or members", 11),
        ("a.b.datasetId", "only a top-level attribute has a datasetId", 5),
        ("a.datasetId>urn:x", "a datasetId can only be compared with == or !=", 12),
        ("a.datasetId==1", "a datasetId is compared with URIs", 14),
        ("a.datasetId~=x", "a datasetId can only be compared with == or !=", 12),
    ],
)
def test_malformed_queries_are_bad_request_data(text: str, message: str, position: int) -> None:
    """Clause 5.7.2.4: a query that is not syntactically valid is BadRequestData."""
    detail = bad(text)
    assert detail.startswith("q: ")
    assert message in detail
    assert f"at position {position}: {text}" in detail


def test_empty_query() -> None:
    assert bad("") == "q: the query is empty"
    assert bad("   ") == "q: the query is empty"


def test_long_queries_show_an_excerpt_around_the_error() -> None:
    text = "a==1;" * 40 + "b=="
    detail = bad(text)
    assert f"at position {len(text) + 1}: …" in detail
    assert detail.endswith("b==")


def test_parentheses_nesting_is_bounded() -> None:
    assert "nested too deeply" in bad("(" * 40 + "a" + ")" * 40)


def test_unknown_expand_values_name() -> None:
    with pytest.raises(BadRequestData, match="expandValues"):
        parse_q("a==1", CORE, ["@id"])


# -- type selection (clause 4.17) ---------------------------------------------------------


def t(*alternatives: tuple[str, ...]) -> TypeExpr:
    return TypeExpr(tuple(tuple(D + n for n in alt) for alt in alternatives))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Building", t(("Building",))),
        ("Building,House", t(("Building",), ("House",))),  # EXAMPLE 1, alternative form
        ("Building|House", t(("Building",), ("House",))),  # EXAMPLE 1
        ("(Home;Vehicle)", t(("Home", "Vehicle"))),  # EXAMPLE 2
        ("(Home;Vehicle)|Motorhome", t(("Home", "Vehicle"), ("Motorhome",))),  # EXAMPLE 3
        ("(Home;Vehicle),Motorhome", t(("Home", "Vehicle"), ("Motorhome",))),
        ("Home;Vehicle", t(("Home", "Vehicle"))),  # ";" binds tighter, no parentheses
        ("A;B|C", t(("A", "B"), ("C",))),
        ("(A|B);C", t(("A", "C"), ("B", "C"))),  # nesting beyond the ABNF, in DNF
        ("A,A|(A)", t(("A",))),
        (" A , B ", t(("A",), ("B",))),
    ],
)
def test_type_expressions(text: str, expected: TypeExpr) -> None:
    """019_08: one type, AND in parentheses, ',' and '|' as OR, both together."""
    assert parse_type_expression(text, CORE) == expected


def test_type_names_expand_and_uris_pass() -> None:
    assert parse_type_expression("Car|ex:Bus|urn:x:T", USER) == TypeExpr(
        ((EX + "Car",), (EX + "Bus",), ("urn:x:T",))
    )


def test_type_expression_helpers() -> None:
    expr = parse_type_expression("(A;B)|C", CORE)
    assert expr.names == (D + "A", D + "B", D + "C")
    assert expr.matches([D + "A", D + "B"]) and expr.matches([D + "C", D + "X"])
    assert not expr.matches([D + "A"])


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("A,,B", "expected an entity type", 3),
        ("(A;B", "expected ')'", 5),
        ("A)", "')' without a matching '('", 2),
        ("1A", "'1A' is not an entity type", 1),
        ("A;", "expected an entity type", 3),
        ("()", "expected an entity type", 2),
    ],
)
def test_malformed_type_expressions(text: str, message: str, position: int) -> None:
    with pytest.raises(BadRequestData) as info:
        parse_type_expression(text, CORE)
    assert info.value.detail.startswith("type: ")
    assert message in info.value.detail
    assert f"at position {position}: {text}" in info.value.detail


def test_empty_type_expression() -> None:
    with pytest.raises(BadRequestData, match="empty"):
        parse_type_expression("", CORE)


def test_type_expression_size_is_bounded() -> None:
    with pytest.raises(BadRequestData, match="too complex"):
        parse_type_expression(";".join(f"(A{i}|B{i})" for i in range(7)), CORE)
