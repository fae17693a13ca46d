"""Fuzzing the history readers: whatever the bytes, a History or a CreditlabError.

Arbitrary bytes, arbitrary YAML and JSON structures, histories built from random values
written as YAML 1.1 might misread them, and the bundled example with random bytes
inserted: no other exception may escape, and no example may take long (the bounds of
`engine/inputs/located.py` are what keep "billion laughs" and deep nesting cheap).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creditlab.engine.errors import CreditlabError
from creditlab.engine.inputs.history import History
from creditlab.engine.inputs.history_files import load_history
from creditlab.engine.inputs.vocabulary import Vocabulary, shipped_vocabulary

EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "example.yaml"
SECONDS = 5.0
"""Per example, generously: a bounded reader takes milliseconds."""

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
VOCABULARY: Vocabulary = shipped_vocabulary()


def read(data: bytes, suffix: str) -> History | CreditlabError:
    """Load `data` as a history file; only a History or a CreditlabError may come out."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzz{suffix}"
        path.write_bytes(data)
        start = time.perf_counter()
        try:
            outcome: History | CreditlabError = load_history(path, VOCABULARY)
        except CreditlabError as exc:
            outcome = exc
            assert len(str(exc)) < 1000, str(exc)[:300]  # bad values are quoted short
        elapsed = time.perf_counter() - start
    assert elapsed < SECONDS, f"{elapsed:.1f} s for {data[:200]!r}"
    return outcome


# Scalars as a careless or hostile writer might give them: YAML 1.1 look-alikes, extreme
# numbers, control characters, dates at and beyond the calendar's edges.
TRICKY_TEXT = st.sampled_from([
    "010", "0o10", "0x1F", "0b101", "1:30", "1:30.5", "yes", "no", "on", "~", "null", ".inf",
    "-.inf", ".nan", "1e999999999999999999", "1e-999999999999999999", "1.0e-999999999",
    "9" * 40, "0001-01-01T00:00:00+01:00", "9999-12-31", "2019-02-30", "2019-03-01",
    "1899-12-31", "2201-01-01", "<<", "=", "\x00", "\x1b[31m", "\u2028", "\u0085", "",
    "&a", "*a", "!include x", "!!python/object:os.system", "- x", "{", "[", "'", '"',
])
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=20), TRICKY_TEXT,
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.dates(),
)


