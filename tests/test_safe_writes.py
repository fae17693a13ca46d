"""Safe writes and output errors (issue 13): every file goes through a temporary file
renamed into place; links, devices, folders, FIFOs and the command's inputs are refused;
an existing file is replaced only with --force; output errors are one line, exit 1;
Ctrl-C is exit 130; CSV text cells are protected against formula injection."""

from __future__ import annotations

import dataclasses
import errno
import io
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from creditlab.cli.main import cli
from creditlab.engine import replay
from creditlab.engine.scoring.durable import match
from creditlab.engine.views import files
from creditlab.engine.views import frames as F

from conftest import ROOT, points, rule
from history_builder import history, person

EXAMPLE = str(ROOT / "fixtures" / "example.yaml")
POPULATION = str(ROOT / "fixtures" / "population.jsonl")
CREDITLAB = str(Path(sys.executable).parent / "creditlab")
DIFF = ["diff", EXAMPLE, "--scheme", "meritown_2019", "--scheme", "fuzhou_yuming"]
MATRIX = ["matrix", "--behaviour", "family.abuse", "--scheme", "meritown_2019"]


def run(runner, *args: str):
    return runner.invoke(cli, list(args))


def one_line_error(result, phrase: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith("Error: ") and phrase in line, line


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


# --- targets that are refused --------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet", "table"])
def test_a_symlink_target_is_refused_and_its_target_untouched(runner, tmp_path, fmt):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me", encoding="utf-8")
    link = tmp_path / "out"
    link.symlink_to(victim)
    result = run(runner, *MATRIX, "--format", fmt, "-o", str(link), "--force")
    one_line_error(result, "symbolic link")
    assert victim.read_text(encoding="utf-8") == "keep me"
    assert link.is_symlink()
    assert leftovers(tmp_path) == []


def test_a_report_through_a_symlink_is_refused(runner, tmp_path):
    victim = tmp_path / "victim.html"
    victim.write_text("keep me", encoding="utf-8")
    (tmp_path / "r.html").symlink_to(victim)
    result = run(runner, "report", EXAMPLE, "--scheme", "suining_county", "-o",
                 str(tmp_path / "r.html"), "--force")
    one_line_error(result, "symbolic link")
    assert victim.read_text(encoding="utf-8") == "keep me"


def test_the_report_never_replaces_its_own_history(runner, tmp_path):
    history_file = tmp_path / "h.yaml"
    history_file.write_bytes(Path(EXAMPLE).read_bytes())
    for force in ([], ["--force"]):
        result = run(runner, "report", str(history_file), "-o", str(history_file), *force)
        one_line_error(result, "it is an input of this command")
    assert history_file.read_bytes() == Path(EXAMPLE).read_bytes()


def test_an_input_is_refused_through_another_name(runner, tmp_path):
    """The same file by a hard link or a relative path is still the input."""
    history_file = tmp_path / "h.yaml"
    history_file.write_bytes(Path(EXAMPLE).read_bytes())
    os.link(history_file, tmp_path / "other.yaml")
    result = run(runner, *DIFF[:1], str(history_file), *DIFF[2:], "--format", "csv", "-o",
                 str(tmp_path / "other.yaml"), "--force")
    one_line_error(result, "input of this command")
    assert history_file.read_bytes() == Path(EXAMPLE).read_bytes()


def test_a_scheme_file_given_is_an_input_too(runner, tmp_path):
    scheme = tmp_path / "mine.yaml"
    scheme.write_bytes((ROOT / "schemes" / "suining_county.yaml").read_bytes())
    before = scheme.read_bytes()
    result = run(runner, "matrix", "--scheme", str(scheme), "--format", "json", "-o",
                 str(scheme), "--force")
    one_line_error(result, "input of this command")
    assert scheme.read_bytes() == before


def test_an_existing_file_is_replaced_only_with_force(runner, tmp_path):
    out = tmp_path / "m.json"
    out.write_text("earlier", encoding="utf-8")
    one_line_error(run(runner, *MATRIX, "--format", "json", "-o", str(out)),
                   "already exists (--force replaces it)")
    assert out.read_text(encoding="utf-8") == "earlier"
    forced = run(runner, *MATRIX, "--format", "json", "-o", str(out), "--force")
    assert forced.exit_code == 0, forced.output
    assert json.loads(out.read_text(encoding="utf-8"))["digest"].startswith("sha256:")
    assert leftovers(tmp_path) == []


def test_an_existing_report_is_refused_before_the_work(runner, tmp_path, monkeypatch):
    out = tmp_path / "r.html"
    out.write_text("earlier", encoding="utf-8")

    def no_replay(*args, **kwargs):
        raise AssertionError("the replay ran although the output is refused")

    monkeypatch.setattr("creditlab.cli.educator_report.replay", no_replay)
    one_line_error(run(runner, "report", EXAMPLE, "-o", str(out)), "already exists")
    assert out.read_text(encoding="utf-8") == "earlier"


def test_every_command_with_o_has_force(runner):
    for command in ("diff", "matrix", "exchange", "compare", "report", "audit"):
        assert "--force" in run(runner, command, "--help").output, command


def test_a_device_node_is_refused_and_kept(runner):
    before = os.stat("/dev/null")
    result = run(runner, *MATRIX, "--format", "parquet", "-o", "/dev/null", "--force")
    one_line_error(result, "it is a device")
    after = os.stat("/dev/null")
    assert (after.st_ino, after.st_rdev, after.st_mode) == \
        (before.st_ino, before.st_rdev, before.st_mode)


def test_a_fifo_is_refused(runner, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    one_line_error(run(runner, *MATRIX, "--format", "csv", "-o", str(fifo), "--force"),
                   "named pipe")
    assert fifo.is_fifo()


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(files.OutputError, match="it is a folder"):
        files.check_target(tmp_path, overwrite=True)


def test_dash_is_stdout(runner):
    result = run(runner, *MATRIX, "--format", "json", "-o", "-")
    assert result.exit_code == 0
    assert json.loads(result.output)["rows"]
    assert run(runner, *MATRIX, "--format", "parquet", "-o", "-").exit_code == 2


# --- failed writes ---------------------------------------------------------------------------


def test_a_failed_parquet_write_keeps_the_file_and_leaves_no_temporary(runner, tmp_path,
                                                                       monkeypatch):
    import pyarrow.parquet as pq

    out = tmp_path / "m.parquet"
    out.write_bytes(b"the earlier export")

    def broken(table, where, *args, **kwargs):
        where.write(b"PAR1 half a file")
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(pq, "write_table", broken)
    result = run(runner, *MATRIX, "--format", "parquet", "-o", str(out), "--force")
    one_line_error(result, "Input/output error")
    assert out.read_bytes() == b"the earlier export"
    assert leftovers(tmp_path) == []


def test_a_full_disk_is_one_line_and_leaves_nothing(runner, tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pq, "write_table", full)
    out = tmp_path / "m.parquet"
    result = run(runner, *MATRIX, "--format", "parquet", "-o", str(out))
    one_line_error(result, "No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_on_stdout_is_one_line():
    """/dev/full: every write fails with ENOSPC."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    with open("/dev/full", "w") as full:
        done = subprocess.run([CREDITLAB, "replay", EXAMPLE, "--format", "json"], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "Error: cannot write the output: No space left on device"]


def test_a_library_write_that_fails_keeps_the_target(tmp_path):
    out = tmp_path / "x.txt"
    out.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), files.replacing(out, overwrite=True) as handle:
        handle.write("new, half")
        raise RuntimeError("boom")
    assert out.read_text(encoding="utf-8") == "old"
    assert leftovers(tmp_path) == []


def test_the_library_never_overwrites_by_default(tmp_path):
    frame = F.results_frame(replay(history([person("p")], []), []))
    path = tmp_path / "r.csv"
    F.to_csv(frame, path)
    with pytest.raises(files.OutputError, match="already exists"):
        F.to_csv(frame, path)
    F.to_csv(frame, path, overwrite=True)
    assert_frame_equal(F.read_csv(path), frame)


@pytest.mark.parametrize("args", [
    [*DIFF, "--format", "csv"], [*MATRIX, "--format", "json"], [*MATRIX],
    ["report", EXAMPLE, "--scheme", "suining_county"]])
def test_a_missing_folder_is_one_line(runner, tmp_path, args):
    result = run(runner, *args, "-o", str(tmp_path / "nope" / "out"))
    one_line_error(result, "does not exist")
    assert not (tmp_path / "nope").exists()


# --- audit counterexamples -------------------------------------------------------------------


def _failing_audit(runner, folder: Path, *extra: str):
    """suining_county audited for one property, made to fail (`_always_failing`)."""
    args = ["audit", "suining_county", "--property", "deterministic", "--max-examples", "2",
            "--counterexamples", str(folder), "--format", "json", *extra]
    return runner.invoke(cli, args)


def _always_failing(monkeypatch) -> None:
    """The `deterministic` property fails on every history."""
    from creditlab.engine.checks import audit as audit_module

    def fails(run_):
        raise audit_module.Violation("always fails")

    monkeypatch.setattr(audit_module, "PROPERTIES", tuple(
        dataclasses.replace(p, check=fails) if p.name == "deterministic" else p
        for p in audit_module.PROPERTIES))


def test_counterexamples_are_numbered_not_overwritten(runner, tmp_path, monkeypatch):
    _always_failing(monkeypatch)
    folder = tmp_path / "cx"
    paths = []
    for _ in range(3):
        result = _failing_audit(runner, folder)
        assert result.exit_code == 1, result.output
        [row] = json.loads(result.output)["schemes"][0]["properties"]
        paths.append(Path(row["counterexample"]).name)
    assert paths == ["suining_county.deterministic.yaml", "suining_county.deterministic.2.yaml",
                     "suining_county.deterministic.3.yaml"]
    first = (folder / paths[0]).read_text(encoding="utf-8")
    result = _failing_audit(runner, folder, "--force")
    [row] = json.loads(result.output)["schemes"][0]["properties"]
    assert Path(row["counterexample"]).name == paths[0]
    assert "counterexample: suining_county deterministic" in first
    # A link in the way is skipped, never written through; with --force it is refused.
    victim = tmp_path / "victim"
    victim.write_text("keep", encoding="utf-8")
    for name in paths:
        (folder / name).unlink()
    (folder / paths[0]).symlink_to(victim)
    result = _failing_audit(runner, folder)
    [row] = json.loads(result.output)["schemes"][0]["properties"]
    assert Path(row["counterexample"]).name == paths[1]
    one_line_error(_failing_audit(runner, folder, "--force"), "symbolic link")
    assert victim.read_text(encoding="utf-8") == "keep"


def test_a_counterexample_folder_that_is_a_file_is_one_line(runner, tmp_path, monkeypatch):
    _always_failing(monkeypatch)
    blocker = tmp_path / "cx"
    blocker.write_text("a file", encoding="utf-8")
    one_line_error(_failing_audit(runner, blocker / "sub"), "cannot write counterexamples")
    assert _failing_audit(runner, blocker).exit_code == 2  # click: "is a file"


# --- stdout: closed pipes, encodings -------------------------------------------------------


@pytest.mark.parametrize(("history", "extra"), [(EXAMPLE, ""), (POPULATION, " --explain")])
def test_a_closed_pipe_ends_quietly(history, extra):
    """No traceback; exit 1 when a write met the closed pipe (the population's megabytes
    always do; the example's few lines may fit in the pipe before `head` exits: then 0)."""
    done = subprocess.run(f"{CREDITLAB} replay {history} --format jsonl{extra} | head -1; "
                          "exit ${PIPESTATUS[0]}", shell=True, executable="/bin/bash",
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.stdout.startswith('{"as_of"')
    assert done.stderr == ""
    assert done.returncode == 1 if extra else done.returncode in (0, 1)


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "jsonl"])
def test_an_ascii_stdout_does_not_crash(fmt):
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    done = subprocess.run([CREDITLAB, "replay", EXAMPLE, "--format", fmt, "--explain"],
                          capture_output=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    done.stdout.decode("ascii")
    if fmt == "json":
        assert json.loads(done.stdout)["results"]  # JSON's own \\u escapes: still JSON


# --- interrupts --------------------------------------------------------------------------------


def test_ctrl_c_during_a_replay_is_exit_130(runner, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("creditlab.cli.main.replay", interrupted)
    result = runner.invoke(cli, ["replay", EXAMPLE])
    assert result.exit_code == 130
    assert result.output.strip() == "interrupted"


def test_ctrl_c_inside_a_durable_rules_action_propagates(make_scheme, monkeypatch):
    """durable_rules catches BaseException in actions; the matcher raises it again."""
    real = match._appender

    class Interrupting(list):
        def append(self, value):
            raise KeyboardInterrupt

    monkeypatch.setattr(match, "_appender", lambda fired, index: real(Interrupting(), index))
    # A scheme of its own (a new ruleset, built with the patched action).
    scheme = make_scheme(rule(f"r_{uuid.uuid4().hex}", "volunteer.service", points(1)),
                         id="interrupt_scheme")
    h = history([person("p")], [{"id": "e", "subject": "p", "at": "2020-01-01",
                                 "type": "volunteer.service", "hours": 10}])
    with pytest.raises(KeyboardInterrupt):
        replay(h, [scheme])


def test_ctrl_c_as_durable_rules_reports_it_is_not_an_engine_error(make_scheme, monkeypatch):
    """A KeyboardInterrupt durable_rules hands to the completion callback."""
    from durable.engine import Ruleset

    monkeypatch.setattr(Ruleset, "do_actions",
                        lambda self, state, complete: complete(KeyboardInterrupt(), None))
    scheme = make_scheme(rule(f"r_{uuid.uuid4().hex}", "family.abuse", points(-5),
                              direction="penalty"), id="interrupt_scheme")
    h = history([person("p")], [{"id": "e", "subject": "p", "at": "2020-01-01",
                                 "type": "family.abuse"}])
    with pytest.raises(KeyboardInterrupt):
        replay(h, [scheme])


def test_a_real_sigint_during_a_long_replay_is_exit_130():
    """SIGINT to a process replaying the 300-person population through every scheme."""
    code = ("import sys; import creditlab.cli.main as m; "
            "print('ready', file=sys.stderr, flush=True); "
            f"m.main(['replay', {POPULATION!r}, '--format', 'json'])")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    assert child.stderr is not None
    assert child.stderr.readline() == "ready\n"
    time.sleep(0.5)  # the replay takes seconds: the signal lands inside it
    child.send_signal(signal.SIGINT)
    rest = child.stderr.read()
    assert child.wait(timeout=120) == 130
    assert rest.strip() == "interrupted", rest


# --- CSV formula injection -------------------------------------------------------------------


def test_csv_text_cells_are_escaped_and_numbers_are_not(runner):
    assert F.escape_formula("\rx") == "'\rx"  # (a CR in a cell is not read back by pandas)
    frame = pd.DataFrame({"text": pd.array(["=1+1", "+x", "-cmd", "@SUM(A1)", "\tx", "x",
                                            "'=x", "plain", "-50", None], dtype="string"),
                          "n": pd.array([-50, 1, 2, 3, 4, 5, 6, 7, 8, None], dtype="Float64")})
    frame.attrs = {"manifest": {}, "digest": "sha256:x"}
    buffer = io.StringIO()
    F.to_csv(frame, buffer)
    lines = buffer.getvalue().splitlines()
    assert lines[:2] == ["text,n", "'=1+1,-50"]  # numbers written as the JSON writes them
    assert lines[2:5] == ["'+x,1", "'-cmd,2", "'@SUM(A1),3"]
    assert "''=x,6" in lines and "plain,7" in lines and "-50,8" in lines
    buffer.seek(0)
    back = F.read_csv(buffer, meta=F.provenance(frame))
    assert_frame_equal(back, frame)  # read_csv takes off exactly the quote it added


def test_replay_csv_escapes_text_but_not_numbers(runner, tmp_path):
    hist = tmp_path / "h.yaml"
    hist.write_text(
        "subjects:\n  - {id: '=HYPERLINK(\"http://x\")', kind: person}\n"
        "events:\n  - {id: '@e1', subject: '=HYPERLINK(\"http://x\")', at: 2020-01-01,"
        " type: family.abuse}\n", encoding="utf-8")
    result = run(runner, "replay", str(hist), "--scheme", "meritown_2019", "--format", "csv",
                 "--explain")
    assert result.exit_code == 0, result.output
    import csv

    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert rows and all(r["subject"] == "'=HYPERLINK(\"http://x\")" for r in rows)
    assert all(r["event"] == "'@e1" for r in rows if r["event"])
    assert any(r["points"].startswith("-") for r in rows)  # a penalty: a number, unquoted
