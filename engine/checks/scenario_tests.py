"""Scenario test files: a history, the scheme (or schemes) and the outcome expected.

The format of `tests/scenarios/<scheme>/*.yaml` and of `creditlab test`: the history keys
(`subjects`, `events`, `as_of`, `starting`, `description`) beside

    name: what the scenario shows           scheme: ID or path/to/scheme.yaml
    covers: [rule (or check) ids it exercises]          schemes: [ID, path.yaml, ...]  (instead)
    quote: the source's words                note: anything
    expect:
      results: [{subject: li, score: 965}, ...]   # with several schemes, also `scheme:`
      ledger: [{event: e1, rule: r1, applied: 15}, ...]

A scheme path is read relative to the test file. Expectations compare only the keys
given; a ledger is compared entry by entry, in replay order, against
`creditlab.engine.describe.entry_record` (so `effects` and `note` can be expected too), and
its length must match. Records only: the CLI renders them.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from creditlab.engine.canonical import plain
from creditlab.engine.describe import entry_record
from creditlab.engine.errors import (
    CreditlabError,
    InputError,
    ScenarioTestError,
    UnknownSchemeError,
    did_you_mean,
)
from creditlab.engine.inputs.catalog import refuse_duplicate_ids, shipped_scheme
from creditlab.engine.inputs.history import History
from creditlab.engine.inputs.history_files import parse_history
from creditlab.engine.inputs.load import load_scheme
from creditlab.engine.inputs.located import Located, clip, load_yaml, short
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.inputs.vocabulary import shipped_vocabulary
from creditlab.engine.scoring.replay import Backend, Replay, replay

__all__ = ["HISTORY_KEYS", "LEDGER_KEYS", "RESULT_KEYS", "TEST_KEYS", "Mismatch",
           "ScenarioTest", "ScenarioTestError", "TestOutcome", "check", "find_test_files",
           "load_test", "run_file", "run_files"]

TEST_KEYS = ("name", "scheme", "schemes", "covers", "quote", "expect", "note")
"""Keys of a test file besides the history's."""
HISTORY_KEYS = ("description", "as_of", "subjects", "starting", "events")
"""The history's keys (its `name` is the test's)."""
RESULT_KEYS = ("subject", "scheme", "start", "score", "band", "flags", "events_scored",
               "events_unscored")
"""What an expected result may name: the keys of `Outcome.as_dict`."""
LEDGER_KEYS = ("kind", "at", "event", "type", "subject", "scheme", "rule", "points",
               "applied", "score_before", "score_after", "band_before", "band_after",
               "changes", "notes", "fidelity", "source", "effects", "note")
"""What an expected ledger entry may name: the keys of `entry_record`."""


_Fail = Callable[..., "ScenarioTestError"]
"""Builds the error for a reason at a path of the test file (`load_test`'s `fail`)."""


@dataclass(frozen=True)
class ScenarioTest:
    """A loaded test file: its history, schemes and expectations, with their lines."""

    file: str
    name: str | None
    schemes: tuple[Scheme, ...]
    covers: tuple[str, ...]
    history: History
    expect: dict[str, Any]
    located: Located


@dataclass(frozen=True)
class Mismatch:
    """One expectation not met: where (`results[li].score`), what was expected and got."""

    path: str
    expected: Any
    got: Any
    line: int | None = None
    reason: str | None = None

    @property
    def message(self) -> str:
        if self.reason is not None:
            return f"{self.path}: {self.reason}"
        return f"{self.path} is {_shown(self.got)}, expected {_shown(self.expected)}"

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "expected": self.expected, "got": self.got,
                "line": self.line, "message": self.message}


@dataclass(frozen=True)
class TestOutcome:
    """The record of one test file: passed, failed (with its mismatches) or an error."""

    __test__ = False  # not a pytest class, despite the name

    file: str
    status: Literal["pass", "fail", "error"]
    name: str | None = None
    mismatches: tuple[Mismatch, ...] = ()
    error: str | None = None
    line: int | None = None
    field: str | None = None
    seconds: float = 0.0
    schemes: tuple[str, ...] = ()

    @property
    def message(self) -> str | None:
        """The first mismatch, or the error; None when the test passed."""
        if self.status == "fail":
            return self.mismatches[0].message
        return self.error

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "name": self.name, "status": self.status,
                "schemes": list(self.schemes), "message": self.message,
                "mismatches": [m.as_dict() for m in self.mismatches], "error": self.error,
                "line": self.line, "field": self.field, "seconds": round(self.seconds, 4)}


