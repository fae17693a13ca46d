"""Replay: one history through many schemes, giving a ledger, final states and a digest.

Events are replayed in (at, id) order (the history keeps them so). For each scheme, the
matcher says which rules fire and the reducer applies them. Every event is accounted for
in every scheme: scored (a rule fired), unscored (no rule matched), or not applicable
(the scheme scores another kind of subject); the three add up to the number of events.

`replay` is safe to call from several threads at once: each call keeps its own state, and
the one shared thing, the process's durable_rules rulesets, is used under a lock
(`durable.match`). Separate processes share nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _installed_version
from typing import Any, Literal

import pyarrow as pa

from creditlab.engine.errors import EngineError, HistoryError, did_you_mean
from creditlab.engine.inputs.catalog import refuse_duplicate_ids, shipped_schemes
from creditlab.engine.inputs.history import History, Subject
from creditlab.engine.inputs.reform import reforms_manifest
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.scoring.check_ledger import judge_checks
from creditlab.engine.scoring.columnar.table import subjects_table
from creditlab.engine.scoring.conditions import scored_on
from creditlab.engine.scoring.digest import combine, replay_digest, subject_digests
from creditlab.engine.scoring.durable.compile import compile_scheme
from creditlab.engine.scoring.durable.match import Matcher
from creditlab.engine.scoring.durable.reduce import Reducer
from creditlab.engine.scoring.ledger import LedgerEntry
from creditlab.engine.scoring.outcome import Accounting, Outcome
from creditlab.engine.scoring.tables import ledger_table, results_table

__all__ = ["BACKENDS", "Accounting", "Backend", "DurableReplay", "Outcome", "Replay",
           "check_starting", "creditlab_version", "replay", "replay_durable",
           "replay_manifest"]


def creditlab_version() -> str:
    """The installed creditlab version, as the manifest records it."""
    try:
        return _installed_version("creditlab")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0+unknown"

Progress = Callable[[str, int, int], None]
"""Called as progress(scheme_id, events_done, events_total) during a long replay."""


@dataclass(frozen=True)
class Replay:
    """The result of replaying a history: ledger, outcomes, accounting, manifest, digest."""

    history: History
    schemes: tuple[Scheme, ...]
    ledger: tuple[LedgerEntry, ...]
    results: tuple[Outcome, ...]
    accounting: tuple[Accounting, ...]
    manifest: dict[str, Any]
    digest: str

    def as_dict(self, *, explain: bool = False) -> dict[str, Any]:
        """The replay as data: the contract's object, the ledger as typed records.

        `creditlab replay --format json` adds each entry's words (`effects`, `note`):
        `creditlab.engine.describe.entry_record`.
        """
        out: dict[str, Any] = {
            "manifest": self.manifest,
            "results": [r.as_dict() for r in self.results],
            "accounting": {a.scheme: a.as_dict() for a in self.accounting},
            "digest": self.digest,
        }
        if explain:
            out["ledger"] = [e.as_dict() for e in self.ledger]
        return out

    def outcome(self, subject: str, scheme: str) -> Outcome | None:
        return next((r for r in self.results if r.subject == subject and r.scheme == scheme),
                    None)


Backend = Literal["durable", "columnar"]
BACKENDS: tuple[Backend, ...] = ("durable", "columnar")
"""durable_rules is the reference; the columnar backend gives the same results and ledger."""


def replay(history: History, schemes: Sequence[Scheme], *,
           progress: Progress | None = None, backend: Backend = "durable") -> Replay:
    """Replay `history` through `schemes`; deterministic for the same inputs.

    The manifest records creditlab's version, the backend, the history's, the
    vocabulary's and every scheme's sha256 and `as_of`; `digest` covers the results and
    the ledger (`scoring/digest.py`) and is the same from either backend.
    """
    refuse_duplicate_ids(list(schemes))
    ordered = sorted(schemes, key=lambda s: s.id)
    check_starting(history, {s.id for s in ordered})
    if backend == "columnar":
        return _replay_columnar(history, ordered, progress)
    if backend != "durable":
        raise EngineError(f"unknown backend {backend!r}{did_you_mean(backend, BACKENDS)}; "
                          f"use one of {', '.join(BACKENDS)}")
    done = replay_durable(history, ordered, progress)
    return Replay(history, tuple(ordered), done.ledger, done.results, done.accounting,
                  replay_manifest(history, ordered, "durable"), combine([done.digests]))


@dataclass(frozen=True)
class DurableReplay:
    """What the durable_rules backend gives for one history: its ledger, outcomes and
    accounting, and each subject's digest (`digest.subject_digests`), which `combine`
    makes the replay's digest, with those of other partitions of the same history."""

    ledger: tuple[LedgerEntry, ...]
    results: tuple[Outcome, ...]
    accounting: tuple[Accounting, ...]
    digests: pa.Table


