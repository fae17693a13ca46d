"""Histories built in memory for tests (no file needed)."""

from __future__ import annotations

import hashlib
import json
import random
from decimal import Decimal
from typing import Any

from creditlab.engine import History, shipped_vocabulary
from creditlab.engine.inputs.history_files import parse_history
from creditlab.engine.inputs.located import Located
from creditlab.engine.inputs.vocabulary import EventSpec


def history(subjects: list[dict[str, Any]], events: list[dict[str, Any]],
            **extra: Any) -> History:
    data = {"subjects": subjects, "events": events, **extra}
    digest = "sha256:" + hashlib.sha256(json.dumps(data, default=str).encode()).hexdigest()
    return parse_history(Located(data, "<test>", {}), digest, shipped_vocabulary())


def random_attrs(rng: random.Random, spec: EventSpec, low: int = 0) -> dict[str, Any]:
    """Every attribute of an event type with a random value (numbers in [low, 500), or
    within the attribute's own `max` when it has one: a share is at most 1)."""
    attrs: dict[str, Any] = {}
    for name, attr in spec.attrs.items():
        if attr.kind in ("int", "number") and attr.max is not None and attr.max < 500:
            top = int(attr.max)
            attrs[name] = rng.randint(min(low, top), top) if attr.kind == "int" or top > 1 \
                else rng.choice([Decimal(0), Decimal("0.25"), Decimal("0.5"), Decimal(1)])
        elif attr.kind in ("int", "number"):
            attrs[name] = rng.randrange(low, 500)
        elif attr.kind == "enum":
            attrs[name] = rng.choice(attr.values)
        elif attr.kind == "bool":
            attrs[name] = rng.random() < 0.5
    return attrs


def person(sid: str = "p", **fields: Any) -> dict[str, Any]:
    return {"id": sid, "kind": "person", **fields}
