"""Shared fixtures: the CLI runner, the shared/ folder, tiny schemes built in tests."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

# numba keeps a compiled function's machine code while the function's own file is
# unchanged: an edited helper it inlines from another module (columnar/windows.py,
# dates.py) would leave the old code running. Tests compile into a cache named by the
# hash of every compiled module, so an edit to any of them compiles afresh.
_SCORING = Path(__file__).resolve().parents[1] / "engine" / "scoring"
_SOURCES = hashlib.sha256(b"".join(
    text for text in (p.read_bytes() for p in sorted(_SCORING.rglob("*.py")))
    if b"@njit" in text))
os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(
    os.environ.get("TMPDIR", "/tmp"), f"creditlab-numba-{_SOURCES.hexdigest()[:16]}"))

from creditlab.engine import Scheme, shipped_vocabulary  # noqa: E402 - after the cache
from creditlab.engine.inputs.load import parse_scheme  # noqa: E402
from creditlab.engine.inputs.located import Located  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _no_terminal_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """Output widths as a pipe gets them (160 columns) unless a test asks for another:
    pytest-xdist's workers run with COLUMNS=80 and LINES=24 in their environment."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true",
                     help="Rewrite tests/golden/* from the current output.")


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


GOLDEN = ROOT / "tests" / "golden"


def masked(text: str) -> str:
    """Output with what changes between commits without changing results masked: the
    version and file hashes (digests of results stay)."""
    text = re.sub(r'"(?!digest|replay_digest)([^"]+)": "sha256:[0-9a-f]{64}"',
                  r'"\1": "sha256:…"', text)
    return re.sub(r'"creditlab": "[^"]+"', '"creditlab": "…"', text)


def replace_file(path: Path, data: bytes) -> None:
    """Write `path` through a file of this process renamed over it: a reader (another xdist
    worker, another run in the same tree) sees the old file or the new one, never half."""
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    part.write_bytes(data)
    os.replace(part, path)


@pytest.fixture
def golden(update_goldens: bool) -> Callable[[str, str], None]:
    """Compares output with tests/golden/NAME; `--update-goldens` rewrites the file."""

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if update_goldens or not path.exists():
            replace_file(path, text.encode("utf-8"))
            if not update_goldens:
                pytest.fail(f"{name} did not exist: written; check it and rerun")
        assert text == path.read_text(encoding="utf-8"), (
            f"output differs from tests/golden/{name}; if the change is intended, rerun with "
            "--update-goldens and review the diff")

    return check


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def shared_dir() -> Path | None:
    """The shared/ folder beside the repository (CI has it), or CREDITLAB_SHARED."""
    env = os.environ.get("CREDITLAB_SHARED")
    candidates = [Path(env)] if env else []
    candidates.append(ROOT.parent / "shared")
    return next((p for p in candidates if (p / "seeds").is_dir()), None)


SOURCE = {"kind": "seed", "file": "test.txt", "quote": "a test rule"}


def rule(rule_id: str, etype: str, *effects: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A rule dict for a test scheme."""
    direction = extra.pop("direction", "reward")
    match = {"type": etype, **extra.pop("match", {})}
    return {"id": rule_id, "title": rule_id, "direction": direction, "match": match,
            "effects": list(effects), "source": SOURCE, "fidelity": "documented", **extra}


def points(n: Any) -> dict[str, Any]:
    return {"kind": "points", "points": n}


@pytest.fixture
def make_scheme() -> Callable[..., Scheme]:
    """Builds a small scheme from rule dicts, validated and resolved like a file."""

    def make(*rules: dict[str, Any], **fields: Any) -> Scheme:
        data: dict[str, Any] = {
            "id": fields.pop("id", "test_scheme"),
            "name": {"en": "Test scheme"},
            "city": "Testville",
            "subject_kind": fields.pop("subject_kind", "person"),
            "status": "draft",
            "sources": [SOURCE],
            "scale": {"start": 1000, "source": SOURCE, "fidelity": "documented",
                      **fields.pop("scale", {})},
            "bands": fields.pop("bands", []),
            "rules": list(rules),
            **fields,
        }
        digest = "sha256:" + hashlib.sha256(repr(data).encode()).hexdigest()
        return parse_scheme(Located(data, "<test>", {}), shipped_vocabulary(), digest)

    return make
