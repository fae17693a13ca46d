"""What lint reports: the `Finding` record, why each code matters, and the source's share.

Some findings come from the sources themselves (Wuhu prints 700-850 and 350-700; Fuzhou
prints 500-599 and 600-750). A finding whose numbers are all in the quotes of the things
involved (`quoted`), or whose rules an `interpretations` entry discusses, is marked
`caused_by_source` and reported one step milder (error -> warning -> info) by
`Findings.add`, never hidden.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, Literal

from creditlab.engine.checks.intervals import number
from creditlab.engine.inputs.located import Located, format_path
from creditlab.engine.inputs.scheme import Cited, Scheme
from creditlab.engine.model import Model

__all__ = ["WHY", "Finding", "Findings", "Severity", "has_errors", "quoted"]

Severity = Literal["error", "warning", "info"]

WHY: dict[str, str] = {
    "invalid-scheme": "The file does not load, so no replay can use it.",
    "rule-without-source": "Every rule must cite its source, so that a reader can check the "
                           "number against the words it comes from.",
    "rule-without-fidelity": "Without fidelity a reader cannot tell a documented number from "
                             "an assumption.",
    "fidelity-without-note": "An interpreted or assumed rule must say which reading was taken, "
                             "or what was assumed.",
    "unknown-event-type": "A rule on an event type the vocabulary lacks never fires.",
    "unknown-attribute": "A condition or tier on an attribute the event type lacks never holds.",
    "unknown-role": "A rule for a role the vocabulary lacks never fires.",
    "unknown-cap-group": "A cap that does not exist limits nothing.",
    "unknown-band": "A reclassification to a grade the scheme lacks cannot be shown.",
    "never-in-force": "A rule whose effective dates exclude every day never fires.",
    "band-overlap": "A score in two bands gets whichever is listed first: the grade depends on "
                    "the file's order, not on the source.",
    "band-gap": "A score in no band gets no grade at all.",
    "band-order": "Bands are listed best first; worse_of reclassification and the grade of a "
                  "score rely on that order.",
    "band-unreachable": "A band no score can reach is dead text, or a sign of a wrong bound.",
    "band-without-range": "The source gives no thresholds for this band: only a "
                          "reclassification could show it.",
    "points-outside-scale": "Points or scores outside the scale's span cannot be applied as "
                            "the source states them.",
    "direction-mismatch": "A reward that lowers the score (or a penalty that raises it) "
                          "contradicts the rule's declared direction.",
    "unsatisfiable-rule": "A rule whose conditions contradict each other never fires.",
    "double-counting": "Two rules that fire on the same event and stack count one act twice "
                       "unless a shared cap or same_act_as says otherwise.",
    "duplicated-row": "The source lists the act twice; same_act_as makes it score once.",
    "tier-overlap": "A quantity in two tiers gets whichever is listed first.",
    "tier-gap": "A quantity in no tier earns nothing although the source scores the behaviour.",
    "unused-cap-group": "A cap group no rule refers to limits nothing.",
    "scheme-without-rules": "A scheme without rules scores nothing; a file cut off before its "
                            "rules looks like this.",
    "engine-limit": "durable_rules fails or hangs on rule networks this wide; replay refuses "
                    "the scheme.",
    "outside-attr-range": "The vocabulary rules this value out (a negative number of hours): "
                          "the condition or tier compares with values no event can carry.",
    "number-not-quoted": "A number none of the quotes prints is a misquoted row or the "
                         "reading's own number: quote the row it comes from, or say in the "
                         "note that it is the reading's own (interpreted or assumed).",
    "band-tie-unstated": "A score two bands both hold goes to the band listed first: the "
                         "grade comes from a tie-break, which the scheme must state.",
    "quote-other-row": "A quote that prints another row's points contradicts the rule it is "
                       "cited for: a reader checking the number finds a different one.",
}


class Finding(Model):
    """One thing lint found: where it is, what it is, and why it matters."""

    severity: Severity
    code: str
    scheme: str | None
    rule: str | None
    file: str
    line: int | None
    field: str | None
    message: str
    why: str
    caused_by_source: bool

    @property
    def location(self) -> str:
        return self.file + (f":{self.line}" if self.line is not None else "")


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)


class Findings:
    """The findings of one scheme as the checks make them, each placed on its file's line."""

    def __init__(self, scheme: Scheme, located: Located) -> None:
        self.scheme = scheme
        self.located = located
        self.items: list[Finding] = []

    def add(self, code: str, severity: Severity, message: str, path: Sequence[str | int],
            *, rule: str | None = None, caused_by_source: bool = False) -> None:
        if caused_by_source:
            severity = "warning" if severity == "error" else "info"
        self.items.append(Finding(
            severity=severity, code=code, scheme=self.scheme.id, rule=rule,
            file=self.located.file, line=self.located.line_of(path),
            field=format_path(path) or None, message=message, why=WHY[code],
            caused_by_source=caused_by_source))


def quoted(numbers: Iterable[Decimal | None], items: Iterable[Any]) -> bool:
    """Whether every number appears in the quotes of `items` (the source printed them)."""
    text = ""
    for item in items:
        sources = item.sources if isinstance(item, Cited) else [getattr(item, "source", None)]
        text += " ".join(s.quote for s in sources if s is not None) + " "
    text = re.sub(r"(?<=\d)[,，](?=\d{3})", "", text)
    wanted = [n for n in numbers if n is not None]
    return bool(wanted) and all(
        re.search(r"(?<![\d.])" + re.escape(number(n)) + r"(?![\d])", text) for n in wanted)
