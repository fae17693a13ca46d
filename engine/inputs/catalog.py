"""The shipped schemes: every `schemes/*.yaml` file but the vocabulary, by id."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from creditlab.engine.errors import SchemeError, UnknownSchemeError
from creditlab.engine.inputs.load import load_scheme
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.inputs.vocabulary import shipped_vocabulary

__all__ = [
    "refuse_duplicate_ids",
    "resolve_schemes",
    "schemes_dir",
    "shipped_scheme",
    "shipped_schemes",
]


NOT_SCHEMES = ("vocabulary.yaml", "ambiguities.yaml")
"""Data files in schemes/ that are not schemes."""


def schemes_dir() -> Path:
    """The folder the shipped scheme files live in."""
    # Resolved: the package may be imported through a tree of links (./dev's .venv/tree),
    # and messages should name the files themselves.
    return Path(str(resources.files("creditlab.schemes"))).resolve()


def shipped_scheme_files() -> list[Path]:
    """The shipped scheme files (variants included), sorted by name."""
    return sorted(p for p in schemes_dir().glob("*.yaml") if p.name not in NOT_SCHEMES)


@cache
def shipped_schemes() -> tuple[Scheme, ...]:
    """Every shipped scheme (variants included), sorted by id."""
    vocabulary = shipped_vocabulary()
    schemes = [load_scheme(p, vocabulary) for p in shipped_scheme_files()]
    refuse_duplicate_ids(schemes)
    return tuple(sorted(schemes, key=lambda s: s.id))


def refuse_duplicate_ids(schemes: list[Scheme] | tuple[Scheme, ...]) -> None:
    """Two schemes with one id would give duplicate rows under one manifest hash: refuse,
    naming both sources."""
    seen: dict[str, Scheme] = {}
    for scheme in schemes:
        first = seen.get(scheme.id)
        seen.setdefault(scheme.id, scheme)
        if first is not None:
            also = "the same file" if first.file == scheme.file else first.file
            raise SchemeError(f"scheme id {scheme.id!r} is given twice: here and in {also}; "
                              "each scheme of a replay needs its own id", file=scheme.file,
                              line=1, field="id")


def shipped_scheme(scheme_id: str) -> Scheme:
    """One shipped scheme by id; an unknown id says which ones are close."""
    for scheme in shipped_schemes():
        if scheme.id == scheme_id:
            return scheme
    raise UnknownSchemeError(scheme_id, [s.id for s in shipped_schemes()])


def resolve_schemes(names: list[str] | tuple[str, ...]) -> list[Scheme]:
    """Schemes by id or by path to a scheme file; all shipped schemes when `names` is empty.

    Variants (ids with '@') are included only when named.
    """
    if not names:
        return [s for s in shipped_schemes() if s.variant is None]
    out: list[Scheme] = []
    for name in names:
        path = Path(name)
        if name.endswith((".yaml", ".yml")) and path.exists():
            out.append(load_scheme(path, shipped_vocabulary()))
        else:
            out.append(shipped_scheme(name))
    refuse_duplicate_ids(out)
    return out