def _shown(value: Any) -> str:
    return "null" if value is None else str(value) if isinstance(value, (int, float)) \
        else repr(value)


def find_test_files(paths: Iterable[str | Path]) -> list[Path]:
    """The test files under `paths`: a file as given, a folder searched for `*.yaml`."""
    out: list[Path] = []
    for p in map(Path, paths):
        found = sorted(f for f in p.rglob("*.yaml") if f.is_file()) if p.is_dir() else [p]
        out += [f for f in found if f not in out]
    return out


def load_test(path: str | Path) -> ScenarioTest:
    """Read and validate a test file; every problem raises an error naming file and line."""
    path = Path(path)
    located = load_yaml(path, ScenarioTestError)
    data = located.data
    file = located.file

    def fail(reason: str, *at: str | int) -> ScenarioTestError:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in at).lstrip(".")
        return ScenarioTestError(reason, file=file, line=located.line_of(at) or 1,
                                 field=clip(where) or None)

    if not isinstance(data, dict):
        raise fail("a test file is a mapping: a history (subjects, events) with scheme "
                   "and expect")
    for key in data:
        if key not in TEST_KEYS + HISTORY_KEYS:
            raise fail(f"unknown key {short(key)}"
                       f"{did_you_mean(str(key), TEST_KEYS + HISTORY_KEYS)}; a test file has "
                       f"{', '.join(TEST_KEYS + HISTORY_KEYS)}", str(key))
    name = data.get("name")
    if name is not None and not isinstance(name, str):
        raise fail("expected a string", "name")
    schemes = _schemes(data, path, fail)
    covers = data.get("covers", [])
    if not isinstance(covers, list) or not all(isinstance(c, str) for c in covers):
        raise fail("'covers' lists rule ids", "covers")
    for i, rule_id in enumerate(covers):
        if not any(s.cited(rule_id) is not None for s in schemes):
            known = [r.id for s in schemes for r in s.rules] + [c.id for s in schemes
                                                                for c in s.checks]
            raise fail(f"covers unknown rule {short(rule_id)}{did_you_mean(rule_id, known)}",
                       "covers", i)
    expect = data.get("expect")
    if not isinstance(expect, dict):
        raise fail("'expect' is a mapping with 'results' and/or 'ledger'", "expect")
    _check_expect(expect, len(schemes) > 1, fail)
    history_data = {k: v for k, v in data.items() if k in HISTORY_KEYS}
    digest = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    history = parse_history(Located(history_data, file, located.lines, located.raw), digest,
                            shipped_vocabulary())
    return ScenarioTest(file, name, tuple(schemes), tuple(covers), history, expect, located)


def _schemes(data: dict[str, Any], path: Path, fail: _Fail) -> list[Scheme]:
    if ("scheme" in data) == ("schemes" in data):
        raise fail("give 'scheme: ID' or 'schemes: [ID, ...]', not both (an id or a path "
                   "to a scheme file, relative to the test file)",
                   *(["schemes"] if "schemes" in data else []))
    keys: list[tuple[str | int, ...]]
    if "scheme" in data:
        names, keys = [data["scheme"]], [("scheme",)]
    else:
        if not isinstance(data["schemes"], list) or not data["schemes"]:
            raise fail("'schemes' is a list of scheme ids or paths", "schemes")
        names = data["schemes"]
        keys = [("schemes", i) for i in range(len(names))]
    out: list[Scheme] = []
    for name, key in zip(names, keys, strict=True):
        if not isinstance(name, str):
            raise fail("a scheme is an id or a path to a scheme file", *key)
        if name.endswith((".yaml", ".yml")):
            scheme_path = path.parent / name
            if not scheme_path.is_file():
                raise fail(f"no scheme file {scheme_path}", *key)
            out.append(load_scheme(scheme_path, shipped_vocabulary()))
        else:
            try:
                out.append(shipped_scheme(name))
            except UnknownSchemeError as exc:
                raise fail(str(exc), *key) from None
    try:
        refuse_duplicate_ids(out)
    except CreditlabError as exc:
        raise fail(str(exc), keys[0][0]) from None
    return out