def plain(value: Any) -> Any:
    """`value` with what JSON and safe YAML cannot write (Decimals, dates) as strings."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


STRUCTURES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.one_of(st.text(max_size=8), TRICKY_TEXT), children, max_size=5),
    ),
    max_leaves=30,
).map(plain)

EVENT_TYPES = [*sorted(VOCABULARY.events)[:20], "volunteer.service", "traffic.red_light"]
KEYS = st.sampled_from(["id", "subject", "at", "type", "hours", "as", "kind", "severity",
                        "amount_rmb", "where", "born", "roles", "record", "scheme", "score",
                        "grade", "name", "as_of"])


@st.composite
def history_like(draw: st.DrawFn) -> dict[str, Any]:
    """Nearly a history: right keys, values that are sometimes wrong."""
    ids = draw(st.lists(st.one_of(st.sampled_from(["wang", "lu"]), TRICKY_TEXT),
                        min_size=0, max_size=3))
    subjects = [{"id": i, "kind": draw(st.sampled_from(["person", "enterprise", 1])),
                 **draw(st.dictionaries(KEYS, SCALARS, max_size=2))} for i in ids]
    events = []
    for _ in range(draw(st.integers(0, 4))):
        event: dict[str, Any] = {
            "subject": draw(st.one_of(st.sampled_from(ids or ["wang"]), SCALARS)),
            "at": draw(st.one_of(st.dates(), st.datetimes(), TRICKY_TEXT)),
            "type": draw(st.one_of(st.sampled_from(EVENT_TYPES), SCALARS)),
        }
        event.update(draw(st.dictionaries(KEYS, SCALARS, max_size=3)))
        events.append(event)
    out: dict[str, Any] = {"subjects": subjects, "events": events}
    out.update(draw(st.dictionaries(st.sampled_from(["as_of", "name", "starting"]),
                                    SCALARS, max_size=1)))
    return out


def as_jsonl(data: Any) -> bytes:
    if isinstance(data, dict) and isinstance(data.get("subjects"), list):
        lines = [{"record": "subject", **s} if isinstance(s, dict) else s
                 for s in data["subjects"]]
        lines += data.get("events") or []
    else:
        lines = data if isinstance(data, list) else [data]
    return "\n".join(json.dumps(plain(line)) for line in lines).encode()


def as_yaml(data: Any, *, unquoted: bool) -> bytes:
    text = yaml.safe_dump(plain(data), allow_unicode=True, default_flow_style=None)
    if unquoted:  # as a person writes it: 010 and 1:30 unquoted, for YAML 1.1 to misread
        text = text.replace("'", "")
    return text.encode()


@FUZZ
@given(data=st.one_of(st.binary(max_size=2000), st.text(max_size=500).map(str.encode)))
def test_arbitrary_bytes(data: bytes) -> None:
    read(data, ".yaml")
    read(data, ".jsonl")


@FUZZ
@given(data=STRUCTURES)
def test_arbitrary_structures(data: Any) -> None:
    read(as_yaml(data, unquoted=False), ".yaml")
    read(as_yaml(data, unquoted=True), ".yaml")
    read(as_jsonl(data), ".jsonl")


@FUZZ
@given(data=history_like())
def test_nearly_histories(data: dict[str, Any]) -> None:
    read(as_yaml(data, unquoted=False), ".yaml")
    read(as_yaml(data, unquoted=True), ".yaml")
    read(as_jsonl(data), ".jsonl")


NASTY = st.sampled_from([
    b"\x00", b"\x1b", b"\x07", b"\x7f", b"\xc2\x85", b"\xe2\x80\xa8", b"\xff", b"\n",
    b"\r", b"\t", b": ", b"- ", b"[", b"]", b"{", b"}", b"&a ", b"*a", b"<<: *a\n",
    b"!include ", b"!!binary ", b"010", b"1:30", b"1e-999999999999999999",
    b"9999-12-31", b"0001-01-01T00:00:00+01:00", b"'", b'"', b"#", b"%YAML 1.1\n---\n",
    b"---\n", b"...\n", b"? ",
])


@FUZZ
@given(data=st.data())
def test_mutated_example(data: st.DataObject) -> None:
    """The bundled example (YAML and JSONL) with random bytes inserted, replaced, removed."""
    original = EXAMPLE.read_bytes()
    as_lines = as_jsonl(yaml.safe_load(original))
    for text, suffix in ((original, ".yaml"), (as_lines, ".jsonl")):
        mutated = bytearray(text)
        for _ in range(data.draw(st.integers(1, 4))):
            at = data.draw(st.integers(0, len(mutated)))
            insert = data.draw(st.one_of(NASTY, st.binary(min_size=1, max_size=8)))
            cut = data.draw(st.integers(0, 3))
            mutated[at:at + cut] = insert
        read(bytes(mutated), suffix)


def test_the_example_loads_in_both_formats() -> None:
    """The mutations start from valid files."""
    original = EXAMPLE.read_bytes()
    assert isinstance(read(original, ".yaml"), History)
    assert isinstance(read(as_jsonl(yaml.safe_load(original)), ".jsonl"), History)


@settings(max_examples=30, deadline=None)
@given(levels=st.integers(2, 12), width=st.integers(2, 12))
def test_alias_bombs_are_cheap(levels: int, width: int) -> None:
    """Aliases of aliases (expanding to width^levels nodes) are refused or cheap."""
    text = "a0: &a0 [x, x]\n"
    for n in range(1, levels):
        text += f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * width) + "]\n"
    read(text.encode(), ".yaml")


@settings(max_examples=20, deadline=None)
@given(depth=st.integers(1, 5000), opener=st.sampled_from(["[", "{a: "]))
def test_deep_nesting_is_cheap(depth: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    read(f"subjects: {opener * depth}{closer * depth}\nevents: []\n".encode(), ".yaml")
    read(('{"record": "subject", "id": "wang", "kind": "person", "x": '
          + "[" * depth + "]" * depth + "}").encode(), ".jsonl")
