"""A grade given as a starting point holds while the score stays in the band it started in.

Meritown's A holds every score from 1,000 up (the floor of AAA is not documented); a
history may still say a person starts as AAA at 1,050 ("a drunk driving conviction
automatically reclassifies an AAA person to a B"). The given grade shows until the score
itself moves to another band (or to none), the same in both backends.
"""

from __future__ import annotations

from datetime import date

from creditlab.engine import replay, shipped_scheme

from history_builder import history, person

MERITOWN = shipped_scheme("meritown_2019")


def test_a_given_grade_holds_until_the_score_leaves_its_starting_band() -> None:
    h = history([person("chen", born=date(1970, 1, 1))],
                [{"id": "e1", "subject": "chen", "at": date(2019, 3, 1),
                  "type": "volunteer.service", "hours": 10},
                 {"id": "e2", "subject": "chen", "at": date(2019, 4, 1),
                  "type": "family.abuse"},
                 {"id": "e3", "subject": "chen", "at": date(2019, 5, 1),
                  "type": "family.abuse"}],
                starting=[{"subject": "chen", "scheme": "meritown_2019", "score": 1050,
                           "grade": "AAA"}])
    durable = replay(h, [MERITOWN])
    # 1050 AAA -> +2: 1052, still A by score, so still AAA -> -50: 1002, still A: AAA
    # -> -50: 952, no band by score (below 1,000 nothing is documented): no band.
    assert [(e.score_after, e.band_after) for e in durable.ledger] == [
        (1052, "AAA"), (1002, "AAA"), (952, None)]
    columnar = replay(h, [MERITOWN], backend="columnar")
    assert columnar.digest == durable.digest
    assert [(e.score_after, e.band_after) for e in columnar.ledger] == [
        (1052, "AAA"), (1002, "AAA"), (952, None)]
