"""creditlab.testing: an auditor's own hypothesis property, run by pytest in its own
folder with the plugin's fixtures."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from hypothesis import given, settings
from hypothesis.strategies import deferred

from creditlab.testing import histories, replay_data, schemes

AUDITOR_TEST = '''
from hypothesis import given, settings
from creditlab.testing import histories

@settings(max_examples=15, deadline=None)
@given(history=histories(scheme="suining_county", max_events=8))
def test_each_entry_moves_the_score_by_what_it_applied(history, creditlab_replay):
    result = creditlab_replay(history, "suining_county")
    for entry in result.ledger:
        assert entry.score_after - entry.score_before == entry.applied

@settings(max_examples=15, deadline=None)
@given(history=histories(scheme="fuzhou_yuming", max_events=8))
def test_fuzhou_stays_within_0_and_1000(history, creditlab_replay, creditlab_scheme):
    scheme = creditlab_scheme("fuzhou_yuming")
    for outcome in creditlab_replay(history, scheme).results:
        assert scheme.scale.min <= outcome.score <= scheme.scale.max

@settings(max_examples=30, deadline=None, database=None)
@given(history=histories(scheme="suining_county", max_events=8))
def test_a_wrong_property_is_falsified(history, creditlab_replay):
    assert all(r.score == r.start for r in creditlab_replay(history, "suining_county").results)
'''


def test_an_auditors_property_runs_with_the_plugin(tmp_path):
    (tmp_path / "test_my_properties.py").write_text(textwrap.dedent(AUDITOR_TEST))
    # The plugin comes from creditlab's pytest11 entry point, as in an auditor's project.
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "test_my_properties.py"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "2 passed" in out and "1 failed" in out
    assert "test_a_wrong_property_is_falsified" in out
    assert "Falsifying example" in out or "Failing test case" in out  # hypothesis versions


@settings(max_examples=10, deadline=None)
# deferred: the strategies load the shipped schemes, which can wait for the first draw.
@given(history=deferred(lambda: histories(scheme="rongcheng_dongdao_lujia", max_events=6)),
       scheme=deferred(schemes))
def test_strategies_give_replayable_histories(history, scheme):
    result = replay_data(history, scheme)
    assert len(result.accounting) == 1
    assert result.accounting[0].events == len(history["events"])
