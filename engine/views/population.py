"""The report's "Population" section: how bands and scores fall across groups of people.

Built from two frames, never from ledger entries, so that the same section serves the four
people of an example and a city of a million replayed by a columnar backend:

- `outcomes`: one row per (subject, scheme): `subject`, `scheme`, `score` (any numeric
  dtype, or exact decimals), `band` (null where no band applies);
- `subjects`: one row per subject: `id`, `kind`, `born` (a date, or null), `residence`,
  `hukou`, `roles` (a list of role names, possibly empty).

`outcomes_frame` and `subjects_frame` make them from a `Replay`. For each scheme that
scores people, `population_charts` draws one figure: on the left, the share of each group
in each band (everyone, then by residence, hukou, age band on the day evaluated, and role:
a person with two roles counts in both); on the right, the distribution of scores in each
group (lowest, quartiles, highest) on the scheme's documented scale, or in its points
where no scale is documented. Only aggregates enter the figures: their size does not grow
with the number of people. `population_section` puts them on the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from creditlab.engine.analysis.groups import AGE_BANDS
from creditlab.engine.describe import number
from creditlab.engine.inputs.history import History
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.scoring.replay import Replay
from creditlab.engine.views.chart_base import NO_BAND, Chart, band_colour, escaped, scheme_title
from creditlab.engine.views.page import esc, figure_html

__all__ = ["AGE_BANDS", "POPULATION_FROM", "outcomes_frame", "population_charts",
           "population_section", "subjects_frame"]

POPULATION_FROM = 50
"""The report shows the Population section for a history of more than this many people
(or when asked): below it, the per-person charts say more than shares do."""

_NOT_GIVEN = "not given"
_NO_BAND_LABEL = "no band"
_DIMENSIONS = (("residence", "residence"), ("hukou", "hukou"), ("age", "age"),
               ("role", "role"))


def outcomes_frame(result: Replay) -> pd.DataFrame:
    """A replay's outcomes as the frame `population_section` reads (scores exact)."""
    return pd.DataFrame({"subject": [o.subject for o in result.results],
                         "scheme": [o.scheme for o in result.results],
                         "score": [o.score for o in result.results],
                         "band": [o.band for o in result.results]})


def subjects_frame(history: History) -> pd.DataFrame:
    """A history's subjects as the frame `population_section` reads."""
    subjects = list(history.subjects.values())
    return pd.DataFrame({"id": [s.id for s in subjects], "kind": [s.kind for s in subjects],
                         "born": [s.born for s in subjects],
                         "residence": [s.residence for s in subjects],
                         "hukou": [s.hukou for s in subjects],
                         "roles": [list(s.roles) for s in subjects]})


def _age_band(born: pd.Series, on: date) -> pd.Series:
    """Each birthday's age band on `on` ("not given" for none)."""
    days = pd.to_datetime(born, errors="coerce")
    before = (days.dt.month > on.month) | ((days.dt.month == on.month) & (days.dt.day > on.day))
    age = on.year - days.dt.year - before.astype("Int64")
    edges = [a for a, _ in AGE_BANDS] + [1000]
    bands = pd.cut(age.astype("float64"), bins=edges, right=False,
                   labels=[label for _, label in AGE_BANDS])
    return bands.astype("object").where(bands.notna(), _NOT_GIVEN)


@dataclass(frozen=True)
class _Group:
    """One group of people in one scheme: its label, size, band shares, score quantiles."""

    label: str
    size: int
    shares: dict[str, float]
    quantiles: tuple[float, ...]


_QUANTILES = (0.0, 0.25, 0.5, 0.75, 1.0)


