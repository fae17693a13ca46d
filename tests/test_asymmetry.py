"""`creditlab asymmetry`: who can earn points and who only loses them, scheme by scheme."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
import yaml

from creditlab.cli.educator import asymmetry_command
from creditlab.engine import shipped_scheme
from creditlab.engine.analysis.asymmetry import (
    GOOD_YEAR_PLANS,
    GROUPS,
    Act,
    Group,
    Plan,
    applies,
    asymmetry,
)
from creditlab.engine.analysis.source_statistics import SOURCE_STATISTICS
from creditlab.engine.inputs.history import Event, Subject
from creditlab.engine.scoring.durable.compile import compile_scheme
from creditlab.engine.scoring.durable.match import Matcher

from conftest import points, rule, shared_dir

SHARED = shared_dir()
SRC = {"kind": "seed", "file": "test.txt", "quote": "a test rule"}
DAY = date(2021, 1, 1)


def band(label, **bounds):
    return {"label": label, "range": bounds or None, "source": SRC, "fidelity": "documented"}


@pytest.mark.parametrize("condition, subject, expected", [
    (None, {}, True),
    ({"roles_any": ["teacher"]}, {"roles": ("teacher",)}, True),
    ({"roles_any": ["teacher"]}, {}, False),
    ({"roles_none": ["civil_servant"]}, {}, True),
    ({"roles_none": ["civil_servant"]}, {"roles": ("civil_servant",)}, False),
    ({"residence": "rural"}, {"residence": "rural"}, True),
    ({"residence": "rural"}, {}, False),  # unknown never satisfies
    ({"hukou": "local"}, {"hukou": "non_local"}, False),
    ({"min_age": 18}, {"born": date(2000, 1, 1)}, True),
    ({"min_age": 18}, {"born": date(2010, 1, 1)}, False),
    ({"min_age": 18}, {}, False),
    ({"min_age": 18}, {"born": date(2003, 1, 1)}, True),  # 18 on DAY, the birthday
    ({"min_age": 18}, {"born": date(2003, 1, 2)}, False),
    ({"max_age": 60}, {"born": date(1950, 1, 1)}, False),
    ({"max_age": 60}, {}, False),
    ({"hukou": "local"}, {}, False),
])
def test_applies_is_what_durable_rules_decides(make_scheme, condition, subject, expected):
    match = {} if condition is None else {"subject": condition}
    scheme = make_scheme(rule("r", "volunteer.service", points(1), match=match))
    who = Subject(id="s", kind="person", **subject)
    event = Event(id="e", subject="s", at=datetime(DAY.year, DAY.month, DAY.day),
                  type="volunteer.service", attrs={"hours": 1})
    fired = Matcher(compile_scheme(scheme)).fired(event, who) == [0]
    assert fired is expected
    assert applies(scheme.rules[0].match.subject, who, DAY) is fired


def test_rules_are_counted_for_the_groups_they_apply_to(make_scheme):
    scheme = make_scheme(
        rule("r_all", "volunteer.service", points(5)),
        rule("r_staff", "award.received", points(50),
             match={"subject": {"roles_any": ["civil_servant"]}}),
        rule("p_teacher", "teacher.paid_tutoring", points(-20), direction="penalty",
             match={"subject": {"roles_any": ["teacher"]}}),
        rule("p_rural", "livestock.loose", points(-10), direction="penalty",
             match={"subject": {"residence": "rural"}}),
        rule("p_grade", "petition.bypass_local", {"kind": "reclassify", "grade": "B",
                                                  "policy": "worse_of"}, direction="penalty"),
        bands=[band("A"), band("B")])
    view = asymmetry([scheme]).scheme("test_scheme")
    counts = {g.group: (g.reward_rules, g.penalty_rules, g.reward_only_group,
                        g.penalty_only_group) for g in view.groups}
    assert counts == {"everyone": (1, 1, 0, 0), "rural": (1, 2, 0, 1), "urban": (1, 1, 0, 0),
                      "civil_servants": (2, 1, 1, 0), "teachers": (1, 2, 0, 1),
                      "business_owners": (1, 1, 0, 0)}
    staff = view.group("civil_servants")
    assert staff.on_offer == 55 and view.group("everyone").on_offer == 5
    assert view.group("rural").exposure == 10 and view.group("teachers").exposure == 20
    assert view.group("everyone").exposure_other["grade lowered"] == 1
    # award.received is not a chosen act: nothing of it is earnable.
    assert staff.earnable == view.group("everyone").earnable


def test_earnable_is_replayed_so_caps_and_limits_apply(make_scheme):
    scheme = make_scheme(
        rule("r_trip", "neighbour.eldercare_trip", points(1),
             frequency={"times": 2, "per": "month"}),
        rule("r_vol", "volunteer.service", points(5), cap={"points": 30, "per": "year"}),
        rule("r_blood", "donation.blood", points(10)))
    everyone = asymmetry([scheme]).scheme("test_scheme").group("everyone")
    trips = sum(1 for a in GOOD_YEAR_PLANS[0].acts if a.type == "neighbour.eldercare_trip")
    assert trips == 36  # three a month: the limit of two a month must cut it to 24
    assert everyone.earnable_by_type == {"neighbour.eldercare_trip": 24,
                                         "volunteer.service": 30, "donation.blood": 20}
    assert everyone.earnable == 74 and everyone.earnable_plan == "monthly"


def test_the_better_volunteering_plan_counts(make_scheme):
    scheme = make_scheme(rule("r_300", "volunteer.service", points(50),
                              match={"where": [{"attr": "hours", "op": "gte", "value": 300}]}))
    everyone = asymmetry([scheme]).scheme("test_scheme").group("everyone")
    assert everyone.earnable == 50 and everyone.earnable_plan == "one_block"


def test_climbing_back_a_band_is_replayed(make_scheme):
    bands = [band("A", min=1000), band("B", max=999)]
    scheme = make_scheme(rule("p_fight", "community.fight", points(-10), direction="penalty"),
                         rule("r_blood", "donation.blood", points(10)), bands=bands)
    climb = asymmetry([scheme]).scheme("test_scheme").group("everyone").climb
    assert (climb.status, climb.penalty_rule, climb.penalty_points) == ("climbed", "p_fight", 10)
    assert (climb.band_before, climb.band_after) == ("A", "B")
    assert climb.days == (date(2021, 3, 15) - DAY).days  # the first blood donation


def test_climbing_back_cannot_happen_without_thresholds_or_earnings(make_scheme):
    penalty = rule("p_fight", "community.fight", points(-10), direction="penalty")
    no_bands = make_scheme(penalty, rule("r_blood", "donation.blood", points(10)),
                           id="no_bands", bands=[band("A"), band("B")])
    no_rewards = make_scheme(penalty, id="no_rewards",
                             bands=[band("A", min=1000), band("B", max=999)])
    view = asymmetry([no_bands, no_rewards])
    assert view.scheme("no_bands").group("everyone").climb.reason == \
        "the scheme documents no score thresholds"
    climb = view.scheme("no_rewards").group("everyone").climb
    assert climb.status == "cannot" and "nothing can be earned" in climb.reason


def test_the_typical_penalty_is_the_median_deduction(make_scheme):
    scheme = make_scheme(
        rule("p5", "community.fight", points(-5), direction="penalty"),
        rule("p20", "gambling", points(-20), direction="penalty"),
        rule("p50", "family.abuse", points(-50), direction="penalty"),
        rule("p_tiers", "party.discipline", {"kind": "tiers", "attr": "sanction", "tiers": [
            {"value": "warning", "points": -30}]}, direction="penalty"),
        rule("r", "donation.blood", points(10)),
        bands=[band("A", min=1000), band("B", max=999)])
    climb = asymmetry([scheme]).scheme("test_scheme").group("everyone").climb
    assert (climb.penalty_rule, climb.penalty_points) == ("p20", 20)


def test_enterprise_schemes_are_skipped_with_a_reason(make_scheme):
    firm = make_scheme(rule("r", "tax.arrears", points(-1), direction="penalty"),
                       subject_kind="enterprise", id="firm")
    view = asymmetry([firm])
    assert view.schemes == () and view.skipped == {"firm": "scores enterprises, not people"}


def test_groups_and_plans_can_be_given(make_scheme):
    scheme = make_scheme(rule("r", "donation.blood", points(10)))
    plan = Plan("one_gift", "one blood donation", (Act(4, 1, "donation.blood", {"ml": 400}),))
    taxi = Group("taxi", "taxi drivers", roles=("taxi_driver",))
    view = asymmetry([scheme], [taxi], plans=[plan]).scheme("test_scheme")
    assert [g.group for g in view.groups] == ["taxi"]
    assert view.group("taxi").earnable == 10


def test_meritown_staff_and_business_heads_face_more_penalty_rules():
    view = asymmetry([shipped_scheme("meritown_2019")]).scheme("meritown_2019")
    everyone = view.group("everyone")
    assert view.group("civil_servants").penalty_rules > everyone.penalty_rules
    assert view.group("business_owners").exposure > everyone.exposure
    assert view.rules_documented == 389 and view.rules_encoded < 389
    assert {s.id for s in view.statistics} >= {"mt_rural_urban", "mt_all_people_share"}


def test_every_group_has_a_representative_adult():
    assert [g.id for g in GROUPS] == ["everyone", "rural", "urban", "civil_servants",
                                      "teachers", "business_owners"]
    for group in GROUPS:
        assert group.subject().age_on(DAY) >= 18


@pytest.mark.skipif(SHARED is None, reason="../shared absent: statistic quotes NOT checked")
def test_source_statistics_are_quoted_from_their_lines_and_match_the_catalog():
    assert SHARED is not None
    catalog = yaml.safe_load((SHARED / "catalog" / "seed-catalog.yaml").read_text("utf-8"))
    by_id = {s["id"]: s for s in catalog["statistics"]}
    for stat in SOURCE_STATISTICS:
        lines = (SHARED / "seeds" / stat.file).read_text("utf-8").splitlines()
        assert stat.quote in lines[stat.line - 1], stat.id
        if stat.in_catalog:
            entry = by_id[stat.id]
            assert (entry["source"]["file"], entry["source"]["line"]) == (stat.file, stat.line)
            assert entry["value"] == stat.value, stat.id


def test_cli_json(runner):
    result = runner.invoke(asymmetry_command, ["--scheme", "meritown_2019", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    (scheme,) = data["schemes"]
    assert scheme["scheme"] == "meritown_2019" and scheme["rules_documented"] == 389
    assert [g["group"] for g in scheme["groups"]] == [g.id for g in GROUPS]
    assert any("389" in note for note in data["notes"])
    rural = next(s for s in scheme["statistics"] if s["id"] == "mt_rural_urban")
    assert rural["value"]["rural_penalties_pct"] == 28
    assert rural["source"]["line"] == 18


def test_cli_table_sets_the_sources_beside_the_encoded_subset(runner):
    result = runner.invoke(asymmetry_command, ["--scheme", "meritown_2019"])
    assert result.exit_code == 0, result.output
    assert "rules encoded of 389 in the source" in result.output
    assert "28% of penalties" in result.output and "civil servants" in result.output
    assert "Note:" in result.output


def test_cli_variants_only_when_named_and_unknown_schemes_fail(runner):
    result = runner.invoke(asymmetry_command, ["--format", "json"])
    assert result.exit_code == 0
    assert all("@" not in s["scheme"] for s in json.loads(result.output)["schemes"])
    result = runner.invoke(asymmetry_command, ["--scheme", "meritown"])
    assert result.exit_code == 1 and "unknown scheme 'meritown'" in result.output


def test_cli_help_has_an_example(runner):
    result = runner.invoke(asymmetry_command, ["--help"])
    assert result.exit_code == 0 and "Example:" in result.output
