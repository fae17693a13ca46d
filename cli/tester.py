"""`creditlab test`: run scenario test files (a history, schemes, expected results) and
report one line per file, a JUnit XML document or JSON records. Exit 1 on any failure."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

import click

from creditlab.engine.checks.scenario_tests import TestOutcome, find_test_files, run_file
from creditlab.engine.scoring.replay import Backend
from creditlab.engine.views.findings import relative

from .output import backend_option, check_output, force_option, json_text, output_file

__all__ = ["COMMANDS", "test_command"]

# XML 1.0 cannot hold these characters even escaped: write them as \uXXXX instead.
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@click.command("test")
@click.argument("paths", nargs=-1, required=True, metavar="FILE_OR_DIR...",
                type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(["text", "junit", "json"]), default="text",
              show_default=True, help="Output format: text (one line per file) for people, "
                                      "a junit XML document for CI, json records for "
                                      "scripts.")
@click.option("-o", "--output", metavar="FILE", type=click.Path(dir_okay=False),
              help="Write the report to FILE instead of stdout.")
@force_option
@backend_option
def test_command(paths: Sequence[str], fmt: str, output: str | None, force: bool,
                 backend: Backend) -> None:
    """Run scenario test files: a history, its scheme(s) and the results expected.

    A folder is searched recursively for *.yaml. Each file passes when every key it
    expects matches the replay (results by subject, ledger entries in order); an invalid
    file is reported as an error with its line, and the others still run. Exits 1 when a
    test fails or a file is invalid. The format: README.md, "creditlab test".

    Example:

        creditlab test tests/scenarios
        creditlab test my-tests/ --format junit -o report.xml
    """
    files = find_test_files(paths)
    if not files:
        raise click.ClickException(f"no test files (*.yaml) in {', '.join(paths)}")
    check_output(output, force=force, inputs=files)
    outcomes = [run_file(f, backend) for f in files]
    with output_file(output, force=force, inputs=files) as out:
        if fmt == "json":
            click.echo(json_text([o.as_dict() for o in outcomes], out, indent=2), file=out)
        elif fmt == "junit":
            click.echo(junit_xml(outcomes), file=out)
        else:
            for o in outcomes:
                click.echo(text_line(o), file=out)
            click.echo(summary(outcomes), file=out)
    if any(o.status != "pass" for o in outcomes):
        raise click.exceptions.Exit(1)


def text_line(outcome: TestOutcome) -> str:
    """`PASS file`, `FAIL file: the first mismatch` or `ERROR file:line: [field] reason`.

    Files inside the working directory are named relative to it, as lint names them.
    """
    if outcome.status == "pass":
        return f"PASS {relative(outcome.file)}"
    if outcome.status == "fail":
        more = len(outcome.mismatches) - 1
        extra = f" (and {more} more)" if more else ""
        return f"FAIL {relative(outcome.file)}: {outcome.message}{extra}"
    return f"ERROR {outcome.message}"


def summary(outcomes: Sequence[TestOutcome]) -> str:
    """`535 passed, 0 failed`, and the number of invalid files when there are any."""
    count = {s: sum(1 for o in outcomes if o.status == s) for s in ("pass", "fail", "error")}
    text = f"{count['pass']} passed, {count['fail']} failed"
    if count["error"]:
        text += f", {count['error']} error{'s' if count['error'] > 1 else ''}"
    return text


def _xml_text(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def junit_xml(outcomes: Sequence[TestOutcome]) -> str:
    """A JUnit XML document: one testcase per file, a failure or an error with its message."""
    counts = {"tests": str(len(outcomes)),
              "failures": str(sum(1 for o in outcomes if o.status == "fail")),
              "errors": str(sum(1 for o in outcomes if o.status == "error")),
              "time": f"{sum(o.seconds for o in outcomes):.3f}"}
    suites = ET.Element("testsuites", {"name": "creditlab test", **counts})
    suite = ET.SubElement(suites, "testsuite", {"name": "creditlab test", **counts})
    for o in outcomes:
        case = ET.SubElement(suite, "testcase", {
            "classname": _xml_text(",".join(o.schemes) or "creditlab"),
            "name": _xml_text(o.file), "file": _xml_text(o.file), "time": f"{o.seconds:.3f}"})
        if o.status == "pass":
            continue
        tag = "failure" if o.status == "fail" else "error"
        element = ET.SubElement(case, tag, {"message": _xml_text(o.message or ""),
                                            "type": "mismatch" if tag == "failure" else
                                            "invalid test file"})
        lines = [m.message for m in o.mismatches] if o.status == "fail" else [o.message or ""]
        element.text = _xml_text("\n".join(lines))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


COMMANDS: list[click.Command] = [test_command]
