"""``nas data synth`` writes a dataset whole or not at all, one writer at a time: Ctrl-C
really sent mid-render, a writer really killed, two writers really started at once."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from nas.data.coco import load_densepose_coco
from nas.data.synth.generate import SynthConfig, generate_dataset
from nas.data.synth.staging import staging_folder
from nas.errors import DataError
from tests.conftest import REPO

SMALL = SynthConfig(images=3, size=48, seed=1)


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _assert_whole(folder: Path) -> int:
    """The dataset in ``folder`` loads and each image file is the size its JSON entry says;
    returns that size."""
    coco = load_densepose_coco(folder / "annotations.json", folder / "images")
    sizes = set()
    for record in coco.images:
        with Image.open(record.path) as im:
            assert im.size == (record.width, record.height), record.path
            sizes.add(im.size[0])
    assert len(coco.images) == len(list((folder / "images").iterdir()))
    assert len(sizes) == 1
    return sizes.pop()


def _synth(out: Path, images: int, size: int, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "nas", "data", "synth", "--out", str(out), "--images", str(images),
                             "--size", str(size), "--no-progress", *extra],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _wait_rendering(proc: subprocess.Popen[str], out: Path, images: int = 2) -> None:
    """Until ``images`` images of ``proc`` are in its staging folder."""
    staged = staging_folder(out) / "images"
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if staged.is_dir() and len(list(staged.glob("*.jpg"))) >= images:
            return
        time.sleep(0.05)
    raise AssertionError(f"the writer did not start rendering: {proc.communicate()}")


def _leftovers(parent: Path) -> list[str]:
    """Entries of ``parent`` besides datasets and their lock files."""
    return sorted(p.name for p in parent.iterdir() if not p.name.endswith(".synth-lock") and not (p / "images").is_dir())


def test_ctrl_c_over_an_existing_dataset_keeps_it_whole(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    generate_dataset(out, SMALL, progress=False)
    before = _digest(out)
    proc = _synth(out, 400, 64, "--overwrite")
    _wait_rendering(proc, out)
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130 and stderr.strip() == "interrupted", stderr
    assert _digest(out) == before
    assert _assert_whole(out) == SMALL.size
    assert _leftovers(tmp_path) == []


def test_ctrl_c_into_a_new_folder_leaves_no_folder(tmp_path: Path) -> None:
    out = tmp_path / "new"
    proc = _synth(out, 400, 64)
    _wait_rendering(proc, out)
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert not out.exists() and not staging_folder(out).exists()


def test_a_killed_writers_staging_folder_is_cleaned_by_the_next_run(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    proc = _synth(out, 400, 64)
    _wait_rendering(proc, out)
    os.killpg(proc.pid, signal.SIGKILL)  # no clean-up runs
    proc.communicate(timeout=60)
    assert staging_folder(out).is_dir() and not out.exists()
    generate_dataset(out, SMALL, progress=False)
    assert _assert_whole(out) == SMALL.size
    assert _leftovers(tmp_path) == []


def test_two_writers_at_once_one_succeeds_the_other_names_its_pid(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    generate_dataset(out, SMALL, progress=False)
    first = _synth(out, 20, 64, "--overwrite")
    _wait_rendering(first, out)
    # the first writer paused mid-render (it keeps its lock) for as long as the second runs,
    # however slowly the machine starts it
    os.killpg(first.pid, signal.SIGSTOP)
    try:
        second = _synth(out, 3, 80, "--overwrite")
        second_out, second_err = second.communicate(timeout=60)
    finally:
        os.killpg(first.pid, signal.SIGCONT)
    first_out, first_err = first.communicate(timeout=120)
    assert first.returncode == 0, first_err
    assert second.returncode == 2 and second_out == ""
    lines = second_err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: another nas data synth is running on "), second_err
    assert f"pid {first.pid} " in lines[0] and str(out) in lines[0]
    assert _assert_whole(out) == 64  # the first writer's images, with its annotations
    assert _leftovers(tmp_path) == []


def test_two_writers_started_together_into_a_new_folder_one_succeeds(tmp_path: Path) -> None:
    """Whichever wins, the other stops with one line (busy while the winner renders, or
    the dataset already there once it has finished), and the dataset is the winner's whole."""
    out = tmp_path / "ds"
    writers = {size: _synth(out, 6, size) for size in (48, 64)}
    results = {size: proc.communicate(timeout=120) + (proc.returncode,) for size, proc in writers.items()}
    winners = [size for size, (_, _, code) in results.items() if code == 0]
    assert len(winners) == 1, results
    (loser,) = set(results) - set(winners)
    _, err, code = results[loser]
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert "another nas data synth is running" in err or "already holds a dataset" in err
    assert _assert_whole(out) == winners[0]
    assert _leftovers(tmp_path) == []


def test_a_writer_killed_between_the_two_renames_leaves_the_old_dataset_restored(tmp_path: Path) -> None:
    """The state a SIGKILL between 'old aside' and 'new in' leaves: no NAME, the old dataset
    under its hidden name, the new one staged. The next run puts the old one back (and,
    without --overwrite, refuses to replace it)."""
    out = tmp_path / "ds"
    generate_dataset(out, SMALL, progress=False)
    before = _digest(out)
    generate_dataset(tmp_path / "other", SynthConfig(images=2, size=64, seed=2), progress=False)
    os.rename(out, tmp_path / ".ds.synth-old")
    os.rename(tmp_path / "other", staging_folder(out))
    with pytest.raises(DataError, match="already holds a dataset"):
        generate_dataset(out, SMALL, progress=False)
    assert _digest(out) == before
    assert _leftovers(tmp_path) == []


def test_a_writer_killed_while_deleting_the_old_dataset_leaves_the_new_one(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    generate_dataset(out, SMALL, progress=False)
    generate_dataset(tmp_path / "old", SynthConfig(images=2, size=64, seed=2), progress=False)
    os.rename(tmp_path / "old", tmp_path / ".ds.synth-old")
    new = generate_dataset(out, SynthConfig(images=2, size=56, seed=3), progress=False, overwrite=True)
    assert _assert_whole(new.out) == 56
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("setup", "out", "message"),
    [
        (None, "", "--out is empty"),
        (None, ".", "is the current folder"),
        (None, "..", "holds the current folder"),
        ("other", "ds", "holds files that are not a dataset (notes.txt)"),
        ("file", "ds", "is a file, not a folder"),
    ],
)
def test_folders_that_cannot_be_replaced_whole_are_refused(tmp_path: Path, monkeypatch, setup: str | None, out: str,
                                                           message: str) -> None:
    monkeypatch.chdir(tmp_path)
    if setup == "other":
        (tmp_path / "ds").mkdir()
        (tmp_path / "ds" / "notes.txt").write_text("keep me")
    elif setup == "file":
        (tmp_path / "ds").write_text("keep me")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises(DataError, match=re.escape(message)):
        generate_dataset(out, SMALL, progress=False, overwrite=True)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_an_empty_folder_made_for_the_dataset_is_used(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    out.mkdir()
    generate_dataset(out, SMALL, progress=False)
    assert _assert_whole(out) == SMALL.size
