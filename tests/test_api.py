"""The Python API at the top: `creditlab.replay`, its result, and the README's example."""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import creditlab
from creditlab.cli.main import cli
from creditlab.engine.canonical import plain
from creditlab.engine.inputs.history_files import parse_history
from creditlab.engine.inputs.located import Located

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "fixtures" / "example.yaml"


def test_public_names_change_only_on_purpose():
    assert sorted(creditlab.__all__) == [
        "CreditlabError", "History", "LedgerEntry", "ReplayResult", "Scheme", "__version__",
        "load_history", "load_scheme", "replay", "shipped_scheme", "shipped_schemes",
        "shipped_vocabulary"]


def test_the_readme_python_example_runs_as_written():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Python API"):]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None, "the README's Python API section has no python example"
    done = subprocess.run([sys.executable, "-c", code.group(1)], cwd=ROOT, text=True,
                          capture_output=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "2020-03-02 e01 wd_r_volunteering -50" in done.stdout


def test_the_digest_is_the_command_line_s():
    r = creditlab.replay(EXAMPLE, schemes=["meritown_2019", "suining_county"])
    out = CliRunner().invoke(cli, ["replay", str(EXAMPLE), "--scheme", "meritown_2019",
                                   "--scheme", "suining_county", "--format", "json",
                                   "--explain"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["digest"] == r.digest
    assert data == plain(r.as_dict(explain=True))


def test_schemes_may_be_ids_paths_or_scheme_objects():
    by_id = creditlab.replay(str(EXAMPLE), schemes=["suining_county"])
    path = Path(creditlab.shipped_scheme("suining_county").file)
    by_path = creditlab.replay(EXAMPLE, schemes=[path])
    by_object = creditlab.replay(EXAMPLE, schemes=[creditlab.shipped_scheme("suining_county")])
    assert by_id.digest == by_path.digest == by_object.digest


def test_a_history_object_replays_like_its_file():
    history = creditlab.load_history(EXAMPLE, creditlab.shipped_vocabulary())
    assert creditlab.replay(history, ["fuzhou_yuming"]).digest == \
        creditlab.replay(EXAMPLE, ["fuzhou_yuming"]).digest


def test_the_manifest_is_the_engine_s_own():
    r = creditlab.replay(EXAMPLE, ["fuzhou_yuming"])
    assert r.manifest["creditlab"] == creditlab.__version__
    assert r.manifest["vocabulary"] == creditlab.shipped_vocabulary().sha256
    assert r.manifest["vocabulary"].startswith("sha256:")
    assert r.manifest["history"] == r.history.sha256


def test_frames_carry_dates_types_and_sources():
    r = creditlab.replay(EXAMPLE, ["weihai_wendeng", "suining_county"])
    ledger = r.ledger_frame()
    assert list(ledger.columns[:4]) == ["kind", "at", "event", "type"]
    lapse = ledger[ledger["kind"] == "lapse"].iloc[0]
    assert (lapse["at"], lapse["event"], list(lapse["effects"])) == (
        datetime.date(2020, 3, 2), "e01", ["lapsed"])
    seeded = ledger[ledger["scheme"] == "suining_county"].iloc[0]
    source = creditlab.shipped_scheme("suining_county").rule(seeded["rule"]).source
    assert (seeded["source_file"], seeded["source_line"]) == (source.file, source.line)
    assert r.results_frame().attrs["digest"] == r.digest


def test_the_notebook_view_escapes_what_a_history_says(tmp_path):
    data = {"subjects": [{"id": '<img src=x onerror="alert(1)">', "kind": "person"}],
            "events": [{"id": "e1", "subject": '<img src=x onerror="alert(1)">',
                        "at": "2020-01-01", "type": "volunteer.service", "hours": 10}],
            "name": "<script>alert(2)</script>"}
    history = parse_history(Located(data, "<test>", {}), "sha256:0",
                            creditlab.shipped_vocabulary())
    page = creditlab.replay(history, ["suining_county"])._repr_html_()
    assert "<img" not in page and "<script>" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page


def test_importing_creditlab_loads_no_analysis_library():
    code = "import creditlab, sys; print(sorted(m for m in ('pandas', 'scipy', 'plotly') " \
           "if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], text=True, capture_output=True,
                          check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert done.stdout.strip() == "[]"


def test_an_unknown_scheme_is_an_error_naming_it():
    with pytest.raises(creditlab.CreditlabError, match="fuzhou_yumin"):
        creditlab.replay(EXAMPLE, ["fuzhou_yumin"])
