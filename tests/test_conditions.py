"""One semantics for conditions: `scoring.conditions` says what durable_rules decides.

Lint, the history generator and asymmetry read a scheme's conditions through
`scoring.conditions`; replays ask durable_rules. These properties hold the two equal, rule
by rule and event by event, for every shipped scheme (variants included) and for generated
schemes that use every operator, subject condition and effective date, over events aimed
at their rules (boundary values, absent attributes, roles, residence and hukou present and
absent, ages around the age limits, days around the effective dates).
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creditlab.engine import shipped_schemes, shipped_vocabulary
from creditlab.engine.analysis import asymmetry
from creditlab.engine.checks import generate, intervals
from creditlab.engine.checks.audit import history_from_data
from creditlab.engine.inputs.catalog import shipped_reform_files, shipped_scheme_files
from creditlab.engine.inputs.history import Event, Subject
from creditlab.engine.inputs.load import parse_scheme
from creditlab.engine.inputs.located import Located
from creditlab.engine.inputs.scheme import Condition, Rule, Scheme, SubjectCondition
from creditlab.engine.scoring import conditions
from creditlab.engine.scoring.durable.compile import compile_scheme
from creditlab.engine.scoring.durable.match import Matcher
from creditlab.testing import boundary_values

from conftest import SOURCE, points, rule
from strategies import histories

SCHEMES = shipped_schemes()
VOCABULARY = shipped_vocabulary()
SETTINGS = settings(max_examples=50, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def agree(scheme: Scheme, pairs: list[tuple[Event, Subject]]) -> int:
    """Asserts that both semantics fire the same rules for every pair; how many fired."""
    matcher = Matcher(compile_scheme(scheme))
    fired = 0
    for event, subject in pairs:
        expected = matcher.fired(event, subject)
        assert conditions.fired(scheme, event, subject) == expected, (event, subject)
        fired += len(expected) > 0
    return fired


def years_before(day: date, years: int) -> date:
    """The birthday `years` years before `day` (28 February for a 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


@st.composite
def aimed_subject(draw: st.DrawFn, subject: Subject, condition: SubjectCondition,
                  day: date) -> Subject:
    """`subject` made to meet `condition` on `day`, or to miss it by one field: a role
    it excludes, another or an unknown residence or hukou, an age one day off a limit."""
    roles = set(draw(st.lists(st.sampled_from(condition.roles_any), max_size=2))
                if condition.roles_any else ())
    if condition.roles_none and draw(st.booleans()):
        roles.add(draw(st.sampled_from(condition.roles_none)))
    fields: dict[str, Any] = {"roles": tuple(sorted(roles))}
    for name, values in (("residence", ["urban", "rural"]), ("hukou", ["local", "non_local"])):
        wanted = getattr(condition, name)
        aimed = wanted is not None and draw(st.booleans())
        fields[name] = wanted if aimed else draw(st.sampled_from([None, *values]))
    limits = [a for a in (condition.min_age, condition.max_age) if a is not None]
    if limits and draw(st.integers(0, 5)):
        age = draw(st.sampled_from(limits)) + draw(st.sampled_from([-1, 0, 1]))
        fields["born"] = years_before(day, age) + timedelta(days=draw(st.sampled_from([-1, 0,
                                                                                       1])))
    return subject.model_copy(update=fields)


@st.composite
def aimed_event(draw: st.DrawFn, event: Event, rule: Rule) -> Event:
    """`event` aimed at `rule`: each attribute it compares set to one of its constants, a
    step either side of one, or left out; the day, now and then, on or a day either side
    of an effective date. The values come from the rule, not from the semantics under
    test (which the generator uses to aim)."""
    specs = VOCABULARY.events[event.type].attrs
    attrs = dict(event.attrs)
    for name in sorted({c.attr for c in rule.match.where}):
        spec = specs.get(name)
        if spec is None:
            continue
        constants = [v for c in rule.match.where if c.attr == name
                     for v in (c.value if isinstance(c.value, list) else [c.value])]
        choice = draw(st.integers(0, 7))
        if choice <= 1 and not spec.required:
            attrs.pop(name, None)
        elif choice >= 4:
            attrs[name] = as_held(draw(st.sampled_from(constants)))
        elif choice >= 2:
            attrs[name] = draw(st.sampled_from(boundary_values(spec, constants)))
    dates = [d for d in (rule.effective_from, rule.effective_to) if d is not None]
    at = event.at
    if dates and draw(st.booleans()):
        day = draw(st.sampled_from(dates)) + timedelta(days=draw(st.sampled_from([-1, 0, 1])))
        at = datetime(day.year, day.month, day.day)
    return event.model_copy(update={"attrs": attrs, "at": at})


def as_held(value: Any) -> Any:
    """A constant as a history holds the value: an int when integral."""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return value


@st.composite
def cases(draw: st.DrawFn, scheme: Scheme) -> list[tuple[Event, Subject]]:
    """Events aimed at `scheme`'s rules, each with its subject; most of those a rule could
    fire on are aimed again at that rule's attribute conditions or subject condition."""
    history = history_from_data(draw(histories(scheme=scheme, max_subjects=3,
                                               max_events=12)))
    pairs = []
    for event in history.events:
        subject = history.subjects[event.subject]
        rules = [r for r in scheme.rules if event.type in r.match.types]
        if rules and draw(st.integers(0, 3)):
            target = draw(st.sampled_from(rules))
            event = draw(aimed_event(event, target))
            if target.match.subject is not None:
                subject = draw(aimed_subject(subject, target.match.subject, event.day))
        pairs.append((event, subject))
    return pairs


def test_lint_the_generator_and_asymmetry_read_conditions_through_this_module():
    assert intervals.condition_holds is conditions.condition_holds
    assert generate.condition_holds is conditions.condition_holds
    assert asymmetry.applies is conditions.subject_holds


def test_every_shipped_scheme_and_variant_is_checked():
    assert len(SCHEMES) == len(shipped_scheme_files()) + len(shipped_reform_files())
    assert any(s.variant is not None for s in SCHEMES)


@pytest.mark.parametrize("scheme", SCHEMES, ids=[s.id for s in SCHEMES])
def test_conditions_fire_the_rules_durable_rules_fires(scheme):
    fired = []

    @SETTINGS
    @given(cases(scheme))
    def check(pairs):
        fired.append(agree(scheme, pairs))

    check()
    if scheme.rules:
        assert sum(fired) > 0, "no generated event fired a rule: the property saw nothing"


# --- generated schemes: every operator, subject condition and effective date -------------

TYPES = sorted(t for t, spec in VOCABULARY.events.items()
               if any(a.kind in ("int", "number", "bool", "enum") for a in spec.attrs.values()))
NUMBERS = [0, 1, Decimal("1.0"), Decimal("1.5"), Decimal("0.5"), 2, 10, 50, 400]
AGES = [0, 16, 18, 60, 70]
DAYS = [date(2016, 1, 1), date(2018, 3, 1), date(2020, 2, 29), date(2021, 1, 1),
        date(2023, 12, 31)]
ROLES = ["teacher", "civil_servant", "farmer", "party_member"]


@st.composite
def conditions_on(draw: st.DrawFn, types: list[str]) -> dict[str, Any]:
    """A condition on an attribute of the rule's types (typed as the loader reads it)."""
    specs: dict[str, Any] = {}
    for etype in types:
        for name, attr in VOCABULARY.events[etype].attrs.items():
            specs.setdefault(name, attr)
    name = draw(st.sampled_from(sorted(n for n, a in specs.items()
                                       if a.kind in ("int", "number", "bool", "enum"))))
    kind = specs[name].kind
    if kind in ("int", "number"):
        op = draw(st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"]))
        value: Any = draw(st.sampled_from(NUMBERS if kind == "number" else [0, 1, 2, 6, 12]))
    elif kind == "bool":
        op, value = draw(st.sampled_from(["eq", "ne"])), draw(st.booleans())
    else:
        op = draw(st.sampled_from(["eq", "ne", "in"]))
        values = specs[name].values
        value = (draw(st.lists(st.sampled_from(values), min_size=1, max_size=3, unique=True))
                 if op == "in" else draw(st.sampled_from(values)))
    return {"attr": name, "op": op, "value": value}


@st.composite
def subject_conditions(draw: st.DrawFn) -> dict[str, Any] | None:
    if not draw(st.integers(0, 3)):
        return None
    out: dict[str, Any] = {}
    optional = {
        "roles_any": st.lists(st.sampled_from(ROLES), min_size=1, max_size=2, unique=True),
        "roles_none": st.lists(st.sampled_from(ROLES), min_size=1, max_size=2, unique=True),
        "residence": st.sampled_from(["urban", "rural"]),
        "hukou": st.sampled_from(["local", "non_local"]),
        "min_age": st.sampled_from(AGES),
        "max_age": st.sampled_from(AGES),
    }
    for key in draw(st.lists(st.sampled_from(sorted(optional)), max_size=2, unique=True)):
        out[key] = draw(optional[key])
    if out.get("min_age", 0) > out.get("max_age", 200):
        out["min_age"], out["max_age"] = out["max_age"], out["min_age"]
    return out


@st.composite
def generated_rules(draw: st.DrawFn, index: int) -> dict[str, Any]:
    types = draw(st.lists(st.sampled_from(TYPES), min_size=1, max_size=2, unique=True))
    where = draw(st.lists(conditions_on(types), max_size=2))
    match: dict[str, Any] = {"type": types if len(types) > 1 else types[0], "where": where}
    subject = draw(subject_conditions())
    if subject is not None:
        match["subject"] = subject
    extra: dict[str, Any] = {}
    ends = sorted(draw(st.lists(st.sampled_from(DAYS), min_size=2, max_size=2)))
    if draw(st.booleans()):
        extra["effective_from"] = ends[0]
    if draw(st.booleans()):
        extra["effective_to"] = ends[1]
    return rule(f"r{index}", types[0], points(1), match=match, **extra)


@st.composite
def generated_schemes(draw: st.DrawFn) -> Scheme:
    n = draw(st.integers(1, 3))
    data: dict[str, Any] = {
        "id": "generated", "name": {"en": "Generated"}, "city": "Testville",
        "subject_kind": "person", "status": "draft", "sources": [SOURCE],
        "scale": {"start": 1000, "source": SOURCE, "fidelity": "documented"},
        "rules": [draw(generated_rules(i)) for i in range(n)],
    }
    # Each distinct scheme gets its own durable_rules ruleset, named by this digest.
    digest = "sha256:" + hashlib.sha256(repr(data).encode()).hexdigest()
    return parse_scheme(Located(data, "<generated>", {}), VOCABULARY, digest)


@settings(SETTINGS, max_examples=200)
@given(st.data())
def test_generated_schemes_fire_as_durable_rules_fires(data):
    scheme = data.draw(generated_schemes())
    agree(scheme, data.draw(cases(scheme)))


# --- the edges, by example ---------------------------------------------------------------

SUBJECT = Subject(id="s", kind="person")


@pytest.fixture
def fires(make_scheme):
    """`fires(rule, attrs, subject, day)`: whether the rule fires, asserting that
    durable_rules and `conditions` say the same."""

    def check(rule_data: dict[str, Any], attrs: dict[str, Any], subject: Subject = SUBJECT,
              day: date = date(2021, 6, 15)) -> bool:
        scheme = make_scheme(rule_data)
        event = Event(id="e", subject=subject.id, at=datetime(day.year, day.month, day.day),
                      type=scheme.rules[0].match.types[0], attrs=attrs)
        expected = Matcher(compile_scheme(scheme)).fired(event, subject)
        assert conditions.fired(scheme, event, subject) == expected
        return expected == [0]

    return check


def where(etype: str, attr: str, op: str, value: Any) -> dict[str, Any]:
    return rule("r", etype, points(1), match={"where": [{"attr": attr, "op": op,
                                                         "value": value}]})


def test_an_absent_attribute_meets_no_condition_not_even_ne(fires):
    assert not fires(where("traffic.violation", "licence_points", "ne", 3), {})
    assert fires(where("traffic.violation", "licence_points", "ne", 3), {"licence_points": 2})
    assert not fires(where("good_deed.heroism", "outstanding", "ne", True), {})
    assert not conditions.condition_holds(Condition(attr="x", op="ne", value="a"), None)


def test_booleans_compare_by_equality(fires):
    rule_data = where("good_deed.heroism", "outstanding", "ne", True)
    assert fires(rule_data, {"outstanding": False})
    assert not fires(rule_data, {"outstanding": True})


def test_one_equals_one_point_zero(fires):
    assert fires(where("volunteer.service", "hours", "eq", Decimal("1.0")), {"hours": 1})
    assert fires(where("volunteer.service", "hours", "gte", 1), {"hours": Decimal("1.0")})
    assert not fires(where("volunteer.service", "hours", "gt", 1), {"hours": 1})


@pytest.mark.parametrize("op", ["eq", "ne", "gt", "gte", "lt", "lte"])
@pytest.mark.parametrize("hours", [Decimal("0.5"), 1, Decimal("1.5")])
def test_each_operator_at_and_beside_its_constant(fires, op, hours):
    # `fires` asserts that durable_rules and the semantics agree.
    fires(where("volunteer.service", "hours", op, 1), {"hours": hours})


def test_numbers_compare_as_durable_rules_compares_them_as_doubles(fires):
    # Within the vocabulary's bounds (below 10^15, 6 places) two values can differ beyond
    # a double's 15-16 digits: durable_rules holds them equal, and so does the semantics.
    rule_data = where("volunteer.service", "hours", "gt", 100_000_000_000)
    assert not fires(rule_data, {"hours": Decimal("100000000000.000001")})
    assert fires(rule_data, {"hours": Decimal("100000000000.0001")})


@pytest.mark.parametrize("day, expected", [
    (date(2021, 6, 14), False), (date(2021, 6, 15), True), (date(2021, 6, 16), True)])
def test_min_age_is_reached_on_the_birthday(fires, day, expected):
    subject = Subject(id="s", kind="person", born=date(2003, 6, 15))
    rule_data = rule("r", "volunteer.service", points(1), match={"subject": {"min_age": 18}})
    assert fires(rule_data, {"hours": 1}, subject, day) is expected


@pytest.mark.parametrize("day, expected", [
    (date(2021, 6, 14), True), (date(2021, 6, 15), False)])
def test_max_age_holds_until_the_next_birthday(fires, day, expected):
    subject = Subject(id="s", kind="person", born=date(1961, 6, 15))
    rule_data = rule("r", "volunteer.service", points(1), match={"subject": {"max_age": 59}})
    assert fires(rule_data, {"hours": 1}, subject, day) is expected


@pytest.mark.parametrize("field", ["min_age", "max_age", "residence", "hukou"])
def test_an_unknown_subject_field_meets_no_condition_on_it(fires, field):
    value = {"min_age": 0, "max_age": 200, "residence": "rural", "hukou": "local"}[field]
    rule_data = rule("r", "volunteer.service", points(1), match={"subject": {field: value}})
    assert not fires(rule_data, {"hours": 1})


@pytest.mark.parametrize("roles, expected", [
    ((), False), (("teacher",), True), (("farmer",), True), (("farmer", "party_member"), False),
    (("party_member",), False)])
def test_roles_any_needs_one_role_and_roles_none_excludes_each(fires, roles, expected):
    rule_data = rule("r", "volunteer.service", points(1), match={"subject": {
        "roles_any": ["teacher", "farmer"], "roles_none": ["party_member"]}})
    subject = Subject(id="s", kind="person", roles=roles)
    assert fires(rule_data, {"hours": 1}, subject) is expected


@pytest.mark.parametrize("day, expected", [
    (date(2019, 12, 31), False), (date(2020, 1, 1), True), (date(2020, 12, 31), True),
    (date(2021, 1, 1), False)])
def test_effective_dates_are_inclusive(fires, day, expected):
    rule_data = rule("r", "volunteer.service", points(1), effective_from=date(2020, 1, 1),
                     effective_to=date(2020, 12, 31))
    assert fires(rule_data, {"hours": 1}, SUBJECT, day) is expected
