"""Which rules of a scheme fire for an event: the durable_rules matcher.

durable_rules decides WHICH rules fire; it never does arithmetic (the reducer does, in
the scheme's declared order). The wrapper exists because of durable_rules' traps,
measured with 2.0.28 on this project's machine (see README, "Design"):

- a posted event is consumed by the first matching rule: events are asserted as facts,
  so every matching rule fires, then retracted so no state carries to the next event;
- the Host's timer threads run actions off the main thread: `_QuietHost` starts none;
- a ruleset cannot be registered twice and a new Host leaks: one Host per process, one
  ruleset per distinct scheme file (by content hash), checked empty before a replay;
- more than 1,024 sessions fail: one session, the subject carried in the fact;
- an exception in an action is swallowed: actions only append an index, and the
  completion callback's error is raised as `EngineError`; durable_rules catches
  BaseException too, so a KeyboardInterrupt (Ctrl-C) or SystemExit that arrives inside an
  action, or inside durable_rules' own Python code, is kept and raised again as itself;
- `1e-05` cannot be parsed and big integers never match: facts are serialised here,
  numbers in plain decimal notation, after the vocabulary has bounded them;
- the rulesets, their one session and the list their actions append to are the
  process's: every call into durable_rules (assert, actions, retract) holds one lock, so
  replays in several threads each see only their own facts.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import durable_rules_engine as _dre
from durable.engine import Host, Ruleset

from creditlab.engine.canonical import number
from creditlab.engine.errors import EngineError
from creditlab.engine.inputs.history import Event, Subject
from creditlab.engine.scoring.durable.compile import CompiledScheme, day_number

__all__ = ["Matcher"]

_NOT_HANDLED = 1
_OBSERVED = 2


class _QuietHost(Host):  # type: ignore[misc]
    """A Host that starts no timer threads: every action runs inside the assert call."""

    def _run(self) -> None:
        pass


_host: _QuietHost | None = None
_rulesets: dict[str, tuple[Ruleset, list[int]]] = {}
_lock = threading.RLock()
"""Held for every use of durable_rules: the host, the rulesets and their fired lists."""


def _ruleset_for(compiled: CompiledScheme) -> tuple[Ruleset, list[int]]:
    """The process's ruleset for this scheme content, created once."""
    global _host
    with _lock:
        if _host is None:
            _host = _QuietHost()
        name = compiled.ruleset_name
        if name not in _rulesets:
            fired: list[int] = []
            definition = {
                rule_id: {**spec, "run": _appender(fired, spec["run"])}
                for rule_id, spec in compiled.definition.items()
            }
            if not definition:
                _rulesets[name] = (None, fired)  # a scheme without rules matches nothing
            else:
                _rulesets[name] = (Ruleset(name, _host, definition), fired)
        return _rulesets[name]


def _appender(fired: list[int], index: int) -> Any:
    def action(c: Any) -> None:
        try:
            fired.append(index)
        except (KeyboardInterrupt, SystemExit) as exc:  # durable_rules would swallow it
            _caught.append(exc)

    return action


_caught: list[BaseException] = []
"""A KeyboardInterrupt or SystemExit met inside an action (held under `_lock`)."""


def _reraise_interrupt(errors: list[Any]) -> None:
    """Raise a KeyboardInterrupt or SystemExit that durable_rules caught, as itself."""
    caught = [*_caught, *errors]
    _caught.clear()
    for exc in caught:
        if isinstance(exc, BaseException) and not isinstance(exc, Exception):
            raise exc


class Matcher:
    """Asks durable_rules which rules of one scheme fire for each event, one at a time."""

    def __init__(self, compiled: CompiledScheme) -> None:
        self.compiled = compiled
        self._ruleset, self._fired = _ruleset_for(compiled)
        self._types = frozenset(t for r in compiled.scheme.rules for t in r.match.types)
        self._seq = 0
        with _lock:
            left = self._ruleset is not None and self._facts_left()
        if left:
            # Every fact is retracted after its event, so a ruleset reused by a later
            # replay starts empty. (delete_state is not used: measured with 2.0.28,
            # deleting the session and reusing the ruleset segfaults after a few replays.)
            raise EngineError(f"durable_rules kept facts from an earlier replay of "
                              f"{compiled.scheme.id}")

    def _facts_left(self) -> bool:
        try:
            return bool(self._ruleset.get_facts("0"))
        except _dre.error:
            return False  # error 309: the session does not exist yet

    def fired(self, event: Event, subject: Subject) -> list[int]:
        """Indexes (declared order) of the rules that fire for `event`, sorted."""
        if self._ruleset is None or event.type not in self._types:
            # No rule of the scheme names this type: durable_rules would match nothing.
            return []
        self._seq += 1
        fact = _serialise(self._fact(event, subject))
        handle = self._ruleset._handle
        errors: list[Any] = []
        with _lock:
            self._fired.clear()
            _caught.clear()
            result = _dre.assert_fact(handle, fact)
            if result[0] == _NOT_HANDLED:
                return []
            if result[0] == _OBSERVED:
                raise EngineError(f"durable_rules saw event {event.id!r} twice")
            try:
                self._ruleset.do_actions(result[1], lambda e, _state: errors.append(e))
            finally:
                _dre.retract_fact(handle, fact)
            _reraise_interrupt(errors)
            fired = sorted(set(self._fired))
        if any(errors):
            raise EngineError(f"a durable_rules action failed on event {event.id!r}: "
                              f"{next(e for e in errors if e)}")
        return fired

    def _fact(self, event: Event, subject: Subject) -> dict[str, Any]:
        c = self.compiled
        fact: dict[str, Any] = {
            "seq": self._seq,
            "domain": event.type.split(".", 1)[0],
            "type": event.type,
            "day": day_number(event.day),
        }
        for name in c.attrs:
            if name in event.attrs:
                fact[f"a_{name}"] = event.attrs[name]
        for role in c.roles:
            fact[f"role_{role}"] = role in subject.roles
        if c.reads_residence and subject.residence is not None:
            fact["s_residence"] = subject.residence
        if c.reads_hukou and subject.hukou is not None:
            fact["s_hukou"] = subject.hukou
        if c.reads_age:
            age = subject.age_on(event.day)
            if age is not None:
                fact["s_age"] = age
        return fact


def _serialise(fact: Mapping[str, Any]) -> str:
    parts = []
    for key, value in fact.items():
        if isinstance(value, bool) or value is None or isinstance(value, str):
            text = json.dumps(value, ensure_ascii=False)
        elif isinstance(value, (int, Decimal)):
            text = number(value)  # plain notation: durable_rules cannot parse 1e-05
        elif isinstance(value, date):
            text = str(day_number(value))
        else:  # pragma: no cover - the vocabulary admits no other types
            raise EngineError(f"cannot pass {type(value).__name__} to durable_rules")
        parts.append(f"{json.dumps(key)}:{text}")
    return "{" + ",".join(parts) + "}"
