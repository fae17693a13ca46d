"""The behaviour × scheme matrix: what one occurrence of each behaviour does in each scheme.

Every cell is read from the ledger of a replay, never computed here: each row is one
event, on its own subject, replayed through every scheme, so a cell is exactly the delta
of replaying a one-event history with that behaviour (a property the tests check).

Rows. One row per behaviour (vocabulary code) that at least one of the chosen schemes has a
rule for, or per code asked for, with *representative attributes*:

- numbers take the value in `REPRESENTATIVE` by attribute name (400 ml of blood, 10 hours
  of volunteering, 1,000 RMB, 3 months overdue, 1 year, ...); a number attribute without an
  entry there takes 1, and the row says so in `notes`. Required numbers are always given;
  optional ones only when a chosen scheme's rule reads them;
- enum and bool attributes are split into one row per value when a chosen scheme's rules
  distinguish them (a `where` condition with `eq` or `in`, or a `tiers` effect on the
  attribute): `neighbour.help` gives one row per kind of help a scheme scores. Values that
  rules name together (`award.received` with `award: good_citizen, level: national`) stay
  together; rows are not the cartesian product of every value. A required enum no rule
  distinguishes takes the first value the vocabulary lists (noted on the row);
- `--attr NAME=VALUE` (`attrs=` here) sets an attribute on every row whose behaviour has it.

The subject. Each scheme is asked about a subject of its own kind (a person for person
schemes, an enterprise for enterprise schemes). The person is born on `REFERENCE_BORN` (an
adult, so age conditions hold), with the roles and residence asked for (none by default:
a rule for urban residents does not fire for someone whose residence is not given). Events
happen on `REFERENCE_DAY` unless another day is asked for: rules not in force that day
(COVID-era rules before 2020) do not fire.

A cell gives: `status` (`scored`, `not scored`, `no points documented`), `points` (applied,
from the start score; null when no rule gives a number), `given` (as the rules state them,
before caps), `pct_of_scale` (points as a percentage of the scheme's scale span, null with
`pct_reason` when the scale has no documented bounds), `band_steps` (bands moved from the
start band: +1 one band better, -1 one band worse; null with `band_reason` when either band
is undocumented), `effect` (non-point effects: a reclassification, a reset, a list state),
`rules` (the rules that fired) and `notes` (limits and caps that acted).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from creditlab.engine.analysis.normalise import band_rank, points_share_of_span
from creditlab.engine.canonical import digest as digest_of
from creditlab.engine.canonical import dumps
from creditlab.engine.describe import entry_effects, entry_note
from creditlab.engine.errors import InputError, did_you_mean
from creditlab.engine.inputs.history import History
from creditlab.engine.inputs.history_files import parse_history
from creditlab.engine.inputs.located import Located
from creditlab.engine.inputs.scheme import Scheme, TiersEffect
from creditlab.engine.inputs.vocabulary import AttrValue, Vocabulary, check_attr
from creditlab.engine.scoring.ledger import LedgerEntry
from creditlab.engine.scoring.replay import Backend, Replay, replay

__all__ = [
    "REFERENCE_BORN",
    "REFERENCE_DAY",
    "REPRESENTATIVE",
    "Behaviour",
    "Cell",
    "Matrix",
    "Persona",
    "behaviour_matrix",
    "behaviours",
    "parse_attrs",
]

REPRESENTATIVE: dict[str, Decimal] = {
    "hours": Decimal(10),            # one block of volunteering
    "ml": Decimal(400),              # one whole-blood donation (the usual Chinese unit)
    "amount_rmb": Decimal(1000),     # donations, arrears, found money
    "months_overdue": Decimal(3),    # one quarter late
    "years": Decimal(1),             # sentences, clean records
    "licence_points": Decimal(3),    # a common traffic-violation penalty
    "fine_rmb": Decimal(200),        # a common administrative fine
    "corrective_years": Decimal(1),
}
"""Representative quantities by attribute name: one typical occurrence."""

REFERENCE_DAY = date(2020, 6, 1)
"""The default day events happen on: COVID-era rules are in force, no rule has ended."""

REFERENCE_BORN = date(1980, 1, 1)
"""The representative person's birthday: an adult (40) on the reference day."""


