"""Scheme files read, validated against the `Scheme` model and the vocabulary.

`load_scheme` validates a YAML file and resolves every reference (event types, attributes
and their values, roles, band labels, cap groups, rule ids) before any replay runs; each
problem is a `SchemeError` naming file, line and field.

durable_rules hangs or fails on wide rule networks. Measured with 2.0.28 (this machine,
`compile_scheme` then one event): an `in` list of 512 values hangs (511 build); an `in`
list that repeats a value fails with error 107 (200 repeats) or, while matching, 303 (66);
more than 256 rules on one identical condition fail with error 108; a rule naming 14 or
more event types fails with error 113 (12 build); 100 rules that name several types
sharing one type fail with error 303 or 107 (50 build); 4,100 rules fail with error 106
(4,050 build). The scoring stage nests conditions domain first, then type, then the
rest; the limits below, well under those, are checked here at load time with a clear
error instead of a hang or a durable_rules traceback.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from creditlab.engine.errors import SchemeError, did_you_mean
from creditlab.engine.inputs.located import Located, format_path, load_yaml
from creditlab.engine.inputs.scheme import (
    AccumulatedEffect,
    Condition,
    CountTiersEffect,
    FormulaEffect,
    ListEffect,
    QuantityTiersEffect,
    ReclassifyEffect,
    Rule,
    Scheme,
    SubjectCondition,
    TiersEffect,
)
from creditlab.engine.inputs.vocabulary import AttrSpec, Vocabulary, check_attr, domain_of

__all__ = [
    "MAX_DOMAINS",
    "MAX_IN_VALUES",
    "MAX_ROLES",
    "MAX_RULES",
    "MAX_RULES_PER_TYPE",
    "MAX_SHARED_RULES_PER_TYPE",
    "MAX_TYPES_PER_DOMAIN",
    "MAX_TYPES_PER_RULE",
    "load_scheme",
    "located_error",
    "parse_scheme",
]

MAX_DOMAINS = 500
MAX_TYPES_PER_DOMAIN = 500
MAX_RULES_PER_TYPE = 250
MAX_RULES = 2000
"""Rules in one scheme (4,100 fail; the largest shipped scheme has 130)."""
MAX_IN_VALUES = 200
"""Values of one `in` condition (512 hang); a value listed twice is refused."""
MAX_ROLES = 50
"""Entries of `roles_any` or `roles_none` (the vocabulary has 15 roles); no repeats."""
MAX_TYPES_PER_RULE = 10
"""Event types one rule names (14 fail; the shipped schemes name at most 7)."""
MAX_SHARED_RULES_PER_TYPE = 50
"""Rules naming several types, one of them this type (100 fail)."""


def load_scheme(path: str | Path, vocabulary: Vocabulary) -> Scheme:
    """Read a scheme file, validate it and resolve its references."""
    path = Path(path)
    located = load_yaml(path, SchemeError)
    raw = path.read_bytes()
    return parse_scheme(located, vocabulary, "sha256:" + hashlib.sha256(raw).hexdigest())


def parse_scheme(located: Located, vocabulary: Vocabulary, sha256: str) -> Scheme:
    """A scheme from YAML data, validated and with every reference resolved."""
    if not isinstance(located.data, dict):
        raise SchemeError("a scheme file is a mapping (id, name, scale, rules, ...)",
                          file=located.file, line=1)
    try:
        scheme = Scheme.model_validate({**located.data, "file": located.file,
                                        "sha256": sha256})
    except ValidationError as exc:
        raise located_error(exc, located) from None
    _Resolver(scheme, located, vocabulary).check()
    return scheme


def located_error(exc: ValidationError, located: Located,
                  path: Sequence[Any] | None = None) -> SchemeError:
    """A pydantic error as a SchemeError naming the file, line and field; `path` is the
    error's path into the data when the caller knows it better (its own union tags)."""
    err = exc.errors()[0]
    loc = tuple(path) if path is not None else _strip_tags(err["loc"], located.data)
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = f"unknown key {loc[-1]!r}"
    elif err["type"] == "missing":
        msg = f"missing required key {loc[-1]!r}"
    elif err["type"] == "is_instance_of" and err.get("ctx", {}).get("class") == "Decimal":
        msg = f"expected a number, got {_short(err['input'])}"
    elif err["type"] == "value_error":
        msg = msg.removeprefix("Value error, ")
    # Pydantic quotes the bad input whole (a discriminator tag, a pattern mismatch): keep
    # each quoted value to a short prefix.
    msg = _QUOTED.sub(lambda m: m.group(0) if len(m.group(0)) <= 42
                      else m.group(0)[:41] + "\u2026'", msg)
    if len(msg) > 300:
        msg = msg[:300] + "\u2026"
    return SchemeError(msg, file=located.file, line=located.line_of(loc),
                       field=format_path(loc))


