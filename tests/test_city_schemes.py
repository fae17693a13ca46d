"""The schemes that score cities: the fixture city's points, worked out by hand from the quotes.

`fixtures/cities/model_city.yaml` is one fictional city's indicators for one year, replayed
through the four NDRC/PBoC model-city editions and the CEIN City Credit Index 2019. Each
expected number below is computed from the words the rule quotes (one criterion at least for
each effect kind: points, formula, quantity_tiers, tiers, unquantified); both backends give
the same results, ledger and digest; lint finds no error in the five files.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from creditlab.cli.main import cli
from creditlab.engine import shipped_scheme, shipped_vocabulary
from creditlab.engine.checks.lint import lint_file
from creditlab.engine.inputs.history_files import load_history
from creditlab.engine.scoring.ledger import AtMost, CapReached, LedgerEntry
from creditlab.engine.scoring.replay import Replay, replay

D = Decimal
ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "cities" / "model_city.yaml"
CITY_SCHEMES = ["ndrc_model_city_2016", "ndrc_model_city_2017", "ndrc_model_city_2019",
                "ndrc_model_city_2021", "cein_city_credit_index_2019"]


@pytest.fixture(scope="module")
def schemes() -> list:
    return [shipped_scheme(s) for s in CITY_SCHEMES]


@pytest.fixture(scope="module")
def durable(schemes: list) -> Replay:
    return replay(load_history(FIXTURE, shipped_vocabulary()), schemes)


def entry(result: Replay, scheme: str, event: str, rule: str | None = None) -> LedgerEntry:
    found = [e for e in result.ledger if e.scheme == scheme and e.event == event
             and (rule is None or e.rule == rule)]
    assert len(found) == 1, found
    return found[0]


def test_the_five_schemes_score_cities(schemes: list) -> None:
    assert [s.subject_kind for s in schemes] == ["city"] * 5
    # The catalog's 171 criteria; 2016 adds a county-level rule to two of its 21.
    assert [s.coverage.rules_total for s in schemes] == [21, 28, 37, 24, 61]
    assert [len(s.rules) for s in schemes] == [23, 28, 37, 24, 61]
    assert [(s.scale.min, s.scale.max) for s in schemes] == [
        (0, 120), (0, 110), (0, 110), (0, 110), (0, 140)]


def test_points_all_or_nothing(durable: Replay) -> None:
    # "Ten points are awarded for building and operating a credit information sharing
    # platform; no points will be awarded in other cases." c19: the platform, share 1.
    assert entry(durable, "ndrc_model_city_2016", "c19").applied == D(10)
    # "Two points will be awarded to cities who build credit websites and keep information
    # updated": c20 judges the website 0.75 of the way, so 2016 gives nothing...
    assert not [e for e in durable.ledger if e.scheme == "ndrc_model_city_2016"
                and e.event == "c20"]
    # ... while the web portal's 2, 4 and 6 points (Figure 9) give 0.75 of each.
    assert [entry(durable, f"ndrc_model_city_{y}", "c20").applied
            for y in (2017, 2019, 2021)] == [D("1.5"), D(3), D("4.5")]


def test_formula_per_unit_up_to_a_maximum(durable: Replay) -> None:
    # "will earn 0.2 points, up to a maximum of 10 points": 42 departments, 8.4 points.
    assert entry(durable, "ndrc_model_city_2016", "c01").applied == D("8.4")
    # "awarded 0.05 points, up to a maximum of six points": 150 punishments, 7.5, held at 6.
    capped = entry(durable, "ndrc_model_city_2016", "c07")
    assert capped.applied == D(6)
    assert any(isinstance(n, AtMost) for n in capped.notes)
    # "One point will be awarded for every one million pieces": 3.6 million, 3 points.
    assert entry(durable, "ndrc_model_city_2016", "c02").applied == D(3)


def test_formula_ratio_times_five_up_to_three(durable: Replay) -> None:
    # "multiplying this by five, up to a maximum of three points": 0.5 x 5 = 2.5 ...
    assert entry(durable, "ndrc_model_city_2019", "c13").applied == D("2.5")
    # ... and 0.7 x 5 = 3.5, held at 3 ("multiplying by five, up to a maximum of three").
    held = entry(durable, "ndrc_model_city_2019", "c14")
    assert held.points == D(3)
    assert any(isinstance(n, AtMost) for n in held.notes)
    # The same measured ratio in the CEIN index: its 1 point, times the ratio itself.
    assert entry(durable, "cein_city_credit_index_2019", "c14").applied == D("0.7")


def test_formula_base_and_increments(durable: Replay) -> None:
    # "1.5 points for 50 per cent take-up ... a further 0.5 points for each additional 10
    # percentage points": 72% is 1.5 + 2 x 0.5 = 2.5.
    assert entry(durable, "ndrc_model_city_2019", "c11").applied == D("2.5")
    # 2021: "100% coverage will get seven points, ... less than 65% ... no points": 86% is
    # 21 points above 65 of 35, 4.2 of the 7.
    assert entry(durable, "ndrc_model_city_2021", "c16").applied == D("4.2")


def test_deductions(durable: Replay) -> None:
    # "an error rate of one per cent was permitted ..., with every 0.1 per cent increase
    # above that fined 0.1 points": 1.25% is two steps of 0.1 above 1, -0.2.
    assert entry(durable, "ndrc_model_city_2017", "c09").applied == D("-0.2")
    # "for every percentile below 100 per cent coverage ..., 0.02 points were deducted, and
    # in 2019, this was increased tenfold to 0.2": 3 percentiles short of the criterion's
    # 2 points (2017) and 1 point (2019).
    assert sum(e.applied for e in durable.ledger if e.event == "c08"
               and e.scheme == "ndrc_model_city_2017") == D("1.94")
    assert sum(e.applied for e in durable.ledger if e.event == "c08"
               and e.scheme == "ndrc_model_city_2019") == D("0.4")


def test_unquantified(durable: Replay) -> None:
    # 2019: "the threshold was decreased to 0.01 per cent"; the deduction is not restated.
    fired = entry(durable, "ndrc_model_city_2019", "c09")
    assert fired.rule == "m19_error_rate_threshold"
    assert fired.points is None and fired.applied == 0


def test_quantity_tiers(durable: Replay) -> None:
    # "five points for a renewal rate is only 90%": 93% renewed.
    assert entry(durable, "ndrc_model_city_2016", "c04").applied == D(5)


def test_tiers(durable: Replay) -> None:
    # "Cities that appoint full-time, dedicated staff ... will be awarded three points".
    assert entry(durable, "ndrc_model_city_2016", "c25").applied == D(3)


def test_one_fact_through_every_edition(durable: Replay) -> None:
    # The assessor's 0.8 share of department data sharing: 2, 4 and 7 points in Figure 9.
    assert [entry(durable, f"ndrc_model_city_{y}", "c21").applied
            for y in (2017, 2019, 2021)] == [D("1.6"), D("3.2"), D("5.6")]
    # The 19 special-governance issues: 4 points in the 2019 criteria, 10 in the CEIN index.
    assert entry(durable, "ndrc_model_city_2019", "c23").applied == D(2)
    assert entry(durable, "cein_city_credit_index_2019", "c23").applied == D(5)


def test_final_scores(durable: Replay) -> None:
    scores = {o.scheme: o.score for o in durable.results}
    assert scores == {"ndrc_model_city_2016": D("59.4"), "ndrc_model_city_2017": D("23.84"),
                      "ndrc_model_city_2019": D("31.1"), "ndrc_model_city_2021": D("35.9"),
                      "cein_city_credit_index_2019": D("10.6")}


def test_a_criterion_and_its_parts_share_its_points(schemes: list, tmp_path: Path) -> None:
    # 2017: public credit information co-construction and sharing is 15 points; reported
    # as a whole (share 1) and by a part (the sharing platform, 2), it stays at 15.
    path = tmp_path / "both.yaml"
    path.write_text(
        "subjects:\n  - {id: c, kind: city}\nevents:\n"
        "  - {id: a, subject: c, at: 2021-01-01, type: indicator.attained,"
        " criterion: public_credit_information, share: 1}\n"
        "  - {id: b, subject: c, at: 2021-01-02, type: indicator.attained,"
        " criterion: sharing_platform, share: 1}\n", encoding="utf-8")
    result = replay(load_history(path, shipped_vocabulary()),
                    [shipped_scheme("ndrc_model_city_2017")])
    assert result.results[0].score == D(15)
    second = entry(result, "ndrc_model_city_2017", "b")
    assert second.applied == 0
    assert any(isinstance(n, CapReached) and n.group == "m17_public_credit_information"
               for n in second.notes)


def test_county_level_cities_are_scored_on_20_percent_of_the_standard(tmp_path: Path) -> None:
    # "One point will be awarded for every one million pieces ... County-level cities and
    # urban areas will only be scored according to 20% of the above standards": 0.5 million
    # pieces is no whole million (0 points) for a prefecture-level city, two steps of 0.2
    # million for a county-level one.
    path = tmp_path / "county.yaml"
    path.write_text(
        "subjects:\n  - {id: p, kind: city}\n"
        "  - {id: q, kind: city, roles: [county_level_city]}\nevents:\n"
        "  - {id: a, subject: p, at: 2016-06-01, type: indicator.measured,"
        " indicator: national_records_million, value: 0.5}\n"
        "  - {id: b, subject: q, at: 2016-06-01, type: indicator.measured,"
        " indicator: national_records_million, value: 0.5}\n", encoding="utf-8")
    result = replay(load_history(path, shipped_vocabulary()),
                    [shipped_scheme("ndrc_model_city_2016")])
    assert entry(result, "ndrc_model_city_2016", "a").applied == 0
    county = entry(result, "ndrc_model_city_2016", "b")
    assert county.rule == "m16_national_reporting_county" and county.applied == D(2)
    columnar = replay(load_history(path, shipped_vocabulary()),
                      [shipped_scheme("ndrc_model_city_2016")], backend="columnar")
    assert (columnar.ledger, columnar.digest) == (result.ledger, result.digest)


def test_person_schemes_do_not_score_a_city(durable: Replay) -> None:
    result = replay(load_history(FIXTURE, shipped_vocabulary()), [shipped_scheme("suining_county")])
    assert result.results == ()


def test_both_backends_agree(schemes: list, durable: Replay) -> None:
    columnar = replay(load_history(FIXTURE, shipped_vocabulary()), schemes, backend="columnar")
    assert columnar.results == durable.results
    assert columnar.ledger == durable.ledger
    assert columnar.digest == durable.digest


@pytest.mark.parametrize("scheme_id", CITY_SCHEMES)
def test_lint_finds_no_error(scheme_id: str) -> None:
    findings = lint_file(ROOT / "schemes" / f"{scheme_id}.yaml")
    assert not [f for f in findings if f.severity == "error"], findings
    # The one warning: a criterion's points and the deductions within them fire on the same
    # measured coverage, on purpose (see m17/m19_code_coverage_deduction's note).
    warnings = [f for f in findings if f.severity == "warning"]
    assert all(f.code == "double-counting" and f.rule and "code_coverage_deduction" in f.rule
               for f in warnings), warnings


def test_the_readme_shows_the_real_standings() -> None:
    args = ["replay", str(FIXTURE), *[a for s in CITY_SCHEMES for a in ("--scheme", s)],
            "--format", "csv"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Cities scored"):]
    assert result.output.strip() in section


def test_the_readme_excerpt_is_the_real_table() -> None:
    args = ["replay", str(FIXTURE), *[a for s in CITY_SCHEMES for a in ("--scheme", s)],
            "--width", "100"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    output = [line.rstrip() for line in result.output.splitlines()]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Cities scored"):]
    block = section[section.index("(the table; excerpt):"):].split("```")[1]
    at = 0
    for line in block.strip("\n").splitlines():
        if line.strip() in ("", "…"):
            continue
        assert line in output[at:], f"not in the output (after line {at}): {line!r}"
        at = output.index(line, at) + 1
