"""Reforms: what-if edits of a scheme as data (engine/inputs/reform.py).

A reform that changes nothing scores as its base; stacked reforms equal one reform with
both changes, the later winning on the same value; a broken reform is refused with file,
line and field; the CLI applies reforms wherever it takes a scheme, and `show` marks what
changed beside the baseline's value.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creditlab.cli.main import cli
from creditlab.engine import load_history, replay, shipped_vocabulary
from creditlab.engine.errors import SchemeError
from creditlab.engine.inputs.catalog import resolve_schemes, shipped_scheme, shipped_schemes
from creditlab.engine.inputs.located import Located
from creditlab.engine.inputs.reform import (
    AddItem,
    ReformedScheme,
    RemoveItem,
    SetValue,
    apply_changes,
    apply_reform,
    load_reform,
    parse_reform,
    set_value,
)
from creditlab.engine.inputs.scheme import PointsEffect

ROOT = Path(__file__).resolve().parents[1]
REFORMS = ROOT / "fixtures" / "reforms"
RED_LIGHT = REFORMS / "suining-red-light-10.yaml"
EXAMPLE = ROOT / "fixtures" / "example.yaml"
VOCABULARY = shipped_vocabulary()
SUINING = shipped_scheme("suining_county")

# Everything a scheme is but what names it: compared between equal reforms.
OWN = {"id", "file", "sha256", "baseline", "baseline_sha256", "reforms", "changed"}


def _reform(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _points(scheme, rule_id: str) -> Decimal:
    effect = scheme.rule(rule_id).effects[0]
    assert isinstance(effect, PointsEffect)
    return effect.points


# --- applying -----------------------------------------------------------------------------


def test_a_reform_that_changes_nothing_gives_the_bases_results():
    same = apply_changes(SUINING, [], reform_id="nothing", vocabulary=VOCABULARY)
    assert same.id == "suining_county+nothing" and same.sha256 != SUINING.sha256
    assert same.model_dump(exclude=OWN) == SUINING.model_dump(exclude=OWN)
    history = load_history(EXAMPLE, VOCABULARY)
    base = replay(history, [SUINING])
    reformed = replay(history, [same])
    # Under the base's own id, the reformed scheme replays to the very same digest...
    assert replay(history, [same.model_copy(update={"id": SUINING.id})]).digest == base.digest
    # ... and under its own, only the scheme's name differs in the results.
    assert [(r.subject, r.score, r.band) for r in reformed.results] == [
        (r.subject, r.score, r.band) for r in base.results]
    assert reformed.manifest["reforms"] == {"suining_county+nothing": {
        "baseline": "suining_county", "baseline_sha256": SUINING.sha256,
        "reforms": [{"id": "nothing", "sha256": same.reforms[0].sha256}]}}
    assert "reforms" not in base.manifest


def test_the_red_light_reform_changes_the_points_and_records_the_baseline():
    reform, located = load_reform(RED_LIGHT)
    reformed = apply_reform(SUINING, reform, vocabulary=VOCABULARY, located=located)
    assert reformed.id == "suining_county+red-light-10"
    assert _points(reformed, "sn_p_red_light") == -10
    assert reformed.rule("sn_p_red_light").fidelity == "assumed"
    assert reformed.baseline == "suining_county"
    assert reformed.reforms[0].sha256 == reform.sha256 and reform.sha256.startswith("sha256:")
    changed = {c.target: c for c in reformed.changed}
    points = changed["sn_p_red_light.effects[0].points"]
    assert (points.was, points.now, points.note) == (-50, -10, "the source says -50")
    assert (points.part, points.key, points.field) == ("rules", "sn_p_red_light",
                                                       "effects[0].points")
    # Everything else is the base's.
    assert reformed.rules[0] == SUINING.rules[0] and reformed.bands == SUINING.bands


def test_the_sha256_covers_the_base_and_the_reform():
    a = apply_changes(SUINING, [SetValue(set="scale.start", to=900)], reform_id="x",
                      vocabulary=VOCABULARY)
    b = apply_changes(SUINING, [SetValue(set="scale.start", to=900)], reform_id="x",
                      vocabulary=VOCABULARY)
    c = apply_changes(SUINING, [SetValue(set="scale.start", to=800)], reform_id="x",
                      vocabulary=VOCABULARY)
    assert a.sha256 == b.sha256 != c.sha256


@pytest.mark.parametrize("target,value,check", [
    ("sn_p_red_light.points", -10, lambda s: _points(s, "sn_p_red_light") == -10),
    ("sn_p_red_light.effects[0].points", -10, lambda s: _points(s, "sn_p_red_light") == -10),
    ("rules.sn_p_red_light.points", -10, lambda s: _points(s, "sn_p_red_light") == -10),
    ("scale.start", 600, lambda s: s.scale.start == 600),
    ("sn_p_red_light.cap", {"points": 100, "per": "year"},
     lambda s: s.rule("sn_p_red_light").cap.points == 100),
    ("sn_p_red_light.effective_from", date(2015, 1, 1),
     lambda s: str(s.rule("sn_p_red_light").effective_from) == "2015-01-01"),
    ("bands.A.range", {"min": 1000}, lambda s: s.band("A").range.min == 1000),
    ("summary", "changed", lambda s: s.summary == "changed"),
])
def test_set_value_targets(target, value, check):
    changed = set_value(SUINING, target, value, vocabulary=VOCABULARY)
    assert changed.id == SUINING.id and changed.sha256 != SUINING.sha256
    assert check(changed)


def test_set_value_on_caps_and_band_bounds():
    fuzhou = shipped_scheme("fuzhou_yuming")
    capped = next(r for r in fuzhou.rules if r.cap is not None)
    changed = set_value(fuzhou, f"{capped.id}.cap.points", 7, vocabulary=VOCABULARY)
    assert changed.rule(capped.id).cap.points == 7
    band = next(b for b in fuzhou.bands if b.range is not None and b.range.min is not None)
    moved = set_value(fuzhou, f"bands.{band.label}.min", band.range.min - 1,
                      vocabulary=VOCABULARY)
    assert moved.band(band.label).range.min == band.range.min - 1


@pytest.mark.parametrize("target,value,phrase", [
    ("sn_p_red_lite.points", -10, "no rule 'sn_p_red_lite'"),
    ("sn_p_red_light.pionts", -10, "did you mean 'points'"),
    ("scale.strat", 1, "did you mean 'start'"),
    ("sn_p_red_light.points", 1.5, "expected a number"),
    ("sn_p_red_light.points", "-10", "expected a number"),
    ("sn_p_red_light.match.type", "traffic.red_lite", "unknown event type"),
    ("bands.E.min", 1, "no band 'E'"),
    ("bands.A.min", 1, "has no range"),
    ("sn_p_red_light.cap.points", 1, "is not set"),
])
def test_set_value_refuses_naming_the_target(target, value, phrase):
    with pytest.raises(SchemeError) as caught:
        set_value(SUINING, target, value, vocabulary=VOCABULARY)
    assert caught.value.field == target and phrase in caught.value.reason


def test_add_and_remove_rules_and_bands():
    rule = SUINING.rule("sn_p_red_light").model_dump()
    new = {**rule, "id": "sn_p_red_light_again", "fidelity": "assumed", "note": "a copy"}
    added = apply_changes(SUINING, [AddItem(add="rules", item=new, after="sn_p_red_light")],
                          reform_id="add", vocabulary=VOCABULARY)
    ids = [r.id for r in added.rules]
    assert ids[ids.index("sn_p_red_light") + 1] == "sn_p_red_light_again"
    assert [c.was for c in added.changed] == [None]
    removed = apply_changes(added, [RemoveItem(remove="sn_p_red_light_again"),
                                    RemoveItem(remove="bands.D")],
                            reform_id="remove", vocabulary=VOCABULARY)
    assert [r.id for r in removed.rules] == [r.id for r in SUINING.rules]
    assert [b.label for b in removed.bands] == ["A", "B", "C"]
    assert removed.id == "suining_county+add+remove"
    first = shipped_scheme("hangzhou_qianjiang").bands[0].model_dump()
    placed = apply_changes(SUINING, [AddItem(add="bands", item={**first, "label": "A+"},
                                             before="A")],
                           reform_id="band", vocabulary=VOCABULARY)
    assert [b.label for b in placed.bands] == ["A+", "A", "B", "C", "D"]


# --- stacking ----------------------------------------------------------------------------


def test_stacking_two_reforms_on_different_fields_equals_one_with_both():
    one = [SetValue(set="sn_p_red_light.points", to=-10)]
    two = [SetValue(set="scale.start", to=900)]
    stacked = apply_changes(apply_changes(SUINING, one, reform_id="a", vocabulary=VOCABULARY),
                            two, reform_id="b", vocabulary=VOCABULARY)
    both = apply_changes(SUINING, one + two, reform_id="ab", vocabulary=VOCABULARY)
    assert stacked.model_dump(exclude=OWN) == both.model_dump(exclude=OWN)
    assert stacked.id == "suining_county+a+b" and [r.id for r in stacked.reforms] == ["a", "b"]
    assert {(c.target, c.was, c.now) for c in stacked.changed} == {
        (c.target, c.was, c.now) for c in both.changed}
    history = load_history(EXAMPLE, VOCABULARY)
    assert (replay(history, [stacked.model_copy(update={"id": "x"})]).digest
            == replay(history, [both.model_copy(update={"id": "x"})]).digest)


@settings(max_examples=25, deadline=None)
@given(first=st.integers(-1000, 1000), second=st.integers(-1000, 1000))
def test_on_the_same_field_the_later_reform_wins(first, second):
    a = apply_changes(SUINING, [SetValue(set="sn_p_red_light.points", to=first)],
                      reform_id="a", vocabulary=VOCABULARY)
    stacked = apply_changes(a, [SetValue(set="sn_p_red_light.points", to=second)],
                            reform_id="b", vocabulary=VOCABULARY)
    assert _points(stacked, "sn_p_red_light") == second
    # One record for the value: the baseline's, then the last reform's.
    records = [c for c in stacked.changed if c.target == "sn_p_red_light.effects[0].points"]
    assert [(c.was, c.now, c.reform) for c in records] == (
        [(-50, second, "b")] if second != -50 else [])  # back at the baseline: no change
    # Within one reform too, the later change wins.
    one = apply_changes(SUINING, [SetValue(set="sn_p_red_light.points", to=first),
                                  SetValue(set="sn_p_red_light.points", to=second)],
                        reform_id="ab", vocabulary=VOCABULARY)
    assert one.model_dump(exclude=OWN) == stacked.model_dump(exclude=OWN)


def test_a_reform_of_another_scheme_is_refused():
    reform, located = load_reform(REFORMS / "invalid" / "wrong-base.yaml")
    with pytest.raises(SchemeError) as caught:
        apply_reform(SUINING, reform, vocabulary=VOCABULARY, located=located)
    assert caught.value.field == "reform.of" and caught.value.line == 3


# --- refused reform files ----------------------------------------------------------------

INVALID = {
    # file: (line, field, phrase)
    "unknown-rule": (7, "sn_p_red_lite.points", "no rule 'sn_p_red_lite'"),
    "unknown-field": (9, "sn_p_red_light.pionts", "did you mean 'points'"),
    "wrong-type": (7, "sn_p_red_light.points", "expected a number, got 'lots'"),
    "not-finite": (10, "changes[1].to", "not a finite number"),
    "unknown-event-type": (7, "sn_p_red_light.match.type", "unknown event type"),
    "dates-reversed": (9, "sn_p_red_light.effective_to", "effective_from is after"),
    "unknown-operation": (7, "changes[0]", "exactly one of 'set', 'remove', 'add'"),
    "two-operations": (7, "changes[0]", "exactly one of 'set', 'remove', 'add'"),
    "header-key": (6, "reform.reason", "unknown key 'reason'"),
    "wrong-base": (3, "reform.of", "not of 'suining_county'"),
    "rule-without-source": (7, "rules", "missing required key 'source'"),
    "remove-unknown-band": (7, "bands.E", "no band 'E'"),
}


def test_every_invalid_reform_has_a_case():
    assert {p.stem for p in (REFORMS / "invalid").glob("*.yaml")} == set(INVALID)


@pytest.mark.parametrize("name", sorted(INVALID))
def test_an_invalid_reform_is_refused_with_file_line_and_field(name, runner):
    line, field, phrase = INVALID[name]
    path = REFORMS / "invalid" / f"{name}.yaml"
    with pytest.raises(SchemeError) as caught:
        resolve_schemes([f"suining_county+{path}"])
    error = caught.value
    assert Path(error.file or "") == path, error
    assert (error.line, error.field) == (line, field), error
    assert phrase in error.reason, error
    result = runner.invoke(cli, ["replay", str(EXAMPLE), "--scheme", f"suining_county+{path}"])
    assert result.exit_code == 1
    assert f"{path}:{line}: [{field}]" in result.output


def test_a_reform_file_must_be_a_mapping():
    with pytest.raises(SchemeError, match="a reform file is a mapping"):
        parse_reform(Located(["x"], "r.yaml"), "sha256:0")


# --- the command line --------------------------------------------------------------------


def _json(runner, *args: str):
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_plus_and_reform_option_give_the_same_scheme(runner):
    plus = _json(runner, "replay", str(EXAMPLE), "--scheme",
                 f"suining_county+{RED_LIGHT}", "--format", "json")
    option = _json(runner, "replay", str(EXAMPLE), "--scheme", "suining_county",
                   "--reform", str(RED_LIGHT), "--format", "json")
    assert plus == option
    assert list(plus["manifest"]["schemes"]) == ["suining_county+red-light-10"]
    assert plus["manifest"]["reforms"]["suining_county+red-light-10"]["baseline"] == (
        "suining_county")
    scores = {r["subject"]: r["score"] for r in plus["results"]}
    assert scores["wang"] == 990  # the red light at -10, not -50


def test_a_reform_whose_base_is_not_chosen_adds_it(runner):
    data = _json(runner, "replay", str(EXAMPLE), "--scheme", "meritown_2019",
                 "--reform", str(RED_LIGHT), "--format", "json")
    assert set(data["manifest"]["schemes"]) == {"meritown_2019", "suining_county+red-light-10"}


def test_stacked_reform_options_apply_in_order(runner, tmp_path):
    later = _reform(tmp_path, "later", "reform: {id: later, of: suining_county, title: t, "
                                       "why: w}\nchanges:\n  - {set: sn_p_red_light.points, "
                                       "to: -20}\n")
    data = _json(runner, "replay", str(EXAMPLE), "--scheme", "suining_county",
                 "--reform", str(RED_LIGHT), "--reform", str(later), "--format", "json")
    assert list(data["manifest"]["schemes"]) == ["suining_county+red-light-10+later"]
    assert {r["subject"]: r["score"] for r in data["results"]}["wang"] == 980


def test_diff_of_a_baseline_and_its_reform(runner):
    data = _json(runner, "diff", str(EXAMPLE), "--scheme", "suining_county", "--scheme",
                 f"suining_county+{RED_LIGHT}", "--format", "json")
    text = json.dumps(data)
    assert "suining_county+red-light-10" in text and "sn_p_red_light" in text
    table = runner.invoke(cli, ["diff", str(EXAMPLE), "--scheme", "suining_county",
                                "--scheme", f"suining_county+{RED_LIGHT}", "--width", "200"])
    assert table.exit_code == 0 and "sn_p_red_light" in table.output


def test_show_marks_each_change_beside_the_baselines_value(runner):
    table = runner.invoke(cli, ["show", f"suining_county+{RED_LIGHT}", "--width", "200"])
    assert table.exit_code == 0, table.output
    assert "reform of suining_county" in table.output
    assert "effects[0].points was -50" in table.output
    assert "Changed from suining_county" in table.output
    data = _json(runner, "show", "suining_county", "--reform", str(RED_LIGHT), "--format",
                 "json")
    rule = next(r for r in data["rules"] if r["id"] == "sn_p_red_light")
    # Numbers as the rest of the scheme's JSON writes them (exact, as text).
    assert rule["was"]["effects[0].points"] == "-50"
    assert rule["effects"][0]["points"] == "-10"
    assert {"target": "sn_p_red_light.effects[0].points", "was": "-50", "now": "-10"}.items(
        ) <= data["changed"][0].items()
    plain = _json(runner, "show", "suining_county", "--format", "json")
    assert "changed" not in plain and "was" not in plain["rules"][1]


def test_show_refuses_a_reform_of_another_scheme(runner):
    result = runner.invoke(cli, ["show", "meritown_2019", "--reform", str(RED_LIGHT)])
    assert result.exit_code == 2 and "must be of meritown_2019" in result.output


def test_a_plus_part_that_is_not_a_file_is_refused(runner):
    result = runner.invoke(cli, ["replay", str(EXAMPLE), "--scheme", "suining_county+nothing"])
    assert result.exit_code == 1 and "after '+' comes a reform file" in result.output


def test_reformed_schemes_are_schemes_everywhere():
    reformed = resolve_schemes([f"suining_county+{RED_LIGHT}"])[0]
    assert isinstance(reformed, ReformedScheme)
    history = load_history(EXAMPLE, VOCABULARY)
    assert (replay(history, [reformed], backend="columnar").digest
            == replay(history, [reformed], backend="durable").digest)


def test_a_reform_file_alone_applies_to_its_base():
    alone = resolve_schemes([str(RED_LIGHT)])
    assert [s.id for s in alone] == ["suining_county+red-light-10"]


def test_without_schemes_a_reform_reforms_its_base_among_all_shipped():
    chosen = {s.id for s in resolve_schemes([], [RED_LIGHT])}
    assert "suining_county+red-light-10" in chosen and "suining_county" not in chosen
    assert "meritown_2019" in chosen


def test_a_variant_reading_applies_to_its_base_only(tmp_path):
    path = _reform(tmp_path, "v", "reform: {id: other, of: suining_county, title: t, why: w, "
                                  "variant: {reading: another reading}}\nchanges: []\n")
    assert resolve_schemes([str(path)])[0].id == "suining_county@other"
    with pytest.raises(SchemeError) as caught:
        resolve_schemes([f"suining_county+{RED_LIGHT}+{path}"])
    assert caught.value.field == "reform.variant" and caught.value.line == 1


def test_changes_are_recorded_by_key_when_items_move():
    first, second = SUINING.rules[0].id, SUINING.rules[1].id
    reformed = apply_changes(SUINING, [RemoveItem(remove=first),
                                       SetValue(set=f"{second}.points", to=-1)],
                             reform_id="moved", vocabulary=VOCABULARY)
    records = {c.target: (c.was, c.now) for c in reformed.changed}
    assert records[first] == (SUINING.rules[0].model_dump(), None)
    assert records[f"{second}.effects[0].points"] == (-50, -1)


ALL = {s.id: s for s in shipped_schemes() if s.variant is None and s.rules}


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_removing_a_rule_and_adding_it_back_in_place_changes_nothing(data):
    scheme = ALL[data.draw(st.sampled_from(sorted(ALL)))]
    index = data.draw(st.integers(0, len(scheme.rules) - 1))
    rule = scheme.rules[index]
    if any(r.same_act_as == rule.id for r in scheme.rules) or any(
            rule.id in i.rules for i in scheme.interpretations):
        return  # another item names it: removing it alone is refused (tested below)
    place = ({"after": scheme.rules[index - 1].id} if index else
             {"before": scheme.rules[1].id} if len(scheme.rules) > 1 else {})
    back = apply_changes(scheme, [RemoveItem(remove=rule.id),
                                  AddItem(add="rules", item=rule.model_dump(), **place)],
                         reform_id="back", vocabulary=VOCABULARY)
    assert back.model_dump(exclude=OWN) == scheme.model_dump(exclude=OWN)
    assert back.changed == ()  # the rule is back as it was: nothing to mark


def test_a_value_set_back_to_the_baselines_is_no_change():
    there = apply_changes(SUINING, [SetValue(set="scale.start", to=900)], reform_id="a",
                          vocabulary=VOCABULARY)
    back = apply_changes(there, [SetValue(set="scale.start", to=1000)], reform_id="b",
                         vocabulary=VOCABULARY)
    assert [c.target for c in there.changed] == ["scale.start"] and back.changed == ()


def test_removing_a_rule_another_names_is_refused():
    fuzhou = shipped_scheme("fuzhou_yuming")
    named = next(r.same_act_as for r in fuzhou.rules if r.same_act_as)
    with pytest.raises(SchemeError) as caught:
        apply_changes(fuzhou, [RemoveItem(remove=named)], reform_id="x", vocabulary=VOCABULARY)
    assert caught.value.field == named and "unknown rule" in caught.value.reason
