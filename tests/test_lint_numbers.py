"""Numbers checked against quotes: every number a rule (or band, scale, cap group) encodes is
printed in one of its quotes, or named in its note as the reading's own; a quote that prints
another row's points is flagged; two bands sharing a score need a stated tie-break."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from creditlab.cli.main import cli
from creditlab.engine.checks.lint import Finding, lint_file
from creditlab.engine.checks.lint_numbers import Encoded, row_points, stated
from creditlab.engine.inputs.catalog import shipped_scheme_files
from creditlab.engine.inputs.scheme import Duration

ROOT = Path(__file__).resolve().parents[1]
NUMBER_CODES = {"number-not-quoted", "quote-other-row"}


def src(quote: str) -> dict[str, Any]:
    return {"kind": "seed", "file": "test.txt", "quote": quote}


BASE: dict[str, Any] = {
    "id": "numbers_test",
    "name": {"en": "Numbers test"},
    "city": "Testville",
    "subject_kind": "person",
    "status": "draft",
    "sources": [src("A test scheme for the number check")],
    "scale": {"min": 0, "max": 1000, "start": 500, "clamp": True,
              "source": src("Scores run from 0 to 1,000; everyone starts at 500"),
              "fidelity": "documented"},
    "bands": [
        {"label": "good", "range": {"min": 500}, "source": src("500 and above: good"),
         "fidelity": "documented"},
        {"label": "poor", "range": {"max": 500, "max_inclusive": False},
         "source": src("below 500: poor"), "fidelity": "documented"},
    ],
    "rules": [],
}


def red_light(points: int, quote: str, **extra: Any) -> dict[str, Any]:
    rule = {"id": "p_red_light", "title": "Running a red light", "direction": "penalty",
            "match": {"type": "traffic.red_light"},
            "effects": [{"kind": "points", "points": points}],
            "source": src(quote), "fidelity": "documented"}
    rule.update(extra)
    return rule


def lint(tmp_path: Path, rules: list[dict[str, Any]], **top: Any) -> list[Finding]:
    data = copy.deepcopy(BASE)
    data["rules"] = rules
    data.update(top)
    path = tmp_path / "scheme.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return lint_file(path)


def numbers(findings: list[Finding]) -> list[tuple[str, str, str | None]]:
    return [(f.code, f.severity, f.field) for f in findings
            if f.code in NUMBER_CODES | {"band-tie-unstated"}]


# --- reading numbers out of words ---------------------------------------------------------


@pytest.mark.parametrize("text,value", [
    ("Donating between 1,000-10,000 RMB", "1000"),
    ("Donating between 1,000-10,000 RMB", "10000"),
    ("处罚款 1，000 元", "1000"),
    ("Burning rubbish (-5)", "5"),
    ("volunteering +5 points", "5"),
    ("志愿服务二十个小时", "20"),
    ("扣一百五十分", "150"),
    ("捐款两万元", "20000"),
    ("累计捐赠0.5万", "5000"),
    ("捐款2万元", "20000"),
    ("前20个小时", "20"),
    ("扣５０分", "50"),
    ("lending tools half a point", "0.5"),
    ("up to twenty-five points", "25"),
    ("limited to two trips a month", "2"),
    ("a fine of three thousand yuan", "3000"),
    ("二〇二〇年", "2020"),
])
def test_numbers_in_words(text, value):
    assert Decimal(value) in stated(text).numbers | stated(text).timed


@pytest.mark.parametrize("text,duration", [
    ("records are kept for one year", Duration(years=1)),
    ("评价有效期为一年", Duration(years=1)),
    ("the list is reviewed annually", Duration(years=1)),
    ("评价有效期为二年", Duration(years=2)),
    ("valid for 24 months", Duration(years=2)),
    ("半年内", Duration(months=6)),
    ("for six months", Duration(months=6)),
    ("within 15 days", Duration(days=15)),
    ("for two weeks", Duration(days=14)),
    ("每月为一周期", Duration(months=1)),
])
def test_durations_in_words(text, duration):
    assert stated(text).holds(Encoded(("expires_after",), "expiry", duration))


def test_a_number_with_a_unit_of_time_is_not_points():
    five_years = stated("良好信息评价期限为5年")
    assert not five_years.holds(Encoded(("points",), "points", Decimal(5)))
    assert five_years.holds(Encoded(("expires_after",), "expiry", Duration(years=5)))
    assert not stated("scored 2 points").holds(
        Encoded(("expires_after",), "expiry", Duration(years=2)))


def test_a_bound_matches_the_whole_number_either_side():
    more_than_five = Encoded(("more_than",), "count", Decimal(5), bound=True)
    assert stated("from the 6th violation").holds(more_than_five)
    assert stated("more than 5 violations").holds(more_than_five)
    assert not stated("more than 7 violations").holds(more_than_five)
    assert not stated("from the 6th violation").holds(
        Encoded(("points",), "points", Decimal(5)))


def test_row_points():
    assert row_points("骨髓捐献等的(+50)") == [Decimal(50)]
    assert row_points("违反计划生育政策的（-40）") == [Decimal(40)]
    assert row_points("Delaying public service fees | -20") == [Decimal(20)]
    assert row_points("Scores from 350-1200 (2018)") == []


# --- the check ----------------------------------------------------------------------------


def test_points_not_in_the_quote_are_an_error_on_a_documented_rule(tmp_path):
    found = lint(tmp_path, [red_light(-60, "Running a red light costs 50 points")])
    assert numbers(found) == [("number-not-quoted", "error", "rules[0].effects[0].points")]
    hit = next(f for f in found if f.code == "number-not-quoted")
    assert hit.rule == "p_red_light" and hit.line is not None and "-60" in hit.message


def test_points_in_the_quote_in_any_form_pass(tmp_path):
    for quote in ("Running a red light (-60)", "闯红灯扣六十分", "sixty points off",
                  "fines of 60-100 points"):
        assert numbers(lint(tmp_path, [red_light(-60, quote)])) == [], quote


def test_a_number_named_in_the_note_is_the_readings_own(tmp_path):
    note = "The source gives no number; 60 is assumed, as for speeding."
    assumed = red_light(-60, "Running a red light is penalised", fidelity="assumed", note=note)
    assert numbers(lint(tmp_path, [assumed])) == []
    unexplained = red_light(-60, "Running a red light is penalised", fidelity="interpreted",
                            note="Read as a penalty.")
    assert numbers(lint(tmp_path, [unexplained])) == [
        ("number-not-quoted", "warning", "rules[0].effects[0].points")]
    documented = red_light(-60, "Running a red light is penalised", note=note)
    found = lint(tmp_path, [documented])
    assert numbers(found) == [("number-not-quoted", "error", "rules[0].effects[0].points")]
    assert "only in the note" in next(f.message for f in found if f.code == "number-not-quoted")


def test_every_kind_of_number_is_checked(tmp_path):
    rule = red_light(-5, "Running a red light (-5)", cap={"points": 30, "per": "year"},
                     frequency={"times": 2, "per": "month"}, expires_after={"years": 3},
                     match={"type": "traffic.red_light", "subject": {"min_age": 16}})
    fields = {f for _, _, f in numbers(lint(tmp_path, [rule]))}
    assert fields == {"rules[0].cap.points", "rules[0].frequency.times",
                      "rules[0].expires_after", "rules[0].match.subject.min_age"}
    rule["source"] = src("Running a red light (-5), at most 30 points a year and twice a "
                         "month, kept three years, for those aged 16 or over")
    assert numbers(lint(tmp_path, [rule])) == []


def test_tiers_and_formulas(tmp_path):
    tiers = {"id": "r_volunteer", "title": "Volunteer hours", "direction": "reward",
             "match": {"type": "volunteer.service"},
             "effects": [{"kind": "quantity_tiers", "attr": "hours", "tiers": [
                 {"range": {"max": 50}, "points": 10},
                 {"range": {"min": 50, "min_inclusive": False}, "points": 20}]}],
             "source": src("Up to 50 hours: 10 points"), "fidelity": "documented"}
    assert numbers(lint(tmp_path, [tiers])) == [
        ("number-not-quoted", "error", "rules[0].effects[0].tiers[1].points")]
    tiers["effects"][0]["tiers"][1]["source"] = src("Over 50 hours: 20 points")
    assert numbers(lint(tmp_path, [tiers])) == []
    formula = {"id": "r_blood", "title": "Blood", "direction": "reward",
               "match": {"type": "donation.blood"},
               "effects": [{"kind": "formula", "attr": "ml", "base_points": 10,
                            "base_quantity": 400, "per": 200, "per_points": 5,
                            "max_points": 30}],
               "source": src("10: Blood donation below 400 ml. Additional 5 points for every "
                             "200 ml beyond the first 400ml, max of 30 points."),
               "fidelity": "documented"}
    assert numbers(lint(tmp_path, [formula])) == []


def test_bands_scale_and_cap_groups_are_checked_against_their_own_quotes(tmp_path):
    data = copy.deepcopy(BASE)
    bands = data["bands"]
    bands[0]["range"] = {"min": 600}
    bands[1]["range"] = {"max": 600, "max_inclusive": False}
    groups = [{"id": "lights", "cap": {"points": 40, "per": "year"},
               "source": src("counted together"), "fidelity": "documented"}]
    rule = red_light(-5, "Running a red light (-5)", cap_group="lights")
    found = numbers(lint(tmp_path, [rule], bands=bands, cap_groups=groups))
    assert {f for _, _, f in found} == {"bands[0].range.min", "bands[1].range.max",
                                        "cap_groups[0].cap.points"}


def test_a_quote_of_another_row_is_flagged(tmp_path):
    wrong_row = red_light(-60, "Stealing water (-60)", also=[src("Arrears confirmed by a court "
                                                               "(-50)")])
    assert numbers(lint(tmp_path, [wrong_row])) == [
        ("quote-other-row", "error", "rules[0].also[0].quote")]
    explained = dict(wrong_row, fidelity="interpreted",
                     note="The court-confirmed row (-50) is cited for the table it sits in.")
    assert numbers(lint(tmp_path, [explained])) == []


def test_an_age_may_come_from_the_schemes_scope(tmp_path):
    rule = red_light(-5, "Running a red light (-5)",
                     match={"type": "traffic.red_light", "subject": {"min_age": 18}})
    assert numbers(lint(tmp_path, [rule])) == [
        ("number-not-quoted", "error", "rules[0].match.subject.min_age")]
    scoped = [src("A test scheme for residents aged 18 or over")]
    assert numbers(lint(tmp_path, [rule], sources=scoped)) == []
    reading = [{"ambiguity": "eligibility", "reading": "Adults: aged 18 or over.",
                "why": "Adult is 18.", "rules": ["p_red_light"]}]
    assert numbers(lint(tmp_path, [rule], interpretations=reading)) == []


# --- tie-breaks between bands -------------------------------------------------------------


TIED = [{"label": "good", "range": {"min": 600}, "source": src("600 and above: good"),
         "fidelity": "documented"},
        {"label": "fair", "range": {"min": 500, "max": 600}, "source": src("500-600: fair"),
         "fidelity": "documented"},
        {"label": "poor", "range": {"max": 500, "max_inclusive": False},
         "source": src("below 500: poor"), "fidelity": "documented"}]


def test_a_shared_endpoint_needs_a_stated_tie_break(tmp_path):
    rule = red_light(-5, "Running a red light (-5)")
    found = lint(tmp_path, [rule], bands=TIED)
    assert [(f.code, f.severity, f.field) for f in found if f.code == "band-tie-unstated"] == [
        ("band-tie-unstated", "warning", "bands[1].range")]
    vague = [{"ambiguity": "overlap", "reading": "The first band wins.", "why": "Order."}]
    assert any(f.code == "band-tie-unstated"
               for f in lint(tmp_path, [rule], bands=TIED, interpretations=vague))
    stated_ = [{"ambiguity": "overlap", "reading": "600 is good, not fair (listed first).",
                "why": "The source prints 600 twice."}]
    assert not any(f.code == "band-tie-unstated"
                   for f in lint(tmp_path, [rule], bands=TIED, interpretations=stated_))


@pytest.mark.parametrize("scheme", ["hangzhou_qianjiang", "wuhu_lehui"])
def test_hangzhou_and_wuhu_state_their_tie_breaks(runner, scheme):
    found = lint_file(ROOT / "schemes" / f"{scheme}.yaml")
    assert any(f.code == "band-overlap" for f in found)
    assert not any(f.code == "band-tie-unstated" for f in found)
    shown = " ".join(runner.invoke(cli, ["show", scheme, "--width", "200"]).output.split())
    assert "Tie-break" in shown and "band_for takes the first band" in shown


# --- the shipped schemes ------------------------------------------------------------------

BASE_FILES = [p for p in shipped_scheme_files() if "@" not in p.name]


@pytest.mark.parametrize("path", BASE_FILES, ids=[p.stem for p in BASE_FILES])
def test_shipped_schemes_have_no_error_level_number_finding(path):
    errors = [f for f in lint_file(path) if f.code in NUMBER_CODES and f.severity == "error"]
    assert errors == []


def test_wendeng_quotes_the_rows_whose_numbers_it_encodes():
    found = [f for f in lint_file(ROOT / "schemes" / "weihai_wendeng.yaml")
             if f.code in NUMBER_CODES]
    assert found == []


def test_the_collection_officer_rule_is_rongchengs():
    data = yaml.safe_load((ROOT / "schemes" / "rongcheng_gangwan.yaml").read_text("utf-8"))
    rule = next(r for r in data["rules"] if r["id"] == "gw_p_collection_officer_malpractice")
    assert rule["fidelity"] == "interpreted" and "Rongcheng" in rule["note"]
    assert any("⁵⁷ Rongcheng Municipal" in s["quote"] for s in rule["also"])
