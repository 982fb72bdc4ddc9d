"""The `nas` command for issue 2's groups: arch info, space show/sample, error exits."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from nas.cli import main
from tests.conftest import DEFAULT_SPACE, REPO


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_arch_info_mobilenet_v2_published_size(capsys) -> None:
    code, out, _ = run(capsys, "arch", "info", "mobilenet_v2", "--input", "224", "224", "--classifier", "1000", "--json")
    assert code == 0
    data = json.loads(out)
    assert round(data["params"] / 1e6, 2) == 3.50
    assert round(data["macs"] / 1e6) == pytest.approx(300, abs=3)
    assert data["stages"][-1]["resolution"] == [7, 7]
    assert data["input"] == [224, 224]


def test_arch_info_table(capsys) -> None:
    code, out, _ = run(capsys, "arch", "info", "densemobile")
    assert code == 0
    assert "backbone + fpn neck at 512x384" in out
    assert "s6" in out and "16x12" in out


def test_space_show_and_sample(capsys) -> None:
    code, out, _ = run(capsys, "space", "show", str(DEFAULT_SPACE))
    assert code == 0 and "densepose_mobile" in out and "size:" in out
    code, first, _ = run(capsys, "space", "sample", str(DEFAULT_SPACE), "-n", "5", "--seed", "0")
    assert code == 0
    lines = first.strip().splitlines()
    assert len(lines) == 5 and all(line.startswith("stem_") for line in lines)
    _, again, _ = run(capsys, "space", "sample", str(DEFAULT_SPACE), "-n", "5", "--seed", "0")
    assert again == first


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["arch", "info", "stem_c32+ir_k3_x5_c16"], "unknown option 'x5'"),
        (["arch", "info", "resnet51"], "unknown architecture name 'resnet51' (did you mean 'resnet50'?)"),
        (["arch", "info", "efficientnet"], "unknown architecture name 'efficientnet'; known names"),
        (["arch", "info", "stem_k3_c32_s2_relu6"], "has no stage tokens"),
        (["arch", "info", "mobilenet_v2", "--input", "0", "224"], "--input 0 224"),
        (["arch", "info", "stem_k3_c16_s2_relu+ir_k3_e3_c24_n1_s2_relu+ir_k3_e3_c32_n1_s2_relu+fpn_c32_l2.5"], "no feature c4, c5"),
        (["space", "show", "no/such.yaml"], "does not exist"),
    ],
)
def test_bad_input_exits_non_zero_with_one_line(capsys, argv: list[str], fragment: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("error: ") and fragment in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err + out


def test_invalid_yaml_via_console_script(tmp_path) -> None:
    """The installed console script: non-zero exit, one line, no traceback."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("stages: [unclosed")
    exe = shutil.which("nas") or sys.executable
    cmd = [exe, "space", "show", str(bad)] if exe.endswith("nas") else [exe, "-m", "nas", "space", "show", str(bad)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 2
    assert "not valid YAML" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_start_imports_neither_torch_nor_ray() -> None:
    """Every ``nas`` call imports the CLI and all its groups: the heavy libraries wait for
    the command that needs them (the start took 6.3 s when the groups' defaults pulled in
    Ray and torch, 0.5 s without)."""
    probe = ("import sys, nas.cli\n"
             "print(sorted(m for m in ('torch', 'ray', 'optuna', 'executorch', 'scipy') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_usage_error_exit_code(capsys) -> None:
    code, _, err = run(capsys, "arch", "info")
    assert code == 2 and "Missing argument" in err


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["space", "sample", str(DEFAULT_SPACE), "--seed", "-1"], "--seed"),  # numpy refused it with a traceback
        (["train", "densemobile", "--data", "nowhere", "--seed", "-1"], "--seed"),
        (["search", "--out", "nowhere", "--seed", "-1"], "--seed"),
        (["latency", "validate", "--table", "nowhere", "--seed", "-1"], "--seed"),
        (["data", "synth", "--out", "nowhere", "--images", "1", "--seed", "-1"], "--seed"),
        (["data", "show", "nowhere", "--image", "1", "--out", "x.png", "--scale", "0"], "--scale"),  # matplotlib's traceback
    ],
)
def test_out_of_range_options_are_usage_errors(capsys, argv: list[str], option: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and f"Invalid value for '{option}'" in err and "Traceback" not in err + out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["space", "sample", str(DEFAULT_SPACE), "-n", "0"],
         "error: Invalid value for '-n' / '--num': Input should be greater than or equal to 1 (see 'nas space sample --help')"),
        (["demo", "--trials", "x"], "error: Invalid value for '--trials': "),
        (["arch", "info"], "error: Missing argument 'spec' (see 'nas arch info --help')"),
        (["train", "densemobile", "--no-such-option"], "error: No such option: --no-such-option"),
        (["no-such-command"], "error: No such command 'no-such-command' (see 'nas --help')"),
    ],
)
def test_usage_errors_are_one_error_line_like_any_other(capsys, argv: list[str], expected: str) -> None:
    """The parser's own report was three lines (usage, a hint, the message)."""
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith(expected), err


def test_ctrl_c_exits_130_with_one_line(tmp_path) -> None:
    """Ctrl-C (SIGINT to the whole process group, workers included) mid-way through a
    command: exit code 130 and 'interrupted', not 0 (typer returned the code, main dropped
    it), and the dataset is not finished (no annotations written)."""
    import os
    import signal
    import time

    from nas.data.synth.staging import staging_folder

    out = tmp_path / "d"
    proc = subprocess.Popen([sys.executable, "-m", "nas", "data", "synth", "--images", "2000", "--out", str(out), "--workers", "2", "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    def images_written() -> int:  # rendered into a staging folder, renamed to --out when whole
        return len(list((staging_folder(out) / "images").glob("*.jpg")))

    deadline = time.time() + 120
    while images_written() < 5 and time.time() < deadline:
        time.sleep(0.1)
    assert proc.poll() is None, "the command must still be running when Ctrl-C comes"
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, (stdout, stderr)
    assert stderr.strip().splitlines()[-1] == "interrupted" and "Traceback" not in stderr
    assert not (out / "annotations").exists() and not staging_folder(out).exists()


def test_a_file_read_past_its_end_is_an_error_not_an_abort(capsys, monkeypatch) -> None:
    """click turns an EOFError into Abort; from a command it means a file ended early (an
    empty .npz gave "aborted" and exit 130, as if the user had pressed Ctrl-C)."""
    from nas.space.search_space import SearchSpace

    def truncated(path):
        raise EOFError("No data left in file")

    monkeypatch.setattr(SearchSpace, "from_yaml", staticmethod(truncated))
    code, out, err = run(capsys, "space", "show", str(DEFAULT_SPACE))
    assert code == 2 and "Traceback" not in err + out
    assert err.strip() == ("error: a file ended before its data did (empty or truncated: No data left in file); "
                           "check the files given")