def replay_durable(history: History, ordered: Sequence[Scheme],
                   progress: Progress | None = None) -> DurableReplay:
    """Replay `history` through `ordered` (schemes sorted by id, starting points checked)
    with durable_rules."""
    keyed: list[tuple[tuple[int, int, int], LedgerEntry]] = []
    results: list[Outcome] = []
    accounting: list[Accounting] = []
    total = len(history.events)
    for scheme_index, scheme in enumerate(ordered):
        matcher = Matcher(compile_scheme(scheme))
        reducer = Reducer(scheme)
        given = {p.subject: p for p in history.starting if p.scheme == scheme.id}
        try:
            standings = {sid: reducer.start(given.get(sid))
                         for sid, subj in history.subjects.items()
                         if _scored_at_end(scheme, subj, history.end)}
        except HistoryError as exc:
            raise HistoryError(exc.reason, file=history.file, line=exc.line,
                               field=exc.field) from None
        starts = {sid: st.score for sid, st in standings.items()}
        not_applicable = ineligible = 0
        for position, event in enumerate(history.events):
            if progress is not None and position % 5000 == 0:
                progress(scheme.id, position, total)
            standing = standings.get(event.subject)
            if standing is None or (scheme.eligibility is not None and not scored_on(
                    scheme, history.subjects[event.subject], event.day)):
                not_applicable += 1
                ineligible += history.subjects[event.subject].kind == scheme.subject_kind
                continue
            fired = matcher.fired(event, history.subjects[event.subject])
            # Entries come in declared rule order; the key keeps it within (event, scheme).
            for order, entry in enumerate(reducer.apply(standing, event, fired)):
                keyed.append(((position, scheme_index, order), entry))
        if progress is not None:
            progress(scheme.id, total, total)
        end = history.end
        scored = unscored = 0
        finished = 0  # finish lapses: subject by subject, in one run per scheme
        for sid in sorted(standings):
            standing = standings[sid]
            if end is not None:
                for entry in reducer.finish(standing, sid, end):
                    keyed.append(((total, scheme_index, finished), entry))
                    finished += 1
            scored += standing.scored
            unscored += standing.unscored
            results.append(Outcome(
                subject=sid, scheme=scheme.id, start=starts[sid], score=standing.score,
                band=reducer.band(standing), flags=tuple(sorted(standing.flags)),
                events_scored=standing.scored, events_unscored=standing.unscored,
            ))
        accounting.append(Accounting(scheme.id, total, scored, unscored, not_applicable,
                                     ineligible))
    keyed.sort(key=lambda pair: pair[0])
    ledger = tuple(entry for _, entry in keyed)
    results.sort(key=lambda r: (r.subject, r.scheme))
    r_table = results_table(results)
    l_table = ledger_table(ledger, [s.id for s in ordered], [key[0] for key, _ in keyed])
    checked = None if not any(s.checks for s in ordered) else judge_checks(
        r_table, l_table, subjects_table(history), ordered, starting=history.starting,
        end=history.end, events=total)  # (the subjects table only when a check needs it)
    if checked is not None:  # the checks' entries in their places, their list states
        every = (*ledger, *checked.entries())
        ledger = tuple(every[i] for i in checked.rows.tolist())
        r_table, l_table = checked.results, checked.ledger
        rows = checked.flagged.tolist()
        flags = r_table.column("flags").take(pa.array(rows, pa.int64())).to_pylist()
        for row, listed in zip(rows, flags, strict=True):
            results[row] = replace(results[row], flags=tuple(listed))
    digests = subject_digests(r_table, l_table)
    return DurableReplay(ledger, tuple(results), tuple(accounting), digests)


def _scored_at_end(scheme: Scheme, subject: Subject, end: date | None) -> bool:
    """Whether `subject` has a result in `scheme`: of its kind and, by the history's end,
    eligible (a history with no end, having no events, is judged by kind alone)."""
    if end is None:
        return subject.kind == scheme.subject_kind
    return scored_on(scheme, subject, end)


def _replay_columnar(history: History, ordered: list[Scheme],
                     progress: Progress | None) -> Replay:
    # Imported here: the durable_rules path never loads numba.
    from creditlab.engine.scoring.columnar.replay import replay_columnar
    from creditlab.engine.scoring.columnar.table import events_table

    if progress is not None:
        progress("columnar", 0, len(history.events))
    subjects = subjects_table(history)
    try:
        done = replay_columnar(events_table(history), subjects, ordered,
                               starting=history.starting, end=history.end)
    except HistoryError as exc:
        raise HistoryError(exc.reason, file=history.file, line=exc.line,
                           field=exc.field) from None
    if progress is not None:
        progress("columnar", len(history.events), len(history.events))
    return Replay(history, tuple(ordered), tuple(done.entries()), tuple(done.outcomes()),
                  tuple(done.accounting), replay_manifest(history, ordered, "columnar"),
                  replay_digest(done.results, done.ledger))


def replay_manifest(history: History, ordered: Sequence[Scheme],
                    backend: Backend) -> dict[str, Any]:
    """A replay's manifest: versions, backend, the history's, schemes' and vocabulary's
    hashes, reforms, `as_of`."""
    manifest: dict[str, Any] = {
        "creditlab": creditlab_version(),
        "backend": backend,
        "history": history.sha256,
        "schemes": {s.id: s.sha256 for s in ordered},
    }
    reforms = reforms_manifest(ordered)  # the baseline and the reforms of a reformed scheme
    if reforms:
        manifest["reforms"] = reforms
    if history.vocabulary:
        manifest["vocabulary"] = history.vocabulary
    if history.end is not None:
        manifest["as_of"] = history.end
    return manifest


def check_starting(history: History, replayed: set[str]) -> None:
    """A starting point names a replayed or a shipped scheme: an unknown id is a typo.

    A starting point for a shipped scheme that this replay leaves out is kept silently:
    one history can serve replays of different schemes.
    """
    unknown = [p for p in history.starting if p.scheme not in replayed]
    if not unknown:
        return
    known = replayed | {s.id for s in shipped_schemes()}
    for point in unknown:
        if point.scheme not in known:
            raise HistoryError(f"starting point for unknown scheme {point.scheme!r}"
                               f"{did_you_mean(point.scheme, known)}", file=history.file,
                               line=point.line, field="starting.scheme")
