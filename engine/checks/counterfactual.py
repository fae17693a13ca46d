"""Counterfactual group checks: the same histories with one subject attribute flipped.

Each subject's history is replayed twice, as given and with one attribute flipped
(residence urban <-> rural, hukou local <-> non_local, or one role added / removed),
everything else equal. Replay keeps each subject's standing apart, so one replay of the
whole flipped population is each subject's own counterfactual. How often and how far the
score and the band move is tabulated by group (the subject's original value) with
fairlearn's `MetricFrame`: overall, by group, difference and ratio.

A ratio below 0.8 (the between-groups minimum over maximum) is flagged, after the
disparity tolerance Aequitas uses by default (tau = 0.8: a group's metric within 0.8 to
1.25 of the reference is "fair"). Aequitas itself is not used: its crosstabs are built
for binary classifications, not for score movements.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from fairlearn.metrics import MetricFrame

from creditlab.engine.inputs.history import History
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.inputs.vocabulary import Vocabulary, shipped_vocabulary
from creditlab.engine.scoring.replay import Backend, replay

__all__ = [
    "DISPARITY_THRESHOLD",
    "Flip",
    "FlipReport",
    "flip_check",
    "history_data",
    "parse_flip",
]

DISPARITY_THRESHOLD = 0.8
"""Aequitas' default disparity tolerance: a between-groups ratio below it is flagged."""

_FLAGGED = ("score_moved", "band_moved", "mean_abs_shift")
"""The metrics whose ratio is meaningful (non-negative); mean_shift has a sign."""


@dataclass(frozen=True)
class Flip:
    """One subject attribute to flip: residence, hukou, or a role (added or removed)."""

    attribute: str
    role: str | None = None

    @property
    def label(self) -> str:
        return f"role={self.role}" if self.role else self.attribute

    def group(self, subject: dict[str, Any]) -> str | None:
        """The subject's group before the flip; None when the value is unknown."""
        if self.role is not None:
            return self.role if self.role in subject.get("roles", []) else f"not {self.role}"
        value = subject.get(self.attribute)
        return str(value) if value is not None else None

    def apply(self, subject: dict[str, Any]) -> dict[str, Any]:
        out = dict(subject)
        if self.role is not None:
            roles = set(subject.get("roles", []))
            roles ^= {self.role}
            out["roles"] = sorted(roles)
        else:
            pair = {"residence": ("urban", "rural"), "hukou": ("local", "non_local")}[
                self.attribute]
            out[self.attribute] = pair[1] if subject[self.attribute] == pair[0] else pair[0]
        return out


def parse_flip(text: str, vocabulary: Vocabulary | None = None) -> Flip:
    """`residence`, `hukou` or `role=NAME`; raises ValueError with the choices."""
    voc = vocabulary or shipped_vocabulary()
    if text in ("residence", "hukou"):
        return Flip(text)
    if text.startswith("role="):
        role = text.removeprefix("role=")
        if role not in voc.roles:
            raise ValueError(f"unknown role {role!r}; roles: {', '.join(voc.roles)}")
        return Flip("role", role)
    raise ValueError(f"cannot flip {text!r}: use residence, hukou or role=NAME")


@dataclass(frozen=True)
class FlipReport:
    """How one flip moves one scheme's scores and bands, overall and by group."""

    scheme: str
    flip: str
    subjects: int
    not_flippable: int
    overall: dict[str, float]
    by_group: dict[str, dict[str, float]]
    counts: dict[str, int]
    difference: dict[str, float]
    ratio: dict[str, float]
    flags: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"scheme": self.scheme, "flip": self.flip, "subjects": self.subjects,
                "not_flippable": self.not_flippable, "overall": self.overall,
                "by_group": self.by_group, "counts": self.counts,
                "difference": self.difference, "ratio": self.ratio, "flags": list(self.flags),
                "threshold": DISPARITY_THRESHOLD}


def history_data(history: History) -> dict[str, Any]:
    """A History back as plain data (the YAML shape), for flipping and replaying."""
    subjects = [s.model_dump(exclude_none=True) | {"roles": list(s.roles)}
                for s in history.subjects.values()]
    events = [{"id": e.id, "subject": e.subject, "at": e.at, "type": e.type, **e.attrs}
              for e in history.events]
    return {"as_of": history.as_of, "subjects": subjects, "events": events} \
        if history.as_of else {"subjects": subjects, "events": events}