def _check_expect(expect: dict[str, Any], several: bool, fail: _Fail) -> None:
    for key in expect:
        if key not in ("results", "ledger"):
            raise fail(f"unknown key {short(key)}{did_you_mean(str(key), ('results', 'ledger'))};"
                       " 'expect' has results and ledger", "expect", str(key))
    for part, allowed in (("results", RESULT_KEYS), ("ledger", LEDGER_KEYS)):
        items = expect.get(part, [])
        if not isinstance(items, list):
            raise fail(f"'{part}' is a list of mappings", "expect", part)
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise fail("expected a mapping", "expect", part, i)
            for key in item:
                if key not in allowed:
                    raise fail(f"unknown key {short(key)}{did_you_mean(str(key), allowed)}; "
                               f"one of {', '.join(allowed)}", "expect", part, i, str(key))
            if part == "results" and "subject" not in item:
                raise fail("an expected result names its 'subject'", "expect", part, i)
            if part == "results" and several and "scheme" not in item:
                raise fail("with several schemes, an expected result names its 'scheme'",
                           "expect", part, i)


def check(test: ScenarioTest, result: Replay | None = None,
          backend: Backend = "durable") -> list[Mismatch]:
    """Every expectation of `test` its replay (by `backend`) does not meet, in the file's
    order."""
    if result is None:
        result = replay(test.history, list(test.schemes), backend=backend)
    line_of = test.located.line_of
    out: list[Mismatch] = []
    results = {(r.subject, r.scheme): plain(r.as_dict()) for r in result.results}
    several = len(test.schemes) > 1
    for i, want in enumerate(test.expect.get("results", [])):
        scheme = want.get("scheme", test.schemes[0].id)
        label = f"results[{want['subject']}/{scheme}]" if several else \
            f"results[{want['subject']}]"
        got = results.get((want["subject"], scheme))
        if got is None:
            out.append(Mismatch(label, None, None, line_of(("expect", "results", i)),
                                reason=f"no result for subject {short(want['subject'])} in "
                                       f"scheme {short(scheme)}"))
            continue
        for key, value in want.items():
            if got[key] != plain(value):
                out.append(Mismatch(f"{label}.{key}", plain(value), got[key],
                                    line_of(("expect", "results", i, key))))
    if "ledger" in test.expect:
        ledger = [plain(entry_record(e)) for e in result.ledger]
        wanted = test.expect["ledger"]
        if len(ledger) != len(wanted):
            listed = ", ".join(f"{e['event']}/{e['rule']}" for e in ledger) or "none"
            out.append(Mismatch("ledger", len(wanted), len(ledger),
                                line_of(("expect", "ledger")),
                                reason=f"{len(ledger)} entries, expected {len(wanted)}: "
                                       f"{listed}"))
        for i, (got_entry, want) in enumerate(zip(ledger, wanted, strict=False)):
            for key, value in want.items():
                if got_entry[key] != plain(value):
                    out.append(Mismatch(f"ledger[{i}].{key}", plain(value), got_entry[key],
                                        line_of(("expect", "ledger", i, key))))
    return out


def run_file(path: str | Path, backend: Backend = "durable") -> TestOutcome:
    """Load, replay and check one test file; an invalid file is an error record."""
    start = time.perf_counter()
    file = str(path)
    try:
        test = load_test(path)
        mismatches = check(test, backend=backend)
    except InputError as exc:
        same_file = exc.file == file
        return TestOutcome(file, "error", error=str(exc),
                           line=exc.line if same_file else None,
                           field=exc.field if same_file else None,
                           seconds=time.perf_counter() - start)
    except CreditlabError as exc:
        return TestOutcome(file, "error", error=f"{file}: {exc}",
                           seconds=time.perf_counter() - start)
    return TestOutcome(file, "fail" if mismatches else "pass", name=test.name,
                       mismatches=tuple(mismatches), seconds=time.perf_counter() - start,
                       schemes=tuple(s.id for s in test.schemes))


def run_files(paths: Sequence[str | Path]) -> list[TestOutcome]:
    """Every test file under `paths` (folders searched recursively for `*.yaml`), in order."""
    return [run_file(p) for p in find_test_files(paths)]
