"""Properties of a scheme checked over generated histories, with shrunk counterexamples.

`audit_scheme` runs each property (`checks/properties.py`) with hypothesis over histories
aimed at the scheme's rules (`creditlab.engine.checks.generate`), seeded, then aims up to
`TARGETED_EXAMPLES` histories at each rule a property's random histories left untested; it
reports pass or fail with each property's rule coverage. A failure carries the shrunk
history, which `counterexample_yaml` turns into a YAML history that `creditlab replay`
reproduces. `replayed=` replays another version of a scheme (an edit under review) against
the declarations of the first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import yaml
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed

from creditlab.engine.checks.generate import histories
from creditlab.engine.checks.properties import (
    PROPERTIES,
    Property,
    Run,
    Violation,
    history_from_data,
)
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.inputs.vocabulary import Vocabulary, shipped_vocabulary
from creditlab.engine.scoring.replay import Backend, replay

__all__ = [
    "PROPERTIES",
    "Property",
    "PropertyResult",
    "RuleCoverage",
    "Run",
    "SchemeAudit",
    "Violation",
    "audit_scheme",
    "counterexample_yaml",
    "history_from_data",
]

Status = Literal["pass", "fail", "not_applicable"]


TARGETED_EXAMPLES = 10
"""Histories aimed at one rule that a property's random histories never fired."""


@dataclass(frozen=True)
class PropertyResult:
    """Whether one property held for one scheme, and the shrunk history when it did not."""

    scheme: str
    property: str
    title: str
    status: Status
    examples: int
    message: str | None = None
    counterexample: dict[str, Any] | None = None
    aimed: tuple[str, ...] = ()
    """The rules the property is about (every rule, for a property about all of them)."""
    fired: frozenset[str] = frozenset()
    """The rules that changed a score, grade or list state in this property's histories."""

    def coverage(self) -> RuleCoverage:
        """How many of the rules this property is about it saw take effect."""
        return RuleCoverage(self.aimed, self.fired)

    def as_dict(self) -> dict[str, Any]:
        return {"scheme": self.scheme, "property": self.property, "title": self.title,
                "status": self.status, "examples": self.examples, "message": self.message,
                "coverage": self.coverage().as_dict()}


@dataclass(frozen=True)
class RuleCoverage:
    """Which rules fired at least once over every history the audit replayed."""

    rules: tuple[str, ...]
    fired: frozenset[str]

    @property
    def ratio(self) -> float:
        return len(self.fired & set(self.rules)) / len(self.rules) if self.rules else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {"rules": len(self.rules), "fired": len(self.fired & set(self.rules)),
                "ratio": round(self.ratio, 4),
                "never_fired": [r for r in self.rules if r not in self.fired]}


@dataclass(frozen=True)
class SchemeAudit:
    scheme: Scheme
    results: tuple[PropertyResult, ...]
    coverage: RuleCoverage
    seed: int
    max_examples: int

    @property
    def passed(self) -> bool:
        return all(r.status != "fail" for r in self.results)


def audit_scheme(scheme: Scheme, *, max_examples: int = 50, seed: int = 0,
                 properties: Sequence[str] | None = None, replayed: Scheme | None = None,
                 vocabulary: Vocabulary | None = None, max_events: int = 20,
                 backend: Backend = "durable",
                 progress: Callable[[str, int, int], None] | None = None) -> SchemeAudit:
    """Check every property (or the named ones) of `scheme` over generated histories,
    replayed by `backend`; `progress(property, done, total)` is called as properties end."""
    voc = vocabulary or shipped_vocabulary()
    engine = replayed or scheme
    chosen = [p for p in PROPERTIES if properties is None or p.name in properties]
    fired: set[str] = set()
    results = []
    for number, prop in enumerate(chosen):
        if progress is not None:
            progress(prop.name, number, len(chosen))
        if not prop.applies(scheme):
            results.append(PropertyResult(scheme.id, prop.name, prop.title, "not_applicable", 0,
                                          "nothing in the scheme for this property to check"))
            continue
        # Each property its own seed (derived from `seed`): together they replay more
        # different histories, which raises rule coverage.
        results.append(_run(prop, scheme, engine, voc, max_examples, seed * 1009 + number,
                            max_events, fired, backend))
    if progress is not None:
        progress("", len(chosen), len(chosen))
    return SchemeAudit(scheme, tuple(results), RuleCoverage(tuple(r.id for r in scheme.rules),
                                                        frozenset(fired)), seed, max_examples)


