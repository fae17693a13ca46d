"""Histories built in memory for tests (no file needed)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from creditlab.engine import History, shipped_vocabulary
from creditlab.engine.history import parse_history
from creditlab.engine.located import Located


def history(subjects: list[dict[str, Any]], events: list[dict[str, Any]],
            **extra: Any) -> History:
    data = {"subjects": subjects, "events": events, **extra}
    digest = "sha256:" + hashlib.sha256(json.dumps(data, default=str).encode()).hexdigest()
    return parse_history(Located(data, "<test>", {}), digest, shipped_vocabulary())


def person(sid: str = "p", **fields: Any) -> dict[str, Any]:
    return {"id": sid, "kind": "person", **fields}
