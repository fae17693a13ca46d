"""Auditors' commands: lint (static checks of scheme files) and audit (properties over
generated histories, counterfactual group checks). Exit 1 when a check fails, so that
both fit CI."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from rich import box
from rich.table import Table
from rich.text import Text

from creditlab.engine import (
    UnknownSchemeError,
    load_history,
    resolve_schemes,
    shipped_vocabulary,
    version,
)
from creditlab.engine.checks.lint import Finding, has_errors, lint_file, lint_scheme
from creditlab.engine.inputs.catalog import schemes_dir, shipped_scheme_files
from creditlab.engine.inputs.reform import is_reform_file
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.scoring.replay import Backend
from creditlab.engine.views.files import write_new
from creditlab.engine.views.findings import (
    SEVERITIES,
    at_least,
    github_annotations,
    relative,
    sarif,
)

from .completion import complete_scheme
from .output import ProgressBar, backend_option, console, format_option, write_json
from .render import findings_tables
from .width import width_option

__all__ = ["COMMANDS", "audit_command", "lint_command"]

_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim", "pass": "green",
          "fail": "bold red", "not_applicable": "dim"}


def _scheme_files(names: Sequence[str]) -> list[Path]:
    """Scheme files by id or path; every shipped scheme file when none is named."""
    folder = schemes_dir()
    shipped = shipped_scheme_files()
    if not names:
        return shipped
    out = []
    for name in names:
        path = Path(name)
        if name.endswith((".yaml", ".yml")) and path.exists():
            out.append(path)
        elif (folder / f"{name}.yaml").exists():
            out.append(folder / f"{name}.yaml")
        elif (folder / "reforms" / f"{name}.yaml").exists():  # a variant, kept as a reform
            out.append(folder / "reforms" / f"{name}.yaml")
        else:
            raise UnknownSchemeError(name, [p.stem for p in shipped])
    return out


@click.command("lint")
@click.argument("schemes", nargs=-1, metavar="[SCHEME_OR_PATH]...",
                shell_complete=complete_scheme)
@format_option("table", "text", "json", "github", "sarif")
@click.option("--severity", type=click.Choice(SEVERITIES), default="info", show_default=True,
              help="Show findings of this severity or worse (the exit code still counts "
                   "every error).")
@width_option
def lint_command(schemes: Sequence[str], fmt: str, severity: str) -> None:
    """Check scheme files statically: bands, tiers, references, double counting.

    Every finding has a severity (error, warning, info), a code, the file and line, the
    rule, and why it matters. Findings the sources themselves cause (bands printed
    overlapping, rows printed twice) are marked "source" and kept one step milder.
    Exits 1 when there is an error. Default: every shipped scheme file. Paths are shown
    relative to the working folder. `text` is one line per finding; `github` writes
    workflow annotations (GitHub Actions shows them on the scheme's lines); `sarif` is a
    SARIF 2.1.0 log for code-scanning tools.

    Example:

        creditlab lint fuzhou_yuming my-scheme.yaml --format json
        creditlab lint --severity warning --format github
    """
    findings: list[Finding] = []
    files = _scheme_files(schemes)
    for path in files:
        if is_reform_file(path):
            # A reform has no rules of its own to point at: lint the scheme it makes.
            findings += lint_scheme(resolve_schemes([str(path)])[0], None, shipped_vocabulary())
        else:
            findings += lint_file(path, shipped_vocabulary())
    shown = at_least(findings, severity)
    summary = {s: sum(1 for f in findings if f.severity == s) for s in ("error", "warning",
                                                                          "info")}
    if fmt == "json":
        write_json({"files": [relative(str(p)) for p in files],
                    "findings": [{**f.model_dump(), "file": relative(f.file)} for f in shown],
                    "summary": summary})
    elif fmt == "sarif":
        write_json(sarif(shown, version=version()))
    elif fmt in ("github", "text"):
        lines = (github_annotations(shown) if fmt == "github" else
                 [f"{relative(f.file)}{f':{f.line}' if f.line is not None else ''}: "
                  f"{f.severity} {f.code}{f' [{f.rule}]' if f.rule else ''}: {f.message}"
                  f"{' (caused by the source)' if f.caused_by_source else ''}"
                  for f in shown])
        for line in lines:
            click.echo(line)
    else:
        out = console()
        for table in findings_tables(shown):
            out.print(table)
        hidden = len(findings) - len(shown)
        out.print(f"{len(files)} file(s): {summary['error']} error(s), {summary['warning']} "
                  f"warning(s), {summary['info']} info"
                  + (f" ({hidden} below --severity {severity} not shown)" if hidden else ""))
    if has_errors(findings):
        raise click.exceptions.Exit(1)


@click.command("audit")
@click.argument("schemes", nargs=-1, metavar="[SCHEME_OR_PATH]...",
                shell_complete=complete_scheme)
@click.option("--max-examples", type=click.IntRange(1, 100_000), default=50,
              show_default=True, help="Generated histories per property.")
@click.option("--max-events", type=click.IntRange(1, 10_000), default=20, show_default=True,
              help="At most this many events per generated history.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the generated histories (the same seed, the same run).")
@click.option("--counterexamples", "directory", type=click.Path(file_okay=False),
              default="counterexamples", show_default=True,
              help="Folder the shrunk history of each failed property is written to, as "
                   "SCHEME.PROPERTY.yaml; an earlier one is kept and the new one numbered "
                   "(SCHEME.PROPERTY.2.yaml) unless --force.")
@click.option("--force", is_flag=True,
              help="Replace an earlier counterexample of the same name instead of writing "
                   "a numbered one.")
@click.option("--property", "properties", multiple=True, metavar="NAME",
              help="Check only this property; repeat for several.")
@click.option("--reference", metavar="SCHEME_OR_PATH",
              help="Check replays of the one scheme named against the declarations (caps, "
                   "limits, dates, directions, bands) of this one, e.g. the version before "
                   "an edit.")
@click.option("--flip", "flips", multiple=True, metavar="ATTRIBUTE",
              help="Counterfactual check instead of properties: residence, hukou or "
                   "role=NAME; repeat for several.")
@click.option("--history", type=click.Path(exists=True),
              help="With --flip: the population to flip (default: histories generated for "
                   "each scheme).")
@click.option("--fail-on-disparity", is_flag=True,
              help="With --flip: exit 1 when a group ratio is below 0.8.")
@click.option("--min-coverage", type=click.FloatRange(0, 1), default=None, metavar="RATIO",
              help="Exit 1 when a scheme's rule coverage, or a property's coverage of the "
                   "rules it checks, is below RATIO (0 to 1), e.g. 0.9.")
@format_option("table", "json")
@backend_option
@width_option
def audit_command(schemes: Sequence[str], max_examples: int, max_events: int, seed: int,
                  directory: str,
                  properties: Sequence[str], reference: str | None, flips: Sequence[str],
                  history: str | None, fail_on_disparity: bool, force: bool,
                  fmt: str, backend: Backend, min_coverage: float | None) -> None:
    """Property-test schemes over generated histories; or flip one attribute per group.

    Each property is reported pass or fail; a failure's shrunk history is written to
    --counterexamples as a history file that `creditlab replay` reproduces. Rule coverage
    (rules fired at least once) is reported. Exits 1 when a property fails. Default: every
    shipped scheme (variants excluded).

    Example:

        creditlab audit fuzhou_yuming --max-examples 100 --seed 7 --format json

        creditlab audit meritown_2019 --flip residence --flip role=civil_servant
    """
    from creditlab.engine.checks.audit import PROPERTIES

    known = [p.name for p in PROPERTIES]
    for name in properties:
        if name not in known:
            raise click.BadParameter(f"unknown property {name!r}; properties: "
                                     f"{', '.join(known)}", param_hint="--property")
    chosen = resolve_schemes(tuple(schemes))
    if flips:
        _flip_command(chosen, flips, history, max_examples, seed, fail_on_disparity, fmt,
                      backend)
        return
    if history is not None or fail_on_disparity:
        raise click.UsageError("--history and --fail-on-disparity go with --flip")
    declared = None
    if reference is not None:
        if len(chosen) != 1:
            raise click.UsageError("--reference needs exactly one scheme to audit")
        declared = resolve_schemes((reference,))[0]
    _property_command(chosen, schemes, declared, properties, max_examples, max_events, seed,
                      directory, force, fmt, backend, min_coverage)


def _property_command(chosen: list[Scheme], names: Sequence[str], declared: Scheme | None,
                      properties: Sequence[str], max_examples: int, max_events: int,
                      seed: int, directory: str, force: bool, fmt: str,
                      backend: Backend, min_coverage: float | None) -> None:
    from creditlab.engine.checks.audit import audit_scheme, counterexample_yaml

    inputs = [s.file for s in (*chosen, *([declared] if declared else []))]

    def save(name: str, text: str) -> Path:
        folder = Path(directory)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise click.ClickException(f"cannot write counterexamples to {folder}: "
                                       f"{exc.strerror}") from None
        return write_new(folder / name, text, overwrite=force, inputs=inputs)

    reports: list[dict[str, Any]] = []
    bar = ProgressBar("auditing")
    try:
        audits = []
        for scheme in chosen:
            def progress(prop: str, done: int, total: int, scheme: Scheme = scheme) -> None:
                bar.update(scheme.id, done, total)

            audits.append(audit_scheme(declared or scheme,
                                       replayed=scheme if declared else None,
                                       max_examples=max_examples, seed=seed,
                                       max_events=max_events,
                                       properties=list(properties) or None, backend=backend,
                                       progress=progress))
    finally:
        bar.close()
    below: list[str] = []
    for i, (scheme, audit) in enumerate(zip(chosen, audits, strict=True)):
        ref = names[i] if names else scheme.id
        if min_coverage is not None:
            below += _below(scheme.id, audit, min_coverage)
        rows = []
        for result in audit.results:
            row = result.as_dict()
            row["scheme"] = scheme.id
            row["counterexample"] = row["replay"] = None
            if result.counterexample is not None:
                path = save(f"{scheme.id}.{result.property}.yaml", counterexample_yaml(result))
                row["counterexample"] = str(path)
                row["replay"] = f"creditlab replay {path} --scheme {ref} --explain"
            rows.append(row)
        reports.append({"scheme": scheme.id, "file": scheme.file,
                        "reference": declared.id if declared else None,
                        "passed": audit.passed, "properties": rows,
                        "coverage": audit.coverage.as_dict()})
    passed = all(r["passed"] for r in reports) and not below
    if fmt == "json":
        write_json({"seed": seed, "max_examples": max_examples, "passed": passed,
                    "min_coverage": min_coverage, "below_min_coverage": below,
                    "schemes": reports})
    else:
        out = console()
        for report in reports:
            out.print(_audit_table(report))
        failed = sum(1 for r in reports for p in r["properties"] if p["status"] == "fail")
        out.print(f"{len(reports)} scheme(s), seed {seed}, {max_examples} example(s) per "
                  f"property: {failed} failed propert{'y' if failed == 1 else 'ies'}")
        for line in below:
            out.print(Text(f"coverage below {min_coverage}: {line}", style="red"))
    if not passed:
        raise click.exceptions.Exit(1)


def _below(scheme: str, audit: Any, floor: float) -> list[str]:
    """What falls below the coverage floor: the scheme's rules, or a property's."""
    out = []
    if audit.coverage.ratio < floor:
        out.append(f"{scheme}: rule coverage {audit.coverage.ratio:.2f}")
    for result in audit.results:
        if result.status != "not_applicable" and result.aimed \
                and result.coverage().ratio < floor:
            out.append(f"{scheme} {result.property}: {result.coverage().ratio:.2f} of the rules "
                       "it checks took effect")
    return out


def _audit_table(report: dict[str, Any]) -> Table:
    cov = report["coverage"]
    caption = f"rule coverage {cov['fired']}/{cov['rules']}"
    if cov["never_fired"]:
        caption += "; never fired: " + ", ".join(cov["never_fired"])
    title = report["scheme"] + (f" (declared by {report['reference']})"
                                if report["reference"] else "")
    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAD)
    for col in ("property", "status", "examples", "coverage", "detail"):
        table.add_column(col, overflow="fold")
    for p in report["properties"]:
        detail = Text(p["title"], style="dim")
        if p["status"] == "fail":
            detail = Text(f"{p['message']}\n") + Text(p["replay"] or "", style="cyan")
        cov = p["coverage"]
        table.add_row(Text(p["property"]), Text(p["status"], style=_STYLE[p["status"]]),
                      Text(str(p["examples"])),
                      Text(f"{cov['fired']}/{cov['rules']}" if cov["rules"] else "-"), detail)
    return table


def _flip_command(chosen: list[Scheme], flips: Sequence[str], history: str | None,
                  examples: int, seed: int, fail_on_disparity: bool, fmt: str,
                  backend: Backend) -> None:
    from creditlab.engine.checks.counterfactual import (
        DISPARITY_THRESHOLD,
        flip_check,
        history_data,
        parse_flip,
        population,
    )

    try:
        parsed = [parse_flip(f) for f in flips]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--flip") from None
    vocabulary = shipped_vocabulary()
    given = history_data(load_history(history, vocabulary)) if history else None
    reports = []
    for scheme in chosen:
        data = given or population(scheme, examples=examples, seed=seed)
        for flip in parsed:
            reports += [r.as_dict() for r in flip_check(data, [scheme], flip, vocabulary,
                                                               backend=backend)]
    flagged = any(r["flags"] for r in reports)
    if fmt == "json":
        write_json({"seed": None if given else seed, "threshold": DISPARITY_THRESHOLD,
                    "flagged": flagged, "flips": reports})
    else:
        out = console()
        for report in reports:
            out.print(_flip_table(report))
    if fail_on_disparity and flagged:
        raise click.exceptions.Exit(1)


def _flip_table(report: dict[str, Any]) -> Table:
    metrics = ["score_moved", "band_moved", "mean_shift", "mean_abs_shift", "max_abs_shift"]
    flags = set(report["flags"])
    caption = (f"{report['subjects']} subject(s), {report['not_flippable']} without the "
               f"attribute; flagged (ratio < {report['threshold']}): "
               + (", ".join(report["flags"]) or "none"))
    table = Table(title=f"{report['scheme']}: flip {report['flip']}", caption=caption,
                  box=box.SIMPLE_HEAD)
    table.add_column("group")
    for m in metrics:
        table.add_column(m.replace("_", " "), justify="right")

    def row(name: str, values: dict[str, float], style: str = "") -> None:
        cells = [Text(_fmt(values[m]), style="bold red" if name == "ratio" and m in flags
                      else style) if m in values else Text("") for m in metrics]
        table.add_row(Text(name, style=style), *cells)

    if report["overall"]:
        row("overall", report["overall"], "bold")
        for group, values in report["by_group"].items():
            row(f"{group} ({report['counts'][group]})", values)
        row("difference", report["difference"], "dim")
        row("ratio", report["ratio"], "dim")
    return table


def _fmt(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


COMMANDS: list[click.Command] = [lint_command, audit_command]
