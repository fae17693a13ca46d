"""Lint's check of numbers against quotes: every number a rule encodes is one its sources print.

A rule's points, caps, tier bounds and points, formula numbers, count thresholds, numeric
conditions, frequency limits, durations (expiry, list states, grades, the length of a
rolling window, of an accumulated effect or of a frequency limit), set scores, fines and
ages must each appear in one of the rule's quotes (`source`, `also`, a tier's own
`source`), or be named in its `note` as the reading's own number, and then the rule is
`interpreted` or `assumed`
(`number-not-quoted`: an error for a documented rule, a warning otherwise). An age limit is
the scheme's scope, so the scheme's own `sources`, or an interpretation naming the rule, may
state it instead. The scale, each band, each cap group, each periodic check (its bound,
ages and durations) and each repeat (its factor, and a window given as a duration) are
checked the same way against their own quotes and note ("加倍" prints no digit: a factor
of 2 read from it is named in the note, and the repeat is interpreted). A quote
that prints a table row's points ("(-50)", "| -60") that are none of the rule's is another
row's (`quote-other-row`), unless the note names that number, saying why the row is cited.

What a scheme encodes is listed by `lint_encoded`, and what a text prints is read by
`lint_stated` (see there for the forms of numbers read and not read); this module compares
them and reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel

from creditlab.engine.checks.intervals import number
from creditlab.engine.checks.lint_encoded import (
    Encoded,
    FieldPath,
    encoded_numbers,
    scheme_numbers,
)
from creditlab.engine.checks.lint_findings import Findings
from creditlab.engine.checks.lint_rules import point_values
from creditlab.engine.checks.lint_stated import Stated, row_points, stated
from creditlab.engine.inputs.scheme import Cited, ExternalSource, Rule, Scheme, SeedSource

# `Encoded`, `Stated`, `encoded_numbers`, `row_points` and `stated` are also read from here.
__all__ = ["Encoded", "Stated", "check_numbers", "encoded_numbers", "row_points", "stated"]


def _quotes(node: Any) -> Iterator[str]:
    """Every quote anywhere inside a scheme element (its sources, its tiers' sources)."""
    return (source.quote for _, source in _sources(node, ()))


def _stated_all(texts: Iterable[str]) -> Stated:
    out = Stated()
    for text in texts:
        out |= stated(text)
    return out


def check_numbers(scheme: Scheme, found: Findings) -> None:
    """Each number of each rule (and of the scale, bands and cap groups) against its quotes."""
    for name, cited, numbers in scheme_numbers(scheme):
        _check_item(name, cited, numbers, found)
    scope = _stated_all(s.quote for s in scheme.sources)
    for i, rule in enumerate(scheme.rules):
        numbers = [Encoded(("rules", i, *e.path), e.what, e.value, e.bound)
                   for e in encoded_numbers(rule)]
        # An age limit is the scheme's scope, stated once for every rule: in the scheme's
        # own sources, or in an interpretation that names the rule.
        scope_here = Stated()
        scope_here |= scope
        scope_here |= _stated_all(x.reading + " " + x.why for x in scheme.interpretations
                                  if rule.id in x.rules)
        _check_item(rule.id, rule, numbers, found, rule_id=rule.id, scope=scope_here)
        _check_rows(rule, ("rules", i), stated(rule.note or ""), found)


def _check_item(name: str, cited: Cited, numbers: list[Encoded], found: Findings, *,
                rule_id: str | None = None, scope: Stated | None = None) -> None:
    quotes = _stated_all(_quotes(cited))
    note = stated(cited.note or "")
    documented = cited.fidelity == "documented"
    for item in numbers:
        if quotes.holds(item):
            continue
        if scope is not None and "subject" in item.path and (scope.holds(item)
                                                             or note.holds(item)):
            continue
        if note.holds(item):
            if documented:
                found.add("number-not-quoted", "error",
                          f"{name}: {item.what} {item.shown()} is in no quote, only in the "
                          "note: the reading's own number, yet fidelity is documented (make "
                          "it interpreted or assumed)", item.path, rule=rule_id)
            continue
        found.add("number-not-quoted", "error" if documented else "warning",
                  f"{name}: {item.what} {item.shown()} is in none of its quotes"
                  + ("" if documented else " and its note does not name it as the reading's "
                     "own"), item.path, rule=rule_id)

def _check_rows(rule: Rule, where: FieldPath, note: Stated, found: Findings) -> None:
    """A quote printing a row's points none of the rule's points are is another row's."""
    own = {abs(value) for _, value in point_values(rule)}
    if not own:
        return
    for path, source in _sources(rule, where):
        for value in row_points(source.quote):
            if value in own or value in note.numbers:
                continue
            found.add("quote-other-row", "error" if rule.fidelity == "documented" else "warning",
                      f"{rule.id}: the quote {source.quote!r} prints the points of another row "
                      f"({number(value)}); the rule gives "
                      f"{', '.join(number(v) for v in sorted(own))} (quote the rule's own row, "
                      "or say in the note why this row is cited)", (*path, "quote"),
                      rule=rule.id)


def _sources(node: Any, path: FieldPath) -> Iterator[tuple[FieldPath, SeedSource | ExternalSource]]:
    """Every source inside a scheme element, with its path."""
    if isinstance(node, (SeedSource, ExternalSource)):
        yield path, node
    elif isinstance(node, list):
        for k, item in enumerate(node):
            yield from _sources(item, (*path, k))
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from _sources(getattr(node, name), (*path, name))