_QUOTED = re.compile(r"'[^']*'")


_MISSING = object()


def _strip_tags(loc: Sequence[Any], data: Any) -> tuple[Any, ...]:
    """Pydantic's error path without the parts it adds for unions, as a path into `data`.

    A discriminated union adds its tag (`("effects", 0, "points", "points")`: the first
    `points` is the tag of `{kind: points, points: ...}`); a plain union adds the name of
    the member tried (`str`, `list[str]`, `function-before[...]`). The data decides which
    parts are keys: the tag is the node's `kind`, taken once; a member name is not a key.
    """
    out: list[Any] = []
    node: Any = data
    tag_taken = False
    for part in loc:
        if isinstance(node, dict):
            if not tag_taken and isinstance(part, str) and part == node.get("kind"):
                tag_taken = True
                continue
            if isinstance(part, str) and part not in node and ("[" in part or "(" in part):
                continue
            node = node.get(part, _MISSING)
        elif isinstance(node, list):
            if not isinstance(part, int):
                continue
            node = node[part] if 0 <= part < len(node) else _MISSING
        elif node is not _MISSING:
            continue  # below a scalar: the name of a union member
        tag_taken = False
        out.append(part)
    return tuple(out)


def _repeated(items: Sequence[Any]) -> Any:
    """The first item listed twice, or None."""
    seen: set[Any] = set()
    for item in items:
        if item in seen:
            return item
        seen.add(item)
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "\u2026"


