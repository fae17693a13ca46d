"""Every command's output fits 80, 120 and 200 columns, and never breaks an id or a number.

For each command and width: no line is longer than the width (in terminal cells, as
`rich.cells.cell_len` counts them), every scheme, subject, rule or event-type id the data
holds appears whole somewhere in the output (or is named as left out, with how to see
it), and the scores are written whole.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.cells import cell_len

from creditlab.cli.main import cli
from creditlab.engine import shipped_scheme, shipped_schemes, shipped_vocabulary

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = str(ROOT / "fixtures" / "example.yaml")
POPULATION = str(ROOT / "fixtures" / "population.jsonl")
WIDTHS = (80, 120, 200)
SHIPPED = [s.id for s in shipped_schemes() if s.variant is None]
PERSON_SCHEMES = [s.id for s in shipped_schemes()
                  if s.variant is None and s.subject_kind == "person"]
SUBJECTS = ["lu", "sun", "wang", "zhao"]
TWO = ["meritown_2019", "suining_county"]
THREE = ["meritown_2019", "fuzhou_yuming", "rongcheng_dongdao_lujia"]


def scheme_args(ids: list[str]) -> list[str]:
    return [arg for sid in ids for arg in ("--scheme", sid)]


def run(args: list[str], width: int, *, via: str = "COLUMNS") -> str:
    """The command's stdout at `width` columns, given by COLUMNS or by --width."""
    if via == "COLUMNS":
        result = CliRunner(env={"COLUMNS": str(width)}).invoke(cli, args,
                                                               catch_exceptions=False)
    else:
        result = CliRunner(env={"COLUMNS": None}).invoke(cli, [*args, "--width", str(width)],
                                                         catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def whole(word: str, text: str) -> bool:
    """`word` appears in `text` unbroken, not as a part of a longer id."""
    return re.search(rf"(?<![\w@]){re.escape(word)}(?![\w@])", text) is not None


def check(text: str, width: int, ids: list[str]) -> None:
    long = [line for line in text.splitlines() if cell_len(line) > width]
    assert not long, f"{len(long)} line(s) longer than {width}: {long[0]!r}"
    missing = [i for i in ids if not whole(i, text)]
    assert not missing, f"not whole in the output at {width} columns: {missing}"


def scores(args: list[str]) -> list[str]:
    """The final scores a replay gives, as the tables write them."""
    data = json.loads(CliRunner().invoke(cli, [*args, "--format", "json"]).output)
    return sorted({format(float(r["score"]), "g") if "." in str(r["score"])
                   else str(r["score"]) for r in data["results"]})


CASES: dict[str, tuple[list[str], list[str]]] = {
    "replay": (["replay", EXAMPLE], SHIPPED + SUBJECTS),
    "replay-two": (["replay", EXAMPLE, *scheme_args(TWO)], TWO + SUBJECTS),
    "replay-explain": (["replay", EXAMPLE, "--explain", *scheme_args(["weihai_wendeng"])],
                       ["weihai_wendeng", "wd_r_volunteering", *SUBJECTS]),
    "schemes": (["schemes"], [s.id for s in shipped_schemes()]),
    "schemes-coverage": (["schemes", "--coverage"], [s.id for s in shipped_schemes()]),
    "show": (["show", "weihai_wendeng"],
             ["weihai_wendeng", *(r.id for r in shipped_scheme("weihai_wendeng").rules)]),
    "explain": (["explain", EXAMPLE, "--subject", "lu"], PERSON_SCHEMES),
    "diff": (["diff", EXAMPLE, *scheme_args(THREE)], THREE + SUBJECTS),
    "compare": (["compare", POPULATION, *scheme_args(TWO)], TWO),
    "matrix": (["matrix", "--behaviour", "volunteer.service", "--behaviour", "family.abuse",
                *scheme_args(THREE)], [*THREE, "volunteer.service", "family.abuse"]),
    "exchange": (["exchange", "family.abuse", "--with", "volunteer.service",
                  *scheme_args(THREE)], THREE),
    "asymmetry": (["asymmetry", *scheme_args(["meritown_2019", "fuzhou_yuming"])],
                  ["meritown_2019", "fuzhou_yuming"]),
    "vocabulary": (["vocabulary"], list(shipped_vocabulary().events)),
    "test": (["test", str(ROOT / "tests" / "scenarios" / "suining_county")], []),
}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_every_command_fits_and_keeps_ids_whole(name, width, monkeypatch):
    monkeypatch.chdir(ROOT)  # files are named relative to the working directory
    args, ids = CASES[name]
    text = run(args, width)
    check(text, width, ids)
    if name.startswith("replay") and "--explain" not in args:
        check(text, width, scores(args))


@pytest.mark.parametrize("width", WIDTHS)
def test_lint_fits_and_names_each_rule_and_file_whole(width):
    data = json.loads(CliRunner().invoke(cli, ["lint", "--format", "json"]).output)
    ids = sorted({f["rule"] for f in data["findings"] if f["rule"]}
                 | {Path(f["file"]).name for f in data["findings"]})
    text = CliRunner(env={"COLUMNS": str(width)}).invoke(cli, ["lint"]).output
    check(text, width, ids)
    assert str(ROOT) not in text or Path.cwd() != ROOT  # paths relative to where it runs


@pytest.mark.parametrize("width", WIDTHS)
def test_audit_fits(width, tmp_path):
    from creditlab.engine.checks.audit import PROPERTIES

    text = run(["audit", "suining_county", "--max-examples", "2", "--max-events", "3",
                "--counterexamples", str(tmp_path)], width)
    check(text, width, ["suining_county", *(p.name for p in PROPERTIES)])


def test_width_option_wins_over_columns():
    text = CliRunner(env={"COLUMNS": "200"}).invoke(
        cli, ["schemes", "--width", "80"], catch_exceptions=False).output
    check(text, 80, [s.id for s in shipped_schemes()])
    assert max(cell_len(line) for line in text.splitlines()) > 60


@pytest.mark.parametrize("width", WIDTHS)
def test_width_option_fits_the_replay(width):
    text = run(["replay", EXAMPLE], width, via="--width")
    check(text, width, SHIPPED + SUBJECTS)


def test_many_schemes_turn_the_replay_and_page_by_people():
    flat = " ".join(run(["replay", EXAMPLE], 80).split())
    assert "(people 1–2 of 4)" in flat and "(people 3–4 of 4)" in flat
    assert "what each scheme did with each event" not in flat  # the wide table did not fit


def test_people_left_out_are_named_with_how_to_see_them(tmp_path):
    history = tmp_path / "many.yaml"
    people = [f"person_{n:02}" for n in range(30)]
    history.write_text(
        "subjects:\n" + "".join(f"  - {{id: {p}, kind: person}}\n" for p in people)
        + "events:\n" + "".join(
            f"  - {{id: e{n}, subject: {p}, at: 2020-01-0{1 + n % 9}, "
            "type: traffic.red_light, as: driver}\n" for n, p in enumerate(people)),
        encoding="utf-8")
    text = run(["replay", str(history), *scheme_args(SHIPPED)], 80)
    check(text, 80, people)
    match = re.search(r"(\d+) more people not shown \(--subject ID, or --width (\d+)\)", text)
    assert match, text[-600:]
    assert 0 < int(match.group(1)) < 30
    one = run(["replay", str(history), *scheme_args(SHIPPED), "--subject", "person_29"], 80)
    check(one, 80, ["person_29"])
    assert not whole("person_00", one)


def test_a_lapse_has_its_own_row_on_its_own_day():
    text = run(["replay", EXAMPLE, "--scheme", "weihai_wendeng"], 120)
    event = next(line for line in text.splitlines() if "e01 volunteer.service" in line)
    lapse = next(line for line in text.splitlines() if "e01 lapse" in line)
    assert event.split()[0] == "2019-03-02" and event.rstrip().endswith("+50")
    assert lapse.split()[0] == "2020-03-02" and lapse.rstrip().endswith("-50")


def test_a_missing_attribute_has_its_own_glyph(tmp_path):
    history = tmp_path / "missing.yaml"
    history.write_text(
        "subjects:\n  - {id: li, kind: person, residence: urban, born: 1980-01-01}\n"
        "events:\n"
        "  - {id: e1, subject: li, at: 2020-03-01, type: traffic.administrative_penalty, "
        "penalty: fine}\n", encoding="utf-8")  # no fine_rmb: Wendeng's points depend on it
    text = run(["replay", str(history), "--scheme", "weihai_wendeng", "--scheme",
                "wuhu_lehui"], 120)  # Wuhu's source gives no number
    row = next(line for line in text.splitlines() if line.strip().startswith("2020-03-01"))
    assert row.split()[-2:] == ["∅", "?"]
    assert "∅ a rule fired but the event lacks the attribute" in text
    assert "? a rule fired but its source gives no number" in text


def test_an_unknown_subject_is_wrong_usage_with_a_suggestion():
    result = CliRunner().invoke(cli, ["replay", EXAMPLE, "--subject", "wnag"])
    assert result.exit_code == 2
    assert "did you mean 'wang'?" in result.output
