"""The shipped schemes, by id: every `schemes/*.yaml` file but the vocabulary, with the
retention overlays of its province (`schemes/overlays/`), and each reform in
`schemes/reforms/` applied to its base (the variants: `BASE@READING`)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path

from creditlab.engine.errors import SchemeError, UnknownSchemeError, did_you_mean
from creditlab.engine.inputs.load import load_scheme
from creditlab.engine.inputs.located import Located
from creditlab.engine.inputs.overlay import apply_overlays, shipped_overlays
from creditlab.engine.inputs.reform import (
    Reform,
    apply_reform,
    is_reform_file,
    load_reform,
    reform_bases,
)
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.inputs.vocabulary import Vocabulary, shipped_vocabulary

__all__ = [
    "refuse_duplicate_ids",
    "resolve_schemes",
    "schemes_dir",
    "shipped_reform_files",
    "shipped_scheme",
    "shipped_scheme_files",
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
    """The shipped scheme files, sorted by name (the variants are reforms of them)."""
    return sorted(p for p in schemes_dir().glob("*.yaml") if p.name not in NOT_SCHEMES)


def shipped_reform_files() -> list[Path]:
    """The shipped reforms (`schemes/reforms/*.yaml`: the variants), sorted by name."""
    return sorted((schemes_dir() / "reforms").glob("*.yaml"))


@cache
def shipped_schemes() -> tuple[Scheme, ...]:
    """Every shipped scheme (variants included), sorted by id."""
    vocabulary = shipped_vocabulary()
    schemes = [load_scheme(p, vocabulary) for p in shipped_scheme_files()]
    by_id = {s.id: s for s in schemes}
    for path in shipped_reform_files():
        reform, located = load_reform(path)
        base = by_id.get(reform.reform.of)
        if base is None:
            raise SchemeError(f"unknown scheme {reform.reform.of!r}"
                              f"{did_you_mean(reform.reform.of, by_id)}", file=path,
                              line=located.line_of(("reform", "of")), field="reform.of")
        schemes.append(apply_reform(base, reform, vocabulary=vocabulary, located=located))
    refuse_duplicate_ids(schemes)
    # Overlays last, so that they also reach the rules a variant adds.
    overlaid = (_overlaid(s, vocabulary) for s in schemes)
    return tuple(sorted(overlaid, key=lambda s: s.id))


def _overlaid(scheme: Scheme, vocabulary: Vocabulary) -> Scheme:
    """`scheme` with the retention overlays of its province (idempotent)."""
    return apply_overlays(scheme, shipped_overlays(schemes_dir() / "overlays"),
                          vocabulary=vocabulary)


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


def resolve_schemes(names: Sequence[str], reforms: Sequence[str | Path] = ()) -> list[Scheme]:
    """Schemes by id or by path to a scheme file; all shipped schemes when `names` is empty.

    Variants (ids with '@') are included only when named. A name may carry reform files
    after its scheme, `ID+reform.yaml[+other.yaml]`: they apply in order (stacking); a
    reform file alone is applied to the shipped scheme it is of.
    `reforms` (the `--reform` files) apply, in order, to every chosen scheme they are of
    (`reform.of`, also a scheme already reformed from it); a reform whose base is not
    among the chosen schemes adds its base, reformed.
    """
    vocabulary = shipped_vocabulary()
    out: list[Scheme] = ([s for s in shipped_schemes() if s.variant is None] if not names
                         else [_named(name, vocabulary) for name in names])
    for file in reforms:
        reform, located = load_reform(file)
        hits = [i for i, s in enumerate(out) if reform.reform.of in reform_bases(s)]
        if not hits:
            out.append(apply_reform(_base_of(reform, located), reform, vocabulary=vocabulary,
                                    located=located))
        for i in hits:
            out[i] = apply_reform(out[i], reform, vocabulary=vocabulary, located=located)
    # A scheme file or a reform of a province with an overlay gets it, as a shipped scheme
    # does (a shipped scheme has it already: applying it again changes nothing).
    out = [_overlaid(s, vocabulary) for s in out]
    refuse_duplicate_ids(out)
    return out


def _named(name: str, vocabulary: Vocabulary) -> Scheme:
    """One `--scheme` value: an id, a scheme file or a reform file (applied to the shipped
    scheme it is of), followed by any `+reform.yaml`s."""
    if name.endswith((".yaml", ".yml")) and Path(name).exists():
        base, files = name, []
    else:
        base, *files = _split_reforms(name)
    if not (base.endswith((".yaml", ".yml")) and Path(base).exists()):
        scheme = shipped_scheme(base)
    elif is_reform_file(base):
        reform, located = load_reform(base)
        scheme = apply_reform(_base_of(reform, located), reform, vocabulary=vocabulary,
                              located=located)
    else:
        scheme = load_scheme(Path(base), vocabulary)
    for file in files:
        reform, located = load_reform(file)
        scheme = apply_reform(scheme, reform, vocabulary=vocabulary, located=located)
    return scheme


def _split_reforms(name: str) -> list[str]:
    """`base+a.yaml+b.yaml` as [base, a.yaml, b.yaml]; a '+' inside a file's own name is
    kept when the file exists (`dir/x+y.yaml`)."""
    parts = name.split("+")
    out = [parts[0]]
    for part in parts[1:]:
        if (out[-1].endswith((".yaml", ".yml")) and Path(out[-1]).exists()) or len(out) == 1:
            out.append(part)
        else:
            out[-1] += "+" + part
    for file in out[1:]:
        if not file.endswith((".yaml", ".yml")):
            raise SchemeError(f"{name!r}: after '+' comes a reform file (NAME.yaml), not "
                              f"{file!r}", field="scheme")
    return out


def _base_of(reform: Reform, located: Located) -> Scheme:
    """The scheme a `--reform` names as `of`, when none of the chosen schemes is it."""
    try:
        return shipped_scheme(reform.reform.of)
    except UnknownSchemeError as exc:
        raise SchemeError(str(exc), file=reform.file, line=located.line_of(("reform", "of")),
                          field="reform.of") from None