def _who(subjects: pd.DataFrame, on: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Who each subject is (residence, hukou, age band), and their roles, one row per
    (subject, role), "no role" for none. Made once, joined to each scheme's outcomes."""
    who = pd.DataFrame({"subject": subjects["id"]})
    for column in ("residence", "hukou"):
        values = subjects[column] if column in subjects else pd.Series(None, index=who.index)
        who[column] = values.astype("object").where(values.notna(), _NOT_GIVEN)
    who["age"] = _age_band(subjects["born"], on) if "born" in subjects else _NOT_GIVEN
    roles = pd.DataFrame({"subject": subjects["id"],
                          "role": subjects.get("roles")})
    roles = roles.explode("role")
    roles["role"] = roles["role"].astype("object").where(roles["role"].notna(), "no role")
    return who, roles.drop_duplicates()


def _summaries(label: str, scores: pd.DataFrame, by: str | None,
               order: Sequence[str] | None = None) -> list[_Group]:
    """Band shares and score quantiles of `scores` (columns score, band and `by`), per
    value of `by` (everyone when None), in `order` or sorted, "not given" last."""
    if by is None:
        keyed = scores.assign(_all="everyone")
        by, label = "_all", ""
    else:
        keyed = scores
    sizes = keyed.groupby(by, sort=False).size()
    shares = keyed.groupby(by, sort=False)["band"].value_counts(normalize=True)
    quantiles = keyed.groupby(by, sort=False)["score"].quantile(list(_QUANTILES))
    values = [v for v in (order if order is not None else sorted(
        v for v in sizes.index if v != _NOT_GIVEN)) if v in sizes.index]
    if _NOT_GIVEN in sizes.index:
        values.append(_NOT_GIVEN)
    if label and values == [_NOT_GIVEN]:
        return []  # nobody says: no group worth a row
    return [_Group(f"{label}: {v}" if label else str(v), int(sizes[v]),
                   {str(b): float(x) for b, x in shares[v].items()},
                   tuple(float(quantiles[v][q]) for q in _QUANTILES)) for v in values]


def _groups(outcomes: pd.DataFrame, who: pd.DataFrame, roles: pd.DataFrame) -> list[_Group]:
    """Everyone, then each residence, hukou, age band and role, in one scheme's outcomes."""
    scores = outcomes[["subject", "score", "band"]]
    joined = scores.merge(who, on="subject", how="left")
    for column in ("residence", "hukou", "age"):
        joined[column] = joined[column].astype("object").where(joined[column].notna(),
                                                               _NOT_GIVEN)
    out = _summaries("everyone", joined, None)
    for column, name in _DIMENSIONS:
        if column == "role":
            out += _summaries(name, scores.merge(roles, on="subject", how="inner"), "role")
        else:
            order = [label for _, label in AGE_BANDS] if column == "age" else None
            out += _summaries(name, joined, column, order)
    return out


def _outcomes(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Outcomes with scores as floats (for drawing) and "no band" for none."""
    score = outcomes["score"]
    if score.dtype == object:
        score = score.map(lambda v: float(v) if isinstance(v, (Decimal, int, float)) else None)
    band = outcomes["band"].astype("object")
    return pd.DataFrame({"subject": outcomes["subject"], "scheme": outcomes["scheme"],
                         "score": pd.to_numeric(score, errors="coerce").astype("float64"),
                         "band": band.where(band.notna(), _NO_BAND_LABEL)})


def _band_order(scheme: Scheme, present: Sequence[str]) -> list[str]:
    known = [b.label for b in scheme.bands if b.label in present]
    return known + sorted(b for b in present if b not in known and b != _NO_BAND_LABEL) + \
        ([_NO_BAND_LABEL] if _NO_BAND_LABEL in present else [])


def _scheme_chart(scheme: Scheme, groups: Sequence[_Group]) -> Chart:
    labels = [escaped(f"{g.label} ({g.size:,})") for g in groups]
    bands = _band_order(scheme, sorted({b for g in groups for b in g.shares}))
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.03,
                        column_widths=[0.55, 0.45],
                        subplot_titles=["share of each group in each band (%)",
                                        "scores: lowest, quartiles, highest"])
    for band in bands:
        values = [g.shares.get(band, 0.0) * 100 for g in groups]
        colour = NO_BAND if band == _NO_BAND_LABEL else band_colour(scheme, band)
        fig.add_trace(go.Bar(
            orientation="h", y=labels, x=values, name=escaped(band),
            marker={"color": colour, "line": {"color": "#ffffff", "width": 0.5}},
            text=[f"{v:.0f} %" if v >= 8 else "" for v in values], textposition="inside",
            hovertext=[f"<b>{lab}</b>: {v:.1f} % {escaped(band)}" for lab, v in
                       zip(labels, values, strict=True)], hoverinfo="text"), row=1, col=1)
    fig.add_trace(go.Box(
        orientation="h", y=labels, lowerfence=[g.quantiles[0] for g in groups],
        q1=[g.quantiles[1] for g in groups], median=[g.quantiles[2] for g in groups],
        q3=[g.quantiles[3] for g in groups], upperfence=[g.quantiles[4] for g in groups],
        name="scores", showlegend=False, marker={"color": "#3d444d"},
        fillcolor="rgba(43,140,190,0.35)", line={"color": "#2b6f99"}), row=1, col=2)
    lo, hi = scheme.scale.min, scheme.scale.max
    if lo is not None and hi is not None:
        pad = float(hi - lo) * 0.03
        fig.update_xaxes(range=[float(lo) - pad, float(hi) + pad],
                         title_text=f"score (documented scale {number(lo)}–{number(hi)})",
                         row=1, col=2)
        axis = f"on the scheme's documented scale, {number(lo)} to {number(hi)}"
    else:
        fig.update_xaxes(title_text="score (points; no documented scale)", row=1, col=2)
        axis = (f"in the scheme's points (the sources give no lowest and highest score; "
                f"the start is {number(scheme.scale.start)})")
    fig.update_xaxes(range=[0, 100], title_text="% of the group", row=1, col=1)
    fig.update_yaxes(autorange="reversed")
    people = groups[0].size if groups else 0
    fig.update_layout(barmode="stack", height=170 + 24 * len(groups),
                      margin={"t": 40, "b": 40, "l": 10, "r": 10},
                      legend={"orientation": "h", "y": -0.12 - 40 / (170 + 24 * len(groups)),
                              "traceorder": "normal", "title": {"text": "band"}})
    caption = (
        f"Where the {people:,} people this scheme scores end, group by group (the number "
        "of people in each group is in brackets; a person with several roles counts in "
        "each, one with none under 'no role'; ages on the day evaluated). Left: the share "
        "of the group in each band, best first, grey where no band applies. Right: the "
        f"spread of the final scores, {axis}: the box holds the middle half of the group, "
        "the line inside it is the median, the whiskers reach the lowest and highest "
        "score. Compare groups within this scheme, not with another scheme.")
    return Chart("population", scheme_title(scheme), fig, caption, scheme=scheme.id)


def population_charts(outcomes: pd.DataFrame, subjects: pd.DataFrame,
                      schemes: Sequence[Scheme], *, on: date) -> list[Chart]:
    """One chart per scheme of `schemes` that has outcomes: band shares and score spread by
    group. `on` is the day ages are counted on (the history's evaluation day)."""
    scored = _outcomes(outcomes)
    who, roles = _who(subjects, on)
    charts = []
    for scheme in schemes:
        mine = scored[scored["scheme"] == scheme.id]
        if len(mine):
            charts.append(_scheme_chart(scheme, _groups(mine, who, roles)))
    return charts


def population_section(outcomes: pd.DataFrame, subjects: pd.DataFrame,
                       schemes: Sequence[Scheme], *, on: date, first_figure: int = 1) -> str:
    """The HTML of the Population section's body: a paragraph and a figure per scheme,
    numbered from `first_figure` (the page numbers its figures in order)."""
    charts = population_charts(outcomes, subjects, schemes, on=on)
    people = subjects["id"].nunique() if "id" in subjects else 0
    parts = [f"<p>{people:,} subjects, evaluated on {esc(on.isoformat())}. For each scheme, "
             "how its final bands and scores fall across groups of people: by residence, "
             "hukou, age band and role. Read from the final outcomes of the replay, "
             "not from individual ledger entries.</p>"]
    if not charts:
        parts.append("<p>No scheme scored any of these subjects.</p>")
    parts += [figure_html(c, n) for n, c in enumerate(charts, start=first_figure)]
    return "\n".join(parts)
