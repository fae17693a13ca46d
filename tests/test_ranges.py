"""Declared ranges and bounds (issue 13): quantities, scheme numbers, durations, engine
limits, duplicate scheme ids and starting points. Each refusal is a CreditlabError that
names file, line and field; nothing is scored, dropped or crashed on silently."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from creditlab.engine.checks.generate import targets_for
from creditlab.engine.checks.lint import lint_file
from creditlab.engine.errors import HistoryError, SchemeError
from creditlab.engine.inputs.catalog import resolve_schemes, shipped_scheme, shipped_scheme_files
from creditlab.engine.inputs.history import Event, Subject
from creditlab.engine.inputs.history_files import load_history
from creditlab.engine.inputs.load import (
    MAX_IN_VALUES,
    MAX_ROLES,
    MAX_RULES,
    MAX_SHARED_RULES_PER_TYPE,
    MAX_TYPES_PER_RULE,
)
from creditlab.engine.inputs.scheme import EARLIEST, LATEST, Scheme
from creditlab.engine.inputs.vocabulary import AttrSpec, check_attr, shipped_vocabulary
from creditlab.engine.scoring.durable.compile import compile_scheme
from creditlab.engine.scoring.durable.match import Matcher
from creditlab.engine.scoring.replay import replay

from conftest import points, rule

ROOT = Path(__file__).resolve().parents[1]
MakeScheme = Callable[..., Scheme]


def history(tmp_path: Path, text: str, name: str = "h.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- quantities ---------------------------------------------------------------------------


@pytest.mark.parametrize(("etype", "attr", "value", "phrase"), [
    ("volunteer.service", "hours", "-300", "must be \u2265 0, got -300"),
    ("donation.blood", "ml", "-400", "must be \u2265 0, got -400"),
    ("donation.charity", "amount_rmb", "-0.5", "must be \u2265 0, got -0.5"),
    ("traffic.violation", "licence_points", "-1", "must be \u2265 0, got -1"),
])
def test_quantities_outside_their_range_are_refused(tmp_path: Path, etype: str, attr: str,
                                                    value: str, phrase: str) -> None:
    path = history(tmp_path, "subjects: [{id: wang, kind: person}]\nevents:\n"
                   f"  - {{id: e1, subject: wang, at: 2019-03-01, type: {etype},\n"
                   f"     {attr}: {value}}}\n")
    with pytest.raises(HistoryError) as info:
        load_history(path, shipped_vocabulary())
    err = info.value
    assert phrase in err.reason and err.file == str(path)
    assert err.line is not None and err.field is not None and attr in err.field


def test_every_number_attribute_has_a_range() -> None:
    """Every int/number attribute is a quantity: none may be negative."""
    voc = shipped_vocabulary()
    numbers = [(code, name, spec) for code, event in voc.events.items()
               for name, spec in event.attrs.items() if spec.kind in ("int", "number")]
    assert numbers
    assert all(spec.low == 0 for _, _, spec in numbers), numbers


def test_a_declared_max_is_enforced() -> None:
    spec = AttrSpec(type="int", max=Decimal(12))
    assert check_attr(spec, 12) == 12
    with pytest.raises(ValueError, match="must be \u2264 12, got 13"):
        check_attr(spec, 13)
    with pytest.raises(ValueError, match="apply to int and number"):
        AttrSpec(type="str", min=Decimal(0))


def test_bad_values_are_quoted_short() -> None:
    spec = shipped_vocabulary().events["volunteer.service"].attrs["hours"]
    for value in ("x" * 50_000_000, Decimal("-1" + "0" * 5000)):
        with pytest.raises(ValueError) as info:
            check_attr(spec, value)
        assert len(str(info.value)) < 120 and "\u2026" in str(info.value)


# --- scheme numbers, durations, dates -----------------------------------------------------


@pytest.mark.parametrize(("effect", "extra", "field", "phrase"), [
    (points(Decimal("-1.0e+5000")), {}, "rules[0].effects[0].points", "out of range"),
    (points(10**9), {}, "rules[0].effects[0].points", "below 10^9"),
    (points(Decimal("0.0000001")), {}, "rules[0].effects[0].points", "6 decimal places"),
    (points(1), {"cap": {"points": 10**12}}, "rules[0].cap.points", "out of range"),
    (points(1), {"expires_after": {"years": 5000}}, "rules[0].expires_after",
     "at most 100 years"),
    (points(1), {"expires_after": {"days": 40000}}, "rules[0].expires_after",
     "at most 100 years"),
    (points(1), {"effective_from": date(9000, 1, 1)}, "rules[0].effective_from",
     "between 1900-01-01 and 2200-12-31"),
    ({"kind": "set_score", "score": Decimal("1e10")}, {}, "rules[0].effects[0].score",
     "out of range"),
])
def test_scheme_numbers_are_bounded(make_scheme: MakeScheme, effect: dict[str, Any],
                                    extra: dict[str, Any], field: str, phrase: str) -> None:
    with pytest.raises(SchemeError) as info:
        make_scheme(rule("r", "volunteer.service", effect, **extra))
    assert info.value.field == field and phrase in info.value.reason, info.value


def test_scale_and_bounds_are_bounded(make_scheme: MakeScheme) -> None:
    with pytest.raises(SchemeError, match="out of range") as info:
        make_scheme(rule("r", "volunteer.service", points(1)), scale={"max": 10**10})
    assert info.value.field == "scale.max"
    ok = make_scheme(rule("r", "volunteer.service", points(Decimal("999999999.999999"))),
                     scale={"min": -999_999_999, "max": 999_999_999})
    assert ok.scale.max == 999_999_999


def test_generated_dates_stay_in_range(make_scheme: MakeScheme) -> None:
    late = make_scheme(rule("r", "volunteer.service", points(1),
                            effective_from=date(2200, 12, 31)),
                       rule("s", "gambling", points(1), direction="reward",
                            effective_to=EARLIEST))
    targets = targets_for(late)
    assert targets.start >= EARLIEST and targets.end <= LATEST
    assert all(EARLIEST <= d <= LATEST for d in targets.days)


# --- engine limits ------------------------------------------------------------------------


VOC_TYPES = sorted(shipped_vocabulary().events)


def test_limits_are_refused_at_load(make_scheme: MakeScheme) -> None:
    utility = {"where": [{"attr": "utility", "op": "in",
                          "value": ["water"] * (MAX_IN_VALUES + 1)}]}
    cases: list[tuple[list[dict[str, Any]], str, str]] = [
        ([rule("r", "utility.arrears", points(1), match=utility)],
         "rules[0].match.where[0].value", "lists at most 200"),
        ([rule("r", "gambling", points(1),
               match={"subject": {"roles_any": ["teacher"] * (MAX_ROLES + 1)}})],
         "rules[0].match.subject.roles_any", "lists at most 50"),
        ([rule("r", VOC_TYPES[:MAX_TYPES_PER_RULE + 1], points(1))],  # type: ignore[arg-type]
         "rules[0].match.type", "names at most 10"),
        ([rule(f"r{i}", VOC_TYPES[i % len(VOC_TYPES)], points(1))
          for i in range(MAX_RULES + 1)], f"rules[{MAX_RULES}]", "at most 2000"),
        ([rule(f"r{i}", ["gambling", VOC_TYPES[i % 100]], points(1))  # type: ignore[arg-type]
          for i in range(MAX_SHARED_RULES_PER_TYPE + 1)], "rules", "among other types"),
    ]
    for rules, field, phrase in cases:
        with pytest.raises(SchemeError) as info:
            make_scheme(*rules)
        assert info.value.field == field and phrase in info.value.reason, info.value


def test_a_scheme_at_every_limit_builds_and_matches(make_scheme: MakeScheme) -> None:
    """The limits are below where durable_rules breaks: all of them at once still work."""
    voc = shipped_vocabulary()
    utilities = list(voc.events["utility.arrears"].attrs["utility"].values)
    wide = [rule("wide_in", "utility.arrears", points(1), match={"where": [
                {"attr": "utility", "op": "in", "value": utilities}]}),
            rule("wide_roles", "gambling", points(1), match={"subject": {
                "roles_any": list(voc.roles), "roles_none": [voc.roles[0]]}})]
    shared = [rule(f"shared{i}", ["volunteer.service", *VOC_TYPES[i % 150:i % 150 + 9]],
                   points(1)) for i in range(MAX_SHARED_RULES_PER_TYPE)]
    rest = MAX_RULES - len(wide) - len(shared)
    single = [rule(f"single{i}", VOC_TYPES[i % len(VOC_TYPES)], points(1))
              for i in range(rest)]
    scheme = make_scheme(*wide, *shared, *single)
    assert len(scheme.rules) == MAX_RULES
    assert max(len(r.match.types) for r in scheme.rules) == MAX_TYPES_PER_RULE
    matcher = Matcher(compile_scheme(scheme))
    subject = Subject(id="s", kind="person", roles=(voc.roles[1],))
    for etype, attrs in [("volunteer.service", {"hours": 3}),
                         ("utility.arrears", {"utility": "water", "months_overdue": 1}),
                         ("gambling", {})]:
        event = Event(id=f"e-{etype}", subject="s", at=datetime(2020, 1, 1), type=etype,
                      attrs=attrs)
        fired = matcher.fired(event, subject)
        assert [scheme.rules[i].match.types for i in fired]
        assert all(etype in scheme.rules[i].match.types for i in fired)


def test_repeated_values_are_refused(make_scheme: MakeScheme) -> None:
    """A repeated `in` value breaks durable_rules (error 107 or 303) and means nothing."""
    repeated = {"where": [{"attr": "utility", "op": "in", "value": ["water", "gas", "water"]}]}
    with pytest.raises(SchemeError, match="value 'water' is listed twice") as info:
        make_scheme(rule("r", "utility.arrears", points(1), match=repeated))
    assert info.value.field == "rules[0].match.where[0].value"
    with pytest.raises(SchemeError, match="role 'teacher' is listed twice"):
        make_scheme(rule("r", "gambling", points(1),
                         match={"subject": {"roles_none": ["teacher", "teacher"]}}))


def test_lint_reports_what_load_refuses(tmp_path: Path) -> None:
    text = (ROOT / "fixtures" / "lint" / "engine-limit.yaml").read_text(encoding="utf-8")
    findings = lint_file(ROOT / "fixtures" / "lint" / "engine-limit.yaml")
    assert [(f.code, f.severity) for f in findings] == [("engine-limit", "error")]
    assert "lint: engine-limit" in text


# --- shipped schemes ----------------------------------------------------------------------


@pytest.mark.parametrize("path", shipped_scheme_files(), ids=lambda p: p.stem)
def test_every_shipped_scheme_loads_and_lints_without_error(path: Path) -> None:
    errors = [f for f in lint_file(path) if f.severity == "error"]
    assert errors == []


# --- duplicate ids ------------------------------------------------------------------------


def test_one_file_twice_is_refused(tmp_path: Path) -> None:
    path = str(ROOT / "fixtures" / "lint" / "clean.yaml")
    with pytest.raises(SchemeError, match="scheme id 'lint_clean' is given twice") as info:
        resolve_schemes([path, path])
    assert info.value.field == "id" and "the same file" in info.value.reason


def test_a_file_with_a_shipped_id_is_refused_beside_it(tmp_path: Path) -> None:
    source = ROOT / "schemes" / "suining_county.yaml"
    copy = tmp_path / "mine.yaml"
    copy.write_bytes(source.read_bytes())
    with pytest.raises(SchemeError, match="is given twice") as info:
        resolve_schemes(["suining_county", str(copy)])
    assert info.value.file == str(copy) and str(source) in info.value.reason
    with pytest.raises(SchemeError, match="is given twice"):
        resolve_schemes(["suining_county", "suining_county"])
    with pytest.raises(SchemeError, match="is given twice"):
        replay(load_history(ROOT / "fixtures" / "example.yaml", shipped_vocabulary()),
               [shipped_scheme("suining_county")] * 2)


# --- starting points ----------------------------------------------------------------------


START = ("subjects: [{{id: chen, kind: person}}]\nstarting:\n"
         "  - {{subject: chen, scheme: {scheme}, score: {score}}}\n"
         "events:\n  - {{id: e1, subject: chen, at: 2019-03-01, type: gambling}}\n")


def test_a_starting_point_for_an_unknown_scheme_is_refused(tmp_path: Path) -> None:
    path = history(tmp_path, START.format(scheme="meritown_2109", score=1000))
    loaded = load_history(path, shipped_vocabulary())
    with pytest.raises(HistoryError, match="did you mean 'meritown_2019'") as info:
        replay(loaded, [shipped_scheme("meritown_2019")])
    assert info.value.file == str(path) and info.value.line == 3
    assert info.value.field == "starting.scheme"


def test_a_starting_point_for_a_shipped_scheme_left_out_is_kept(tmp_path: Path) -> None:
    path = history(tmp_path, START.format(scheme="meritown_2019", score=1000))
    result = replay(load_history(path, shipped_vocabulary()), [shipped_scheme("suining_county")])
    assert [r.scheme for r in result.results] == ["suining_county"]


def test_a_starting_score_outside_a_clamped_scale_is_refused(tmp_path: Path) -> None:
    clamped = next(s for s in (shipped_scheme(p.stem) for p in shipped_scheme_files())
                   if s.scale.clamp and s.scale.max is not None)
    assert clamped.scale.max is not None
    above = clamped.scale.max + 1
    path = history(tmp_path, START.format(scheme=clamped.id, score=above).replace(
        "kind: person", f"kind: {clamped.subject_kind}"))
    with pytest.raises(HistoryError, match=r"outside .* scale") as info:
        replay(load_history(path, shipped_vocabulary()), [clamped])
    assert info.value.line == 3 and info.value.field == "score"
    inside = history(tmp_path, START.format(scheme=clamped.id, score=clamped.scale.max)
                     .replace("kind: person", f"kind: {clamped.subject_kind}"), "ok.yaml")
    result = replay(load_history(inside, shipped_vocabulary()), [clamped])
    assert result.results[0].start == clamped.scale.max