@dataclass(frozen=True)
class Persona:
    """Who the behaviour happens to: roles and residence for persons; enterprises and cities
    plain."""

    roles: tuple[str, ...] = ()
    residence: str | None = None
    born: date = REFERENCE_BORN

    def subject(self, sid: str, kind: str) -> dict[str, Any]:
        if kind != "person":
            return {"id": sid, "kind": kind}
        out: dict[str, Any] = {"id": sid, "kind": "person", "born": self.born,
                               "roles": list(self.roles)}
        if self.residence is not None:
            out["residence"] = self.residence
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"roles": list(self.roles), "residence": self.residence, "born": self.born}


@dataclass(frozen=True)
class Behaviour:
    """One row: a vocabulary code with the attributes of one representative occurrence."""

    code: str
    attrs: Mapping[str, AttrValue]
    notes: tuple[str, ...] = ()

    def label(self) -> str:
        attrs = " ".join(f"{k}={_show(v)}" for k, v in sorted(self.attrs.items()))
        return self.code + (f" {attrs}" if attrs else "")

    def event(self, eid: str, subject: str, day: date) -> dict[str, Any]:
        return {"id": eid, "subject": subject, "at": day, "type": self.code, **self.attrs}


def _show(value: Any) -> str:
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_attrs(pairs: Sequence[str]) -> dict[str, str]:
    """`NAME=VALUE` strings as a mapping (values are checked per behaviour later)."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise InputError(f"expected NAME=VALUE, got {pair!r}", field="attr")
        out[name.strip()] = value.strip()
    return out


def _attr_value(vocabulary: Vocabulary, code: str, name: str, raw: Any) -> AttrValue:
    spec = vocabulary.events[code].attrs[name]
    value: Any = raw
    if isinstance(raw, str) and spec.kind in ("int", "number"):
        try:
            value = Decimal(raw)
        except ArithmeticError:
            raise InputError(f"{name} takes a number, got {raw!r}", field="attr") from None
    elif isinstance(raw, str) and spec.kind == "bool":
        if raw.lower() not in ("true", "false"):
            raise InputError(f"{name} takes true or false, got {raw!r}", field="attr")
        value = raw.lower() == "true"
    try:
        return check_attr(spec, value)
    except ValueError as exc:
        raise InputError(f"{code} {name}: {exc}", field="attr") from None


def check_code(vocabulary: Vocabulary, code: str, what: str = "behaviour") -> str:
    if code not in vocabulary.events:
        raise InputError(f"unknown behaviour {code!r}{did_you_mean(code, vocabulary.events)}",
                         field=what)
    return code


def behaviours(vocabulary: Vocabulary, schemes: Sequence[Scheme], codes: Sequence[str] = (),
               attrs: Mapping[str, str] | None = None) -> list[Behaviour]:
    """The matrix's rows: `codes` (default: every code a scheme scores), representative."""
    attrs = attrs or {}
    for code in codes:
        check_code(vocabulary, code)
    chosen = list(dict.fromkeys(codes)) or sorted(
        {t for s in schemes for r in s.rules for t in r.match.types})
    for name in attrs:
        if not any(name in vocabulary.events[c].attrs for c in chosen):
            raise InputError(f"no chosen behaviour has an attribute {name!r}", field="attr")
    rows: list[Behaviour] = []
    for code in chosen:
        rows.extend(_rows_of(vocabulary, schemes, code, attrs))
    return rows


