"""Fuzzing the scheme loader: whatever the data, a Scheme or a CreditlabError.

`parse_scheme` over arbitrary structures and over shipped scheme data with one part
mutated (a value replaced by an extreme or mistyped one, a key dropped, a list item
repeated): no other exception may escape, no example may take long, and error messages
quote bad values short.
"""

from __future__ import annotations

import copy
import time
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creditlab.engine.errors import CreditlabError, SchemeError
from creditlab.engine.inputs.catalog import shipped_scheme_files
from creditlab.engine.inputs.load import parse_scheme
from creditlab.engine.inputs.located import Located, load_yaml
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.inputs.vocabulary import Vocabulary, shipped_vocabulary

SECONDS = 10.0
"""Per example, generously: loading the largest shipped scheme takes about 0.1 s."""

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
VOCABULARY: Vocabulary = shipped_vocabulary()
SHIPPED = [load_yaml(p, SchemeError) for p in shipped_scheme_files()]


def parse(data: Any) -> Scheme | CreditlabError:
    """Parse `data` as a scheme; only a Scheme or a CreditlabError may come out."""
    start = time.perf_counter()
    try:
        outcome: Scheme | CreditlabError = parse_scheme(Located(data, "<fuzz>", {}),
                                                        VOCABULARY, "sha256:fuzz")
    except CreditlabError as exc:
        outcome = exc
        assert len(str(exc)) < 2000, str(exc)[:300]
    elapsed = time.perf_counter() - start
    assert elapsed < SECONDS, f"{elapsed:.1f} s"
    return outcome


EXTREME_NUMBERS = st.sampled_from([
    Decimal("-1.0e+5000"), Decimal("1e-5000"), Decimal("1e308"), Decimal("-0"),
    Decimal("999999999.999999"), Decimal("1000000000"), Decimal("0.0000001"),
    10**18, -(10**18), 2**63, 0, -1, 1,
])
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=20), EXTREME_NUMBERS,
    st.decimals(allow_nan=False, allow_infinity=False), st.dates(),
    st.sampled_from(["points", "tiers", "formula", "reclassify", "list", "seed", "year",
                     "documented", "volunteer.service", "hours", "in", "gte", "x" * 5000,
                     "9999-12-31", "enum[a, b]", "", "\x00"]),
)
STRUCTURES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(["id", "kind", "points", "rules", "match", "type",
                                         "effects", "scale", "min", "max", "start", "where",
                                         "attr", "op", "value", "years", "tiers", "range",
                                         "source", "fidelity", "x"]),
                        children, max_size=5)),
    max_leaves=25,
)


@FUZZ
@given(STRUCTURES)
def test_arbitrary_structures(data: Any) -> None:
    parse(data)


@FUZZ
@given(st.dictionaries(st.sampled_from(["id", "name", "city", "subject_kind", "status",
                                        "sources", "scale", "bands", "rules", "cap_groups"]),
                       STRUCTURES, max_size=10))
def test_arbitrary_top_level_keys(data: dict[str, Any]) -> None:
    parse(data)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


@st.composite
def mutated_schemes(draw: st.DrawFn) -> Any:
    """Shipped scheme data with one node replaced, dropped or repeated."""
    data = copy.deepcopy(draw(st.sampled_from(SHIPPED)).data)
    paths = [p for p in _paths(data) if p]
    path = draw(st.sampled_from(paths))
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    action = draw(st.sampled_from(["replace", "drop", "repeat", "nest"]))
    if action == "replace":
        parent[last] = draw(SCALARS)
    elif action == "drop":
        del parent[last]
    elif action == "repeat" and isinstance(parent[last], list) and parent[last]:
        parent[last] = parent[last] * draw(st.integers(2, 300))
    elif action == "nest":
        parent[last] = draw(STRUCTURES)
    return data


@FUZZ
@given(mutated_schemes())
def test_mutated_shipped_schemes(data: Any) -> None:
    parse(data)


def test_shipped_schemes_parse_unmutated() -> None:
    assert all(isinstance(parse(located.data), Scheme) for located in SHIPPED)


def test_long_bad_values_are_quoted_short() -> None:
    """Found by the fuzzer: pydantic quoted a 5,000-character `kind` whole."""
    for mutate in (lambda d: d["sources"][0].__setitem__("kind", "x" * 5000),
                   lambda d: d["rules"][0].__setitem__("id", "X" * 5000),
                   lambda d: d["rules"][0]["effects"][0].update(kind="points",
                                                                points="x" * 5000)):
        data = copy.deepcopy(SHIPPED[0].data)
        mutate(data)
        outcome = parse(data)
        assert isinstance(outcome, SchemeError) and len(str(outcome)) < 300, str(outcome)
