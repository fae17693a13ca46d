"""The behaviour × scheme matrix and the exchange rates (engine side)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creditlab.engine import InputError, replay, shipped_scheme, shipped_vocabulary
from creditlab.engine.analysis.exchange import MAX_ACTS, exchange
from creditlab.engine.analysis.matrix import REFERENCE_DAY, Persona, behaviour_matrix, behaviours

from conftest import points, rule
from history_builder import history

NAMED = ["meritown_2019", "fuzhou_yuming", "rongcheng_dongdao_lujia", "suining_county"]
VOCABULARY = shipped_vocabulary()


@pytest.fixture(scope="module")
def schemes():
    return [shipped_scheme(s) for s in NAMED]


@pytest.fixture(scope="module")
def matrix(schemes):
    return behaviour_matrix(schemes, VOCABULARY)


def _cell(matrix, code, scheme, **attrs):
    for behaviour, cells in matrix.rows:
        if behaviour.code == code and all(behaviour.attrs.get(k) == v for k, v in attrs.items()):
            return cells[scheme]
    raise AssertionError(f"no row {code} {attrs}")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.sampled_from(NAMED))
def test_a_cell_is_the_delta_of_replaying_a_one_event_history(matrix, data, scheme_id):
    behaviour, cells = data.draw(st.sampled_from(matrix.rows), label="row")
    scheme = shipped_scheme(scheme_id)
    h = history([Persona().subject("p", "person")],
                [behaviour.event("only", "p", REFERENCE_DAY)])
    result = replay(h, [scheme])
    delta = result.results[0].score - scheme.scale.start
    cell = cells[scheme_id]
    assert (cell.points or Decimal(0)) == delta
    assert cell.rules == tuple(e.rule for e in result.ledger)
    assert cell.band_after == result.results[0].band
    assert cell.flags == result.results[0].flags
    if not result.ledger:
        assert cell.status == "not scored" and cell.points is None


def test_representative_attributes_are_documented_defaults(schemes):
    rows = behaviours(VOCABULARY, schemes, ["volunteer.service", "donation.blood"])
    assert [(b.code, dict(b.attrs)) for b in rows] == [
        ("volunteer.service", {"hours": 10}), ("donation.blood", {"ml": 400})]


def test_enum_values_a_scheme_distinguishes_become_rows(schemes, matrix):
    kinds = {b.attrs["kind"] for b in behaviours(VOCABULARY, schemes, ["neighbour.help"])}
    assert kinds == {"prune_tree", "car_out_of_ditch", "read_water_meter", "lend_tools"}
    assert _cell(matrix, "neighbour.help", "rongcheng_dongdao_lujia",
                 kind="read_water_meter").points == Decimal("0.5")


def test_cells_give_points_share_of_scale_band_steps_and_effects(matrix):
    abuse = _cell(matrix, "family.abuse", "meritown_2019")
    assert abuse.points == -50 and abuse.pct_of_scale is None
    assert "no minimum or maximum" in (abuse.pct_reason or "")
    volunteering = _cell(matrix, "volunteer.service", "fuzhou_yuming")
    assert (volunteering.points, volunteering.pct_of_scale) == (10, 1)
    drunk = _cell(matrix, "traffic.drunk_driving", "meritown_2019")
    assert drunk.points is None and drunk.effect == "grade B (worse of)"
    assert drunk.band_steps == -1
    reset = _cell(matrix, "court.judgment_default", "fuzhou_yuming")
    assert reset.points == -500 and "score set to 0" in (reset.effect or "")
    assert "blacklisted" in reset.flags
    assert _cell(matrix, "family.abuse", "suining_county").status == "not scored"


def test_attr_overrides_and_roles_change_the_cells(schemes):
    m = behaviour_matrix(schemes, VOCABULARY, codes=["volunteer.service",
                                                     "teacher.paid_tutoring"],
                         attrs={"hours": "300"}, persona=Persona(("teacher",)))
    assert _cell(m, "volunteer.service", "meritown_2019").points == 50
    assert _cell(m, "teacher.paid_tutoring", "meritown_2019").points == -20
    plain = behaviour_matrix(schemes, VOCABULARY, codes=["teacher.paid_tutoring"])
    assert _cell(plain, "teacher.paid_tutoring", "meritown_2019").status == "not scored"


def test_the_matrix_refuses_unknown_behaviours_and_roles(schemes):
    with pytest.raises(InputError, match=r"did you mean 'family\.abuse'"):
        behaviour_matrix(schemes, VOCABULARY, codes=["family.abus"])
    with pytest.raises(InputError, match="unknown role"):
        behaviour_matrix(schemes, VOCABULARY, persona=Persona(("teachr",)))


# --- exchange ----------------------------------------------------------------------------


def _rows(x, scheme):
    return [r for r in x.rows if r.scheme == scheme]


def _assert_offset_when_replayed(x, schemes):
    for r in x.rows:
        if r.status != "offset":
            continue
        scheme = next(s for s in schemes if s.id == r.scheme)
        result = replay(r.history, [scheme])
        final = result.results[0]
        assert final.score >= scheme.scale.start
        assert not final.flags
        assert result.digest == r.replay_digest
        assert len(r.history.events) == 1 + r.acts



def test_300_hours_of_volunteering_offset_family_abuse_in_meritown(schemes):
    x = exchange("family.abuse", "volunteer.service", schemes, VOCABULARY)
    meritown = _rows(x, "meritown_2019")
    # One rule: 2 points per 10 hours, at most 50 a block. In 10-hour acts, 25 of them.
    (rate,) = meritown
    assert (rate.status, rate.acts, rate.quantity) == ("offset", 25, {"hours": 250})
    assert rate.offence_points == -50 and rate.act_points == 2
    _assert_offset_when_replayed(x, schemes)
    given_size = exchange("family.abuse", "volunteer.service", schemes, VOCABULARY,
                          good_attrs={"hours": "300"})
    only = _rows(given_size, "meritown_2019")
    assert [(r.acts, r.quantity) for r in only] == [(1, {"hours": 300})]
    assert _rows(x, "suining_county")[0].status == "nothing to offset"


def test_a_reclassification_with_no_end_cannot_be_offset(schemes):
    x = exchange("traffic.drunk_driving", "volunteer.service", schemes, VOCABULARY)
    meritown = _rows(x, "meritown_2019")
    assert len(meritown) == 1 and meritown[0].status == "cannot be offset"
    assert "grade to B" in (meritown[0].reason or "")
    fuzhou = _rows(x, "fuzhou_yuming")[0]
    assert fuzhou.status == "offset" and fuzhou.acts == 3
    _assert_offset_when_replayed(x, schemes)


def test_a_reset_cannot_be_offset_and_an_act_without_a_rule_earns_nothing(schemes):
    x = exchange("court.judgment_default", "volunteer.service", schemes, VOCABULARY)
    assert "resets the score" in (_rows(x, "fuzhou_yuming")[0].reason or "")
    blood = exchange("family.abuse", "donation.blood", schemes, VOCABULARY)
    meritown = _rows(blood, "meritown_2019")[0]
    assert meritown.status == "cannot be offset" and "no rule for" in (meritown.reason or "")


def test_a_yearly_cap_spreads_the_acts_over_years(make_scheme):
    capped = make_scheme(
        rule("abuse", "family.abuse", points(-100), direction="penalty"),
        rule("help", "volunteer.service", points(10), cap={"points": 30, "per": "year"}),
        id="capped")
    x = exchange("family.abuse", "volunteer.service", [capped], VOCABULARY)
    r = x.rows[0]
    assert r.status == "offset" and r.acts == 10
    # 3 acts a year (30 points) from June 2020: 2020, 2021, 2022, then 1 January 2023.
    assert r.last_act == date(2023, 1, 1) and r.days == (date(2023, 1, 1) - REFERENCE_DAY).days
    assert any("cap" in n for n in r.limits)
    _assert_offset_when_replayed(x, [capped])


def test_a_frequency_limit_spaces_the_acts(make_scheme):
    limited = make_scheme(
        rule("abuse", "family.abuse", points(-4), direction="penalty"),
        rule("trip", "neighbour.eldercare_trip", points(1),
             frequency={"times": 2, "per": "month"}),
        id="limited")
    x = exchange("family.abuse", "neighbour.eldercare_trip", [limited], VOCABULARY)
    r = x.rows[0]
    assert r.acts == 4 and r.first_act == date(2020, 6, 2) and r.last_act == date(2020, 7, 2)
    _assert_offset_when_replayed(x, [limited])


def test_a_cap_for_all_time_means_it_cannot_be_offset(make_scheme):
    ever = make_scheme(
        rule("abuse", "family.abuse", points(-100), direction="penalty"),
        rule("help", "volunteer.service", points(10), cap={"points": 30}),
        id="ever")
    x = exchange("family.abuse", "volunteer.service", [ever], VOCABULARY)
    r = x.rows[0]
    assert r.status == "cannot be offset"
    assert "adds nothing more after 3 acts" in (r.reason or "")


def test_not_offset_within_the_maximum_number_of_acts(make_scheme):
    slow = make_scheme(
        rule("abuse", "family.abuse", points(-1000), direction="penalty"),
        rule("help", "neighbour.eldercare_trip", points(Decimal("0.5"))), id="slow")
    r = exchange("family.abuse", "neighbour.eldercare_trip", [slow], VOCABULARY).rows[0]
    assert r.status == "cannot be offset" and f"within {MAX_ACTS} acts" in (r.reason or "")
