"""A lapse is dated on its own day everywhere: the ledger, `explain`, the report's timeline.

wang's +50 in weihai_wendeng (volunteering on 2019-03-02, valid one year) lapses on
2020-03-02; before the typed ledger, `explain` and the report dated it on wang's next
event (2019-04-10) and drew AAA only from 2019-03-02 to 2019-04-10.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from click.testing import CliRunner

from creditlab.cli.main import cli
from creditlab.engine import replay_file
from creditlab.engine.analysis.explain import explain
from creditlab.engine.scoring.ledger import Lapsed, LapsesOn
from creditlab.engine.views.charts import ReplayIndex, band_timeline_chart

EXAMPLE = Path(__file__).parent.parent / "fixtures" / "example.yaml"


def _wang_in_wendeng():
    return replay_file(EXAMPLE, ["weihai_wendeng"])


def test_the_lapse_entry_carries_its_own_day_and_the_act_it_reverses():
    result = _wang_in_wendeng()
    gift, lapse = [e for e in result.ledger if e.subject == "wang" and e.event == "e01"]
    assert (gift.kind, gift.at, gift.type, gift.applied) == ("rule", date(2019, 3, 2),
                                                             "volunteer.service", 50)
    assert gift.changes == (LapsesOn(date(2020, 3, 2)),)
    assert (lapse.kind, lapse.at, lapse.type, lapse.applied) == ("lapse", date(2020, 3, 2),
                                                                 "volunteer.service", -50)
    assert lapse.changes == (Lapsed(given_on=date(2019, 3, 2)),)
    assert lapse.as_dict()["changes"] == [{"kind": "lapsed", "given_on": date(2019, 3, 2)}]


def test_explain_tells_the_lapse_on_its_day_in_date_order():
    story = explain(_wang_in_wendeng(), "wang", "weihai_wendeng")
    days = [s.at.date() for s in story.steps]
    assert days == sorted(days)
    lapse = next(s for s in story.steps if s.kind == "lapse")
    assert lapse.at.date() == date(2020, 3, 2)
    out = CliRunner().invoke(cli, ["explain", str(EXAMPLE), "--subject", "wang", "--scheme",
                                   "weihai_wendeng"])
    assert out.exit_code == 0, out.output
    assert "2020-03-02 the +50 points rule wd_r_volunteering gave for e01" in out.output
    assert "2019-04-10 the +50" not in out.output


def test_the_report_draws_aaa_until_the_lapse_day():
    chart = band_timeline_chart(ReplayIndex(_wang_in_wendeng()), "wang")
    assert chart is not None
    bar = chart.figure.data[0]
    labels = list(bar.text)
    starts = [b[:10] for b in bar.base]
    aaa = labels.index("AAA")
    assert starts[aaa] == "2019-03-02"
    assert starts[aaa + 1] == "2020-03-02"
