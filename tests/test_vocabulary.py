"""schemes/vocabulary.yaml contains the contract's core vocabulary, unchanged.

The core vocabulary is `../shared/contract/vocabulary-core.yaml` (or
`$CREDITLAB_SHARED/contract/vocabulary-core.yaml`). creditlab may add roles, event types
and optional attributes; it never renames, drops or retypes a core one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from creditlab.engine.inputs.vocabulary import (
    AttrSpec,
    Vocabulary,
    check_attr,
    load_vocabulary,
    shipped_vocabulary,
)

SCHEMES = Path(__file__).resolve().parents[1] / "schemes"


def shared_dir() -> Path:
    env = os.environ.get("CREDITLAB_SHARED")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared"


CORE = shared_dir() / "contract" / "vocabulary-core.yaml"

needs_core = pytest.mark.skipif(
    not CORE.is_file(),
    reason=f"the contract's core vocabulary is not at {CORE} (set CREDITLAB_SHARED to the "
           "folder holding contract/vocabulary-core.yaml)",
)


@pytest.fixture(scope="module")
def core() -> dict[str, Any]:
    data = yaml.safe_load(CORE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return shipped_vocabulary()


def attrs_of(spec: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    return dict((spec or {}).get("attrs") or {})


@needs_core
def test_every_core_role(core: dict[str, Any], vocabulary: Vocabulary) -> None:
    missing = [r for r in core["roles"] if r not in vocabulary.roles]
    assert not missing, f"roles of the core vocabulary missing from schemes/: {missing}"
    assert len(set(vocabulary.roles)) == len(vocabulary.roles), "a role is listed twice"


@needs_core
def test_every_core_subject_field(core: dict[str, Any], vocabulary: Vocabulary) -> None:
    for name, spec in core["subject"].items():
        assert name in vocabulary.subject, f"subject field {name!r} missing"
        ours = vocabulary.subject[name]
        if spec["type"].startswith("enum["):
            # creditlab may add values to a core enum (subject kinds: `city`), never drop one.
            core_values = AttrSpec(type=spec["type"]).values
            assert ours.values[:len(core_values)] == core_values, f"subject.{name}: {ours.type!r}"
        else:
            assert ours.type == spec["type"], \
                f"subject.{name}: type {ours.type!r} != {spec['type']!r}"
        assert ours.required == spec.get("required", False), f"subject.{name}: required differs"


@needs_core
def test_every_core_event_type_and_attribute(core: dict[str, Any],
                                             vocabulary: Vocabulary) -> None:
    problems: list[str] = []
    for code, spec in core["events"].items():
        ours = vocabulary.event(code)
        if ours is None:
            problems.append(f"{code}: missing")
            continue
        for name, attr in attrs_of(spec).items():
            mine = ours.attrs.get(name)
            if mine is None:
                problems.append(f"{code}.{name}: missing")
                continue
            if mine.type != attr["type"]:
                problems.append(f"{code}.{name}: type {mine.type!r}, core says {attr['type']!r}")
            if mine.required != attr.get("required", False):
                problems.append(f"{code}.{name}: required {mine.required}, core says "
                                f"{attr.get('required', False)}")
    assert not problems, "schemes/vocabulary.yaml differs from the core:\n" + "\n".join(problems)


@needs_core
def test_additions_to_core_types_are_optional(core: dict[str, Any],
                                              vocabulary: Vocabulary) -> None:
    """An attribute added to a core type cannot be required: core histories would break."""
    added_required = [
        f"{code}.{name}"
        for code, spec in core["events"].items()
        for name, attr in vocabulary.events[code].attrs.items()
        if name not in attrs_of(spec) and attr.required
    ]
    assert not added_required


@needs_core
def test_core_vocabulary_itself_loads(core: dict[str, Any]) -> None:
    voc = load_vocabulary(CORE)
    assert set(voc.events) == set(core["events"])


def test_shipped_vocabulary_is_the_schemes_file(vocabulary: Vocabulary) -> None:
    assert Path(vocabulary.file).resolve() == (SCHEMES / "vocabulary.yaml").resolve()
    assert vocabulary == load_vocabulary(SCHEMES / "vocabulary.yaml").model_copy(
        update={"file": vocabulary.file})


def test_event_codes_are_domain_words(vocabulary: Vocabulary) -> None:
    """Codes are `domain.behaviour` (or a bare domain) in lower-case words."""
    import re

    bad = [c for c in vocabulary.events if not re.fullmatch(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)?", c)]
    assert not bad


def test_enum_values_and_types_are_usable(vocabulary: Vocabulary) -> None:
    """Every enum has values, and every attribute type can check a value."""
    samples = {"int": 3, "number": 3, "bool": True, "str": "x", "date": "2019-03-01"}
    for code, spec in vocabulary.events.items():
        for name, attr in spec.attrs.items():
            if attr.kind == "enum":
                assert attr.values, f"{code}.{name} is an enum without values"
                assert check_attr(attr, attr.values[0]) == attr.values[0]
            else:
                assert attr.kind in samples, f"{code}.{name}: type {attr.type} on an event"
                check_attr(attr, samples[attr.kind], in_range=False)


def test_check_attr_examples() -> None:
    assert check_attr(AttrSpec(type="number"), 300) == 300
    with pytest.raises(ValueError, match="expected a number"):
        check_attr(AttrSpec(type="number"), True)
    with pytest.raises(ValueError, match="expected an integer"):
        check_attr(AttrSpec(type="int"), "3")
    with pytest.raises(ValueError, match="expected one of a, b"):
        check_attr(AttrSpec(type="enum[a, b]"), "c")
