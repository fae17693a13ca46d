"""Lint findings in the formats CI systems read: GitHub annotations and SARIF 2.1.0.

Both name each file by its path relative to a root (the working directory by default),
as code-scanning tools expect; a file outside the root keeps its absolute path. A
GitHub workflow command's properties and message are escaped as the runner requires, so a
scheme's text cannot end an annotation early or start another command.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from creditlab.engine.checks.lint_findings import WHY, Finding

__all__ = ["SEVERITIES", "at_least", "github_annotations", "relative", "sarif"]

SEVERITIES = ("info", "warning", "error")
"""Lint's severities, mildest first."""

_GITHUB = {"error": "error", "warning": "warning", "info": "notice"}
_SARIF = {"error": "error", "warning": "warning", "info": "note"}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def at_least(findings: Iterable[Finding], severity: str) -> list[Finding]:
    """The findings of `severity` or worse."""
    floor = SEVERITIES.index(severity)
    return [f for f in findings if SEVERITIES.index(f.severity) >= floor]


def relative(file: str, root: str | os.PathLike[str] | None = None) -> str:
    """`file` relative to `root` (default: the working directory) when it lies inside it."""
    base = Path(root) if root is not None else Path.cwd()
    try:
        return Path(file).resolve().relative_to(base.resolve()).as_posix()
    except (ValueError, OSError):
        return file


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotations(findings: Sequence[Finding],
                       root: str | os.PathLike[str] | None = None) -> list[str]:
    """One `::error file=...,line=...,title=...::message` line per finding."""
    lines = []
    for f in findings:
        props = [f"file={_escape_property(relative(f.file, root))}"]
        if f.line is not None:
            props.append(f"line={f.line}")
        title = f.code + (f" ({f.rule})" if f.rule else "")
        props.append(f"title={_escape_property(title)}")
        message = f.message + (" [caused by the source]" if f.caused_by_source else "")
        lines.append(f"::{_GITHUB[f.severity]} {','.join(props)}::{_escape_data(message)}")
    return lines


def sarif(findings: Sequence[Finding], *, version: str,
          root: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """A SARIF 2.1.0 log of `findings` (one run, one rule per lint code)."""
    codes = sorted({f.code for f in findings})
    results = []
    for f in findings:
        location: dict[str, Any] = {"artifactLocation": {"uri": relative(f.file, root)}}
        if f.line is not None:
            location["region"] = {"startLine": f.line}
        result: dict[str, Any] = {
            "ruleId": f.code, "ruleIndex": codes.index(f.code), "level": _SARIF[f.severity],
            "message": {"text": f.message},
            "locations": [{"physicalLocation": location}],
            "properties": {"scheme": f.scheme, "rule": f.rule, "field": f.field,
                           "causedBySource": f.caused_by_source},
        }
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "creditlab lint", "version": version,
                "rules": [{"id": code, "shortDescription": {"text": code},
                           "fullDescription": {"text": WHY[code]}} for code in codes],
            }},
            "results": results,
        }],
    }