class _Resolver:
    """Checks every reference of a validated scheme, with the line of the offending key."""

    def __init__(self, scheme: Scheme, located: Located, vocabulary: Vocabulary) -> None:
        self.scheme = scheme
        self.located = located
        self.vocabulary = vocabulary

    def fail(self, reason: str, *path: str | int) -> SchemeError:
        return SchemeError(reason, file=self.located.file, line=self.located.line_of(path),
                           field=format_path(path))

    def check(self) -> None:
        s = self.scheme
        labels = Counter(b.label for b in s.bands)
        for i, band in enumerate(s.bands):
            if labels[band.label] > 1:
                raise self.fail(f"duplicate band label {band.label!r}", "bands", i, "label")
        groups = {g.id for g in s.cap_groups}
        if len(groups) != len(s.cap_groups):
            raise self.fail("duplicate cap group id", "cap_groups")
        ids: dict[str, int] = {}
        for i, rule in enumerate(s.rules):
            if rule.id in ids:
                raise self.fail(f"duplicate rule id {rule.id!r} (first is rules[{ids[rule.id]}])",
                                "rules", i, "id")
            ids[rule.id] = i
        for i, rule in enumerate(s.rules):
            self.check_rule(i, rule, groups, ids)
        self.check_checks(ids)
        self.check_repeats(ids)
        for i, interp in enumerate(s.interpretations):
            for rid in interp.rules:
                if rid not in ids:
                    raise self.fail(f"unknown rule {_short(rid)}{did_you_mean(rid, ids)}",
                                    "interpretations", i, "rules")
        if len(s.rules) > MAX_RULES:
            raise self.fail(f"{len(s.rules)} rules; a scheme has at most {MAX_RULES} "
                            "(durable_rules fails beyond about 4,000)", "rules", MAX_RULES)
        per_type: Counter[str] = Counter()
        shared: Counter[str] = Counter()
        for rule in s.rules:
            per_type.update(rule.match.types)
            if len(rule.match.types) > 1:
                shared.update(set(rule.match.types))
        crowded = [t for t, n in shared.items() if n > MAX_SHARED_RULES_PER_TYPE]
        if crowded:
            raise self.fail(f"{shared[crowded[0]]} rules name {crowded[0]} among other types; "
                            f"durable_rules fails beyond {MAX_SHARED_RULES_PER_TYPE} such rules "
                            "on one event type", "rules")
        domains: dict[str, set[str]] = {}
        for etype in per_type:
            domains.setdefault(domain_of(etype), set()).add(etype)
        crowded = [t for t, n in per_type.items() if n > MAX_RULES_PER_TYPE]
        if crowded:
            raise self.fail(f"{per_type[crowded[0]]} rules match {crowded[0]}; durable_rules "
                            f"fails beyond {MAX_RULES_PER_TYPE} rules on one event type", "rules")
        if len(domains) > MAX_DOMAINS or any(len(t) > MAX_TYPES_PER_DOMAIN
                                             for t in domains.values()):
            raise self.fail("too many event types or domains for one durable_rules ruleset "
                            f"(at most {MAX_DOMAINS} domains of {MAX_TYPES_PER_DOMAIN} types)",
                            "rules")

    def check_rule(self, i: int, rule: Rule, groups: set[str], ids: dict[str, int]) -> None:
        here = ("rules", i)
        voc = self.vocabulary
        specs: dict[str, AttrSpec] = {}
        if len(rule.match.types) > MAX_TYPES_PER_RULE:
            raise self.fail(f"{len(rule.match.types)} event types; a rule names at most "
                            f"{MAX_TYPES_PER_RULE} (durable_rules fails from 14)",
                            *here, "match", "type")
        for etype in rule.match.types:
            spec = voc.event(etype)
            if spec is None:
                raise self.fail(f"unknown event type {etype!r}{did_you_mean(etype, voc.events)}",
                                *here, "match", "type")
            for name, attr in spec.attrs.items():
                specs.setdefault(name, attr)
        for j, cond in enumerate(rule.match.where):
            self.check_condition(cond, specs, rule, (*here, "match", "where", j))
        self.check_subject(rule.match.subject, (*here, "match", "subject"))
        for j, effect in enumerate(rule.effects):
            where = (*here, "effects", j)
            if isinstance(effect, AccumulatedEffect) and effect.attr is not None:
                total = self.attr(specs, effect.attr, rule, (*where, "of"))
                if total.kind not in ("int", "number"):
                    raise self.fail(f"accumulated needs a number attribute or 'count'; "
                                    f"{effect.of!r} is {total.type}", *where, "of")
            if isinstance(effect, (TiersEffect, QuantityTiersEffect, FormulaEffect)):
                attr = self.attr(specs, effect.attr, rule, (*where, "attr"))
                numeric = attr.kind in ("int", "number")
                if isinstance(effect, TiersEffect):
                    if attr.kind != "enum":
                        raise self.fail(f"tiers need an enum attribute; {effect.attr!r} is "
                                        f"{attr.type}", *where, "attr")
                    for k, tier in enumerate(effect.tiers):
                        if tier.value not in attr.values:
                            raise self.fail(f"{tier.value!r} is not a value of {effect.attr}"
                                            f"{did_you_mean(tier.value, attr.values)}",
                                            *where, "tiers", k, "value")
                elif not numeric:
                    raise self.fail(f"{effect.kind} needs a number attribute; {effect.attr!r} "
                                    f"is {attr.type}", *where, "attr")
            if isinstance(effect, FormulaEffect) and effect.per is None and effect.per_points:
                raise self.fail("per_points needs 'per'", *where, "per")
            if isinstance(effect, ReclassifyEffect) and self.scheme.band(effect.grade) is None:
                labels = [b.label for b in self.scheme.bands]
                raise self.fail(f"unknown grade {effect.grade!r}"
                                f"{did_you_mean(effect.grade, labels)}", *where, "grade")
            if isinstance(effect, CountTiersEffect):
                bounds = [t.more_than for t in effect.tiers]
                if bounds != sorted(set(bounds)):
                    raise self.fail("count tiers must be in increasing order of more_than",
                                    *where, "tiers")
            if isinstance(effect, ListEffect) and not effect.flag.replace("_", "").isalnum():
                raise self.fail("a list flag is a lower-case word like 'blacklisted'",
                                *where, "flag")
        if rule.cap_group is not None and rule.cap_group not in groups:
            raise self.fail(f"unknown cap group {rule.cap_group!r}"
                            f"{did_you_mean(rule.cap_group, groups)}", *here, "cap_group")
        if rule.same_act_as is not None:
            other = ids.get(rule.same_act_as)
            if other is None:
                raise self.fail(f"unknown rule {_short(rule.same_act_as)}"
                                f"{did_you_mean(rule.same_act_as, ids)}", *here, "same_act_as")
            if other >= i:
                raise self.fail("same_act_as must name an earlier rule (the one that scores "
                                "the act)", *here, "same_act_as")

    def check_subject(self, subj: SubjectCondition | None, path: tuple[str | int, ...]) -> None:
        if subj is None:
            return
        roles = self.vocabulary.roles
        for key in ("roles_any", "roles_none"):
            listed: list[str] = getattr(subj, key)
            if len(listed) > MAX_ROLES:
                raise self.fail(f"{len(listed)} roles; {key} lists at most {MAX_ROLES}",
                                *path, key)
            twice = _repeated(listed)
            if twice is not None:
                raise self.fail(f"role {_short(twice)} is listed twice", *path, key)
            for role in listed:
                if role not in roles:
                    raise self.fail(f"unknown role {role!r}{did_you_mean(role, roles)}",
                                    *path, key)

    def check_repeats(self, ids: dict[str, int]) -> None:
        """Repeats: ids of their own, rules that exist, each rule in one repeat at most, and
        `within: validity` only over rules that have a validity (`expires_after`)."""
        seen: set[str] = set()
        taken: dict[str, str] = {}
        for i, repeat in enumerate(self.scheme.repeats):
            here = ("repeats", i)
            if repeat.id in seen:
                raise self.fail(f"duplicate repeat id {repeat.id!r}", *here, "id")
            seen.add(repeat.id)
            for j, rid in enumerate(repeat.rules):
                if rid not in ids:
                    raise self.fail(f"unknown rule {_short(rid)}{did_you_mean(rid, ids)}",
                                    *here, "rules", j)
                if rid in taken:
                    raise self.fail(f"rule {rid!r} is already in repeat {taken[rid]!r}",
                                    *here, "rules", j)
                taken[rid] = repeat.id
                rule = self.scheme.rules[ids[rid]]
                if repeat.within == "validity" and rule.expires_after is None:
                    raise self.fail(f"within: validity needs a validity period, and rule "
                                    f"{rid!r} has no expires_after", *here, "rules", j)

    def check_checks(self, ids: dict[str, int]) -> None:
        """Periodic checks: ids of their own, rules that exist, list states no rule touches
        (so that a check reads the record and never changes what a rule does)."""
        ruled = {e.flag for r in self.scheme.rules for e in r.effects
                 if isinstance(e, ListEffect)}
        seen: set[str] = set()
        for i, check in enumerate(self.scheme.checks):
            here = ("checks", i)
            if check.id in ids or check.id in seen:
                raise self.fail(f"duplicate id {check.id!r} (rules and checks share ids)",
                                *here, "id")
            seen.add(check.id)
            for j, rid in enumerate(check.count.rules):
                if rid not in ids:
                    raise self.fail(f"unknown rule {_short(rid)}{did_you_mean(rid, ids)}",
                                    *here, "count", "rules", j)
            self.check_subject(check.subject, (*here, "subject"))
            for j, effect in enumerate(check.effects):
                if not effect.flag.replace("_", "").isalnum():
                    raise self.fail("a list flag is a lower-case word like 'blacklisted'",
                                    *here, "effects", j, "flag")
                if effect.flag in ruled:
                    raise self.fail(f"a rule adds or removes {effect.flag!r}; a check gives a "
                                    "list state of its own", *here, "effects", j, "flag")

    def attr(self, specs: dict[str, AttrSpec], name: str, rule: Rule,
             path: tuple[str | int, ...]) -> AttrSpec:
        spec = specs.get(name)
        if spec is None:
            raise self.fail(f"{', '.join(rule.match.types)} has no attribute {name!r}"
                            f"{did_you_mean(name, specs)}", *path)
        return spec

    def check_condition(self, cond: Condition, specs: dict[str, AttrSpec], rule: Rule,
                        path: tuple[str | int, ...]) -> None:
        spec = self.attr(specs, cond.attr, rule, (*path, "attr"))
        values = cond.value if isinstance(cond.value, list) else [cond.value]
        if len(values) > MAX_IN_VALUES:
            raise self.fail(f"{len(values)} values; an 'in' condition lists at most "
                            f"{MAX_IN_VALUES} (durable_rules hangs from 512)", *path, "value")
        twice = _repeated(values)
        if twice is not None:
            raise self.fail(f"value {_short(twice)} is listed twice (durable_rules fails on "
                            "repeated values)", *path, "value")
        for value in values:
            try:
                check_attr(spec, value, in_range=False)
            except ValueError as exc:
                raise self.fail(f"value does not fit {cond.attr}: {exc}", *path, "value") from None
        if cond.op in ("gt", "gte", "lt", "lte") and spec.kind not in ("int", "number", "date"):
            raise self.fail(f"op {cond.op!r} needs a number or date attribute", *path, "op")