def flip_check(data: dict[str, Any], schemes: Sequence[Scheme], flip: Flip,
               vocabulary: Vocabulary | None = None,
               backend: Backend = "durable") -> list[FlipReport]:
    """Replay `data` as given and flipped through each scheme; one report per scheme."""
    from creditlab.engine.checks.audit import history_from_data

    voc = vocabulary or shipped_vocabulary()
    groups = {s["id"]: flip.group(s) for s in data["subjects"]}
    flipped = {**data, "subjects": [flip.apply(s) if groups[s["id"]] is not None else s
                                    for s in data["subjects"]]}
    before = replay(history_from_data(data, voc), schemes, backend=backend)
    after = replay(history_from_data(flipped, voc), schemes, backend=backend)
    moved = {(r.subject, r.scheme): r for r in after.results}
    reports = []
    for scheme in sorted(schemes, key=lambda s: s.id):
        rows = [(r, moved[(r.subject, r.scheme)]) for r in before.results
                if r.scheme == scheme.id]
        usable = [(a, b) for a, b in rows if groups[a.subject] is not None]
        reports.append(_report(scheme.id, flip.label, usable, len(rows) - len(usable), groups))
    return reports


def _rate(y_true: Any, y_pred: Any) -> float:
    return float(np.mean(np.asarray(y_true) != np.asarray(y_pred)))


def _mean_abs(y_true: Any, y_pred: Any) -> float:
    return float(np.mean(np.abs(np.asarray(y_pred) - np.asarray(y_true))))


def _mean(y_true: Any, y_pred: Any) -> float:
    return float(np.mean(np.asarray(y_pred) - np.asarray(y_true)))


def _max_abs(y_true: Any, y_pred: Any) -> float:
    return float(np.max(np.abs(np.asarray(y_pred) - np.asarray(y_true))))


def _band_rate(y_true: Any, y_pred: Any, band_moved: Any) -> float:
    return float(np.mean(np.asarray(band_moved)))


def _report(scheme: str, flip: str, rows: list[tuple[Any, Any]], not_flippable: int,
            groups: dict[str, str | None]) -> FlipReport:
    metrics = ("score_moved", "band_moved", "mean_shift", "mean_abs_shift", "max_abs_shift")
    if not rows:
        return FlipReport(scheme, flip, 0, not_flippable, {}, {}, {}, {}, {}, ())
    y_true = np.array([float(a.score) for a, _ in rows])
    y_pred = np.array([float(b.score) for _, b in rows])
    band_moved = np.array([a.band != b.band for a, b in rows])
    sensitive = [groups[a.subject] for a, _ in rows]
    frame = MetricFrame(
        metrics={"score_moved": _rate, "band_moved": _band_rate, "mean_shift": _mean,
                 "mean_abs_shift": _mean_abs, "max_abs_shift": _max_abs},
        y_true=y_true, y_pred=y_pred, sensitive_features=sensitive,
        sample_params={"band_moved": {"band_moved": band_moved}})
    by_group = {str(g): {m: _clean(frame.by_group.loc[g, m]) for m in metrics}
                for g in frame.by_group.index}
    counts = {str(g): sensitive.count(g) for g in frame.by_group.index}
    difference = {m: _clean(frame.difference()[m]) for m in metrics}
    ratios = frame.ratio()
    ratio = {m: _ratio(ratios[m], frame.by_group[m]) for m in _FLAGGED}
    flags = tuple(m for m in _FLAGGED if len(by_group) > 1 and ratio[m] < DISPARITY_THRESHOLD)
    return FlipReport(scheme, flip, len(rows), not_flippable,
                      {m: _clean(frame.overall[m]) for m in metrics}, by_group, counts,
                      difference, ratio, flags)


def _clean(value: Any) -> float:
    number = float(value)
    return 0.0 if math.isnan(number) else round(number, 6)


def _ratio(value: Any, column: Any) -> float:
    """MetricFrame's min/max ratio; groups that all score 0 are equal (1.0), not NaN."""
    number = float(value)
    if math.isnan(number):
        return 1.0 if all(float(v) == 0 for v in column) else 0.0
    return round(number, 6)


def population(scheme: Scheme, *, examples: int = 50, seed: int = 0,
               vocabulary: Vocabulary | None = None) -> dict[str, Any]:
    """A population aimed at `scheme`: `examples` generated histories merged into one,
    deterministic for the seed (ids prefixed h<N>_ so that they stay unique)."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hypothesis_seed

    from creditlab.engine.checks.generate import histories

    voc = vocabulary or shipped_vocabulary()
    collected: list[dict[str, Any]] = []

    @hypothesis_seed(seed)
    @settings(max_examples=examples, database=None, deadline=None, verbosity=Verbosity.quiet,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    @given(histories(max_subjects=3, max_events=20, scheme=scheme, vocabulary=voc))
    def collect(data: dict[str, Any]) -> None:
        collected.append(data)

    collect()
    subjects: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for n, data in enumerate(collected):
        prefix = f"h{n}_"
        subjects += [{**s, "id": prefix + s["id"]} for s in data["subjects"]]
        events += [{**e, "id": prefix + e["id"], "subject": prefix + e["subject"]}
                   for e in data["events"]]
    return {"subjects": subjects, "events": events}