def _rows_of(vocabulary: Vocabulary, schemes: Sequence[Scheme], code: str,
             overrides: Mapping[str, str]) -> list[Behaviour]:
    spec = vocabulary.events[code]
    rules = [r for s in schemes for r in s.rules if code in r.match.types]
    read: set[str] = set()
    profiles: list[dict[str, AttrValue]] = []
    for rule in rules:
        branches: list[dict[str, AttrValue]] = [{}]
        for cond in rule.match.where:
            read.add(cond.attr)
            kind = spec.attrs[cond.attr].kind if cond.attr in spec.attrs else None
            if kind not in ("enum", "bool") or cond.op not in ("eq", "in"):
                continue
            named: list[Any] = cond.value if isinstance(cond.value, list) else [cond.value]
            allowed = [v for v in named if kind == "bool" or v in spec.attrs[cond.attr].values]
            branches = [{**b, cond.attr: v} for b in branches for v in allowed
                        if cond.attr not in b]
        for effect in rule.effects:
            attr = getattr(effect, "attr", None)
            if attr is not None:
                read.add(attr)
            if isinstance(effect, TiersEffect) and effect.attr in spec.attrs:
                allowed_tiers = [t.value for t in effect.tiers
                                 if t.value in spec.attrs[effect.attr].values]
                branches = [{**b, effect.attr: v} for b in branches for v in allowed_tiers
                            if effect.attr not in b]
        for b in branches:
            if b not in profiles:
                profiles.append(b)
    # A profile that leaves out a required attribute other profiles fix is covered by them.
    fixed = {name for p in profiles for name in p}
    required = {n for n, a in spec.attrs.items() if a.required}
    profiles = [p for p in profiles if not (required & fixed) - set(p)] or [{}]
    out: list[Behaviour] = []
    for profile in profiles:
        values: dict[str, AttrValue] = {}
        notes: list[str] = []
        for name, attr in spec.attrs.items():
            if name in overrides:
                values[name] = _attr_value(vocabulary, code, name, overrides[name])
            elif name in profile:
                values[name] = _attr_value(vocabulary, code, name, profile[name])
            elif attr.kind in ("int", "number") and (attr.required or name in read):
                if name in REPRESENTATIVE:
                    values[name] = _attr_value(vocabulary, code, name, REPRESENTATIVE[name])
                else:
                    values[name] = _attr_value(vocabulary, code, name, Decimal(1))
                    notes.append(f"{name}: no representative value set, 1 used")
            elif attr.required and attr.kind == "enum":
                values[name] = attr.values[0]
                notes.append(f"{name}: no rule distinguishes its values, "
                             f"{attr.values[0]!r} (the vocabulary's first) used")
            elif attr.required and attr.kind == "bool":
                values[name] = False
                notes.append(f"{name}: no rule distinguishes it, false used")
            elif attr.required and attr.kind == "date":
                values[name] = REFERENCE_DAY
                notes.append(f"{name}: the reference day used")
            elif attr.required:
                values[name] = "unspecified"
                notes.append(f"{name}: 'unspecified' used")
        row = Behaviour(code, dict(sorted(values.items())), tuple(notes))
        if all(r.attrs != row.attrs for r in out):
            out.append(row)
    return out


@dataclass(frozen=True)
class Cell:
    """What one occurrence of a behaviour does in one scheme (read from the ledger)."""

    scheme: str
    status: str
    points: Decimal | None
    given: Decimal | None
    pct_of_scale: Decimal | None
    pct_reason: str | None
    band_before: str | None
    band_after: str | None
    band_steps: int | None
    band_reason: str | None
    effect: str | None
    flags: tuple[str, ...]
    rules: tuple[str, ...]
    notes: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "points": self.points, "given": self.given,
                "pct_of_scale": self.pct_of_scale, "pct_reason": self.pct_reason,
                "band_before": self.band_before, "band_after": self.band_after,
                "band_steps": self.band_steps, "band_reason": self.band_reason,
                "effect": self.effect, "flags": list(self.flags), "rules": list(self.rules),
                "notes": list(self.notes)}


def cell_from(scheme: Scheme, entries: Sequence[LedgerEntry], flags: tuple[str, ...]) -> Cell:
    """A cell from the ledger entries of one event in one scheme, from the start score."""
    start_band = scheme.band_for(scheme.scale.start)
    if not entries:
        return Cell(scheme.id, "not scored", None, None, None, "not scored", start_band,
                    start_band, None, "not scored", None, flags, (), ())
    given_values = [e.points for e in entries if e.points is not None]
    effects = [x for e in entries for x in entry_effects(e)]
    applied = sum((e.applied for e in entries), Decimal(0))
    points = applied if given_values or applied else None
    pct = points_share_of_span(scheme, points) if points is not None else None
    after = entries[-1].band_after
    before, now = band_rank(scheme, start_band), band_rank(scheme, after)
    steps = None
    reason = before.reason or now.reason
    if before.value is not None and now.value is not None:
        steps = int(before.value - now.value)
    status = "scored" if (given_values or effects) else "no points documented"
    return Cell(
        scheme=scheme.id, status=status, points=points,
        given=sum(given_values, Decimal(0)) if given_values else None,
        pct_of_scale=pct.value if pct else None,
        pct_reason=(pct.reason if pct else "no points given"),
        band_before=start_band, band_after=after, band_steps=steps, band_reason=reason,
        effect="; ".join(effects) or None, flags=flags,
        rules=tuple(e.rule for e in entries), notes=tuple(n for n in map(entry_note, entries) if n),
    )