def _run(prop: Property, declared: Scheme, engine: Scheme, voc: Vocabulary, max_examples: int,
         seed: int, max_events: int, fired: set[str], backend: Backend) -> PropertyResult:
    """`prop` over `max_examples` generated histories, then, for each rule the property is
    about that none of them fired, up to `TARGETED_EXAMPLES` histories aimed at that rule
    alone: a property is checked on every rule it names, whatever the seed."""
    failures: list[tuple[dict[str, Any], str]] = []
    count = [0]
    seen: set[str] = set()
    aimed = tuple(r.id for r in declared.rules if prop.aims_at is None or prop.aims_at(r))

    def search(focus: tuple[str, ...], examples: int, search_seed: int,
               until: str | None) -> None:
        @hypothesis_seed(search_seed)
        @settings(max_examples=examples, database=None, deadline=None, derandomize=False,
                  report_multiple_bugs=False, verbosity=Verbosity.quiet, print_blob=False,
                  suppress_health_check=list(HealthCheck),
                  phases=[Phase.explicit, Phase.generate, Phase.shrink])
        @given(histories(max_subjects=3, max_events=max_events, scheme=declared,
                         vocabulary=voc, focus=focus))
        def check(data: dict[str, Any]) -> None:
            if until is not None and until in seen and not failures:
                return  # the rule has been reached: the rest of its examples are not needed
            count[0] += 1
            try:
                history = history_from_data(data, voc)
                result = replay(history, [engine], backend=backend)
                fired.update(e.rule for e in result.ledger)
                # A rule counts as checked by this property once it changed something: a
                # rule that fired into a spent cap or a clamped scale tested nothing.
                seen.update(e.rule for e in result.ledger if e.applied or e.changes)
                prop.check(Run(declared, engine, data, history, result, voc, backend))
            except Exception as exc:
                message = (str(exc) if isinstance(exc, Violation)
                           else f"{type(exc).__name__}: {exc}")
                failures.append((data, message))
                raise

        check()

    focus = aimed if prop.aims_at is not None else ()
    try:
        search(focus, max_examples, seed, None)
        for number, rule in enumerate(aimed):
            if rule not in seen:
                search((rule,), TARGETED_EXAMPLES, seed * 7919 + number, rule)
    except Exception as exc:
        if not failures:  # hypothesis itself failed (e.g. it could not generate)
            return PropertyResult(declared.id, prop.name, prop.title, "fail", count[0],
                                  f"{type(exc).__name__}: {exc}", aimed=aimed,
                                  fired=frozenset(seen))
        data, message = failures[-1]
        return PropertyResult(declared.id, prop.name, prop.title, "fail", count[0], message,
                              data, aimed=aimed, fired=frozenset(seen))
    return PropertyResult(declared.id, prop.name, prop.title, "pass", count[0], aimed=aimed,
                          fired=frozenset(seen))


def _yaml_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _yaml_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_yaml_value(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def counterexample_yaml(result: PropertyResult) -> str:
    """A failed property's shrunk history as the text of a YAML history file.

    The caller writes it (`creditlab audit` through `creditlab.engine.views.files`, which
    never replaces an earlier counterexample unless told to).
    """
    assert result.counterexample is not None
    data = {"name": f"counterexample: {result.scheme} {result.property}",
            "description": result.message or "", **_yaml_value(result.counterexample)}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
