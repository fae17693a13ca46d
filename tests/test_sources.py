"""Every quote in every scheme file is found in its source: a seed quote on the cited
line of `../shared/seeds/<file>`, an external quote in `../shared/catalog/external-facts.yaml`.

The project cites sources in short quotes and does not ship them; CI has `../shared`
beside the clone. Without it these tests skip and say so.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from creditlab.engine import shipped_schemes
from creditlab.engine.inputs.catalog import shipped_scheme_files

from conftest import shared_dir

SHARED = shared_dir()
pytestmark = pytest.mark.skipif(
    SHARED is None,
    reason="../shared (the seed documents) is absent: quotes NOT checked against sources; "
           "set CREDITLAB_SHARED=/path/to/shared to check them")

MAX_QUOTE = 300  # short quotes: the project cites, it does not copy


def _sources(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if node.get("kind") in ("seed", "external") and "quote" in node:
            yield path, node
        for key, value in node.items():
            yield from _sources(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _sources(value, f"{path}[{i}]")


def _file_sources() -> list[tuple[str, dict[str, Any]]]:
    """Every source of every shipped scheme file, read as plain YAML: libyaml parses them
    in a fraction of the time loading the schemes takes, so collection stays fast."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    out = []
    for path in shipped_scheme_files():
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
        out.extend((f"{data['id']}{p}", s) for p, s in _sources(data, ""))
    # The variants are reforms of those files (schemes/reforms/): their sources are their
    # base's, with what the reform adds or replaces, as loaded.
    out.extend((f"{scheme.id}{p}", s) for scheme in shipped_schemes()
               if scheme.variant is not None
               for p, s in _sources(scheme.model_dump(mode="json"), ""))
    return out


SOURCES = _file_sources()


def _external_quotes() -> set[str]:
    assert SHARED is not None
    data = yaml.safe_load((SHARED / "catalog" / "external-facts.yaml").read_text("utf-8"))
    quotes: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "quote" and isinstance(value, str):
                    quotes.add(value)
                elif key == "additional_quotes" and isinstance(value, list):
                    quotes.update(v for v in value if isinstance(v, str))
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(data)
    return quotes


@pytest.fixture(scope="module")
def external_quotes() -> set[str]:
    return _external_quotes()


def test_there_are_sources_to_check():
    assert len(SOURCES) > 50


def test_the_files_sources_are_the_loaded_schemes_sources():
    """The quotes checked below, read from the files, are the ones the engine loads."""
    def key(source: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(source.get(k) for k in ("kind", "file", "line", "quote"))

    loaded = {(f"{scheme.id}{p}", key(s)) for scheme in shipped_schemes()
              for p, s in _sources(scheme.model_dump(mode="json"), "")}
    assert {(where, key(s)) for where, s in SOURCES} == loaded


@pytest.mark.parametrize("where,source", SOURCES, ids=[w for w, _ in SOURCES])
def test_quote_is_in_its_source(where, source, external_quotes):
    quote = source["quote"]
    assert len(quote) <= MAX_QUOTE, f"{where}: quote longer than {MAX_QUOTE} characters"
    if source["kind"] == "seed":
        path = SHARED / "seeds" / source["file"]
        assert path.is_file(), f"{where}: no seed file {source['file']}"
        lines = path.read_text(encoding="utf-8").splitlines()
        if source.get("line"):
            line = source["line"]
            assert 1 <= line <= len(lines), f"{where}: {source['file']} has no line {line}"
            assert quote in lines[line - 1], (
                f"{where}: quote not on {source['file']}:{line}: {quote!r}")
        else:
            assert any(quote in text for text in lines), (
                f"{where}: quote not in {source['file']}: {quote!r}")
    else:
        assert any(quote in q for q in external_quotes), (
            f"{where}: quote not in external-facts.yaml: {quote!r}")