@dataclass(frozen=True)
class Matrix:
    """Rows of behaviours, a cell per scheme; with the manifest of its replay and a digest."""

    rows: tuple[tuple[Behaviour, dict[str, Cell]], ...]
    schemes: tuple[str, ...]
    manifest: dict[str, Any]
    digest: str
    replay: Replay = field(repr=False)

    def body(self) -> dict[str, Any]:
        return {"schemes": list(self.schemes), "rows": [
            {"behaviour": b.code, "attrs": dict(b.attrs), "notes": list(b.notes),
             "cells": {k: c.as_dict() for k, c in cells.items()}} for b, cells in self.rows]}

    def as_dict(self) -> dict[str, Any]:
        return {"manifest": self.manifest, **self.body(), "digest": self.digest}


def synthetic_history(name: str, subjects: list[dict[str, Any]],
                      events: list[dict[str, Any]], vocabulary: Vocabulary,
                      as_of: date | None = None) -> History:
    """A history built in memory, checked like a file; its hash is its canonical JSON's."""
    data: dict[str, Any] = {"name": name, "subjects": subjects, "events": events}
    if as_of is not None:
        data["as_of"] = as_of
    raw = dumps(data).encode("utf-8")
    return parse_history(Located(data, f"<{name}>", {}), "sha256:" + hashlib.sha256(
        raw).hexdigest(), vocabulary)


def behaviour_matrix(schemes: Sequence[Scheme], vocabulary: Vocabulary, *,
                     codes: Sequence[str] = (), attrs: Mapping[str, str] | None = None,
                     persona: Persona | None = None, on: date = REFERENCE_DAY,
                     backend: Backend = "durable") -> Matrix:
    """What one occurrence of each behaviour does in each scheme, from one replay."""
    if not schemes:
        raise InputError("the matrix needs at least one scheme", field="scheme")
    persona = persona or Persona()
    for role in persona.roles:
        if role not in vocabulary.roles:
            raise InputError(f"unknown role {role!r}{did_you_mean(role, vocabulary.roles)}",
                             field="as")
    rows = behaviours(vocabulary, schemes, codes, attrs)
    kinds = sorted({s.subject_kind for s in schemes})
    subjects, events = [], []
    for i, row in enumerate(rows, start=1):
        for kind in kinds:
            sid = f"r{i:04d}-{kind}"
            subjects.append(persona.subject(sid, kind))
            events.append(row.event(f"m{i:04d}-{kind}", sid, on))
    history = synthetic_history("matrix", subjects, events, vocabulary)
    result = replay(history, list(schemes), backend=backend)
    by_key: dict[tuple[str, str], list[LedgerEntry]] = {}
    for entry in result.ledger:
        by_key.setdefault((entry.event, entry.scheme), []).append(entry)
    outcomes = {(r.subject, r.scheme): r for r in result.results}
    table = []
    for i, row in enumerate(rows, start=1):
        cells = {}
        for s in result.schemes:
            eid, sid = f"m{i:04d}-{s.subject_kind}", f"r{i:04d}-{s.subject_kind}"
            cells[s.id] = cell_from(s, by_key.get((eid, s.id), []), outcomes[(sid, s.id)].flags)
        table.append((row, cells))
    parameters = {"behaviours": list(codes), "attrs": dict(attrs or {}),
                  "persona": persona.as_dict(), "on": on,
                  "representative": REPRESENTATIVE}
    manifest = {**result.manifest, "analysis": "matrix", "parameters": parameters,
                "replay_digest": result.digest}
    matrix = Matrix(tuple(table), tuple(s.id for s in result.schemes), manifest, "", result)
    return Matrix(matrix.rows, matrix.schemes, manifest, digest_of(matrix.body()), result)
