"""Static checks of a scheme file: findings with severity, rule, file, line and why.

A scheme can load (valid, every reference resolved) and still be inconsistent: bands that
overlap or leave gaps, a band no score can reach, two rules that score one act twice, a
tier table with a hole at exactly 400 ml. `lint_file` reports each as a `Finding`.

The checks live beside this module: `lint_bands` (the scale and its bands), `lint_rules`
(each rule, and the rules against each other), `lint_numbers` (each number a rule, band or
scale encodes against its quotes); `lint_findings` holds the `Finding` record,
why each code matters (`WHY`), and marks findings the sources themselves cause
(`caused_by_source`: reported one step milder, never hidden).

A file that fails to load is one error finding at the location `load_scheme` gives.
"""

from __future__ import annotations

import re
from pathlib import Path

from creditlab.engine.checks.lint_bands import check_bands, check_scale
from creditlab.engine.checks.lint_findings import (
    WHY,
    Finding,
    Findings,
    Severity,
    has_errors,
)
from creditlab.engine.checks.lint_numbers import check_numbers
from creditlab.engine.checks.lint_rules import check_rules
from creditlab.engine.errors import SchemeError
from creditlab.engine.inputs.load import load_scheme
from creditlab.engine.inputs.located import Located, load_yaml
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.inputs.vocabulary import Vocabulary, shipped_vocabulary

__all__ = ["WHY", "Finding", "Severity", "has_errors", "lint_file", "lint_scheme"]

_LOAD_CODES = [
    (re.compile(r"unknown event type"), "unknown-event-type"),
    (re.compile(r"has no attribute|is not a value of|value does not fit"), "unknown-attribute"),
    (re.compile(r"unknown role"), "unknown-role"),
    (re.compile(r"unknown cap group"), "unknown-cap-group"),
    (re.compile(r"unknown grade"), "unknown-band"),
    (re.compile(r"missing required key 'source'"), "rule-without-source"),
    (re.compile(r"missing required key 'fidelity'"), "rule-without-fidelity"),
    (re.compile(r"needs a 'note'"), "fidelity-without-note"),
    (re.compile(r"effective_from is after effective_to"), "never-in-force"),
    (re.compile(r"durable_rules|listed twice|lists at most \d+|names at most \d+"
                r"|has at most \d+ rules"), "engine-limit"),
]


def lint_file(path: str | Path, vocabulary: Vocabulary | None = None) -> list[Finding]:
    """Every finding for one scheme file; a file that fails to load is one error."""
    voc = vocabulary or shipped_vocabulary()
    path = Path(path)
    try:
        scheme = load_scheme(path, voc)
    except SchemeError as exc:
        return [_load_finding(exc, path)]
    return lint_scheme(scheme, load_yaml(path, SchemeError), voc)


def _load_finding(exc: SchemeError, path: Path) -> Finding:
    code = next((c for pattern, c in _LOAD_CODES if pattern.search(exc.reason)),
                "invalid-scheme")
    rule = None
    match = re.match(r"rules\[(\d+)\]", exc.field or "")
    if match:
        try:
            raw = load_yaml(path, SchemeError).data["rules"][int(match.group(1))]
            rule = str(raw.get("id")) if isinstance(raw, dict) and raw.get("id") else None
        except (SchemeError, LookupError, TypeError):
            rule = None
    return Finding(severity="error", code=code, scheme=None, rule=rule,
                   file=exc.file or str(path), line=exc.line, field=exc.field,
                   message=exc.reason, why=WHY[code], caused_by_source=False)


def lint_scheme(scheme: Scheme, located: Located | None = None,
                vocabulary: Vocabulary | None = None) -> list[Finding]:
    """Every finding for a loaded scheme; `located` (the file re-read) gives line numbers."""
    found = Findings(scheme, located or Located(None, scheme.file, {}))
    if not scheme.rules:
        # Loading allows it (a scheme built in memory may have none); a file cut off
        # before its rules looks exactly like this, so lint says so. A file that writes
        # `rules: []` and whose coverage note says why has nothing to encode: the
        # sources' silence, reported as info.
        data = found.located.data
        stated = (isinstance(data, dict) and data.get("rules") == []
                  and scheme.coverage is not None and bool(scheme.coverage.note))
        found.add("scheme-without-rules", "warning" if stated else "error",
                  f"{scheme.id} has no rules: it scores nothing "
                  + ("(its coverage note says why)" if stated else "(is the file cut off?)"),
                  ("rules",), caused_by_source=stated)
    check_scale(scheme, found)
    check_bands(scheme, found)
    check_rules(scheme, vocabulary or shipped_vocabulary(), found)
    check_numbers(scheme, found)
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(found.items, key=lambda f: (order[f.severity], f.line or 0, f.code))
