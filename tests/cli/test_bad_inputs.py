"""Bad inputs to ``nas data synth``, ``nas data show``, ``nas pareto``, ``nas space`` and the
counts, options and long texts every command takes: each is refused with exit code 2 and exactly one ``error:`` line on stderr naming the file
or field, no traceback, and nothing written (the folder the command works in is
unchanged, byte for byte)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nas.cli import main
from nas.data.rle import rle_encode
from nas.data.synth.generate import SynthConfig, generate_dataset
from nas.runs.rows import TrialRow
from nas.runs.store import ResultsStore
from tests.conftest import DEFAULT_SPACE, REPO
from tests.lock_holder import lock_held_elsewhere

# A case builds its inputs under the folder it is given (the current folder while the
# command runs) and returns the command line and what the error line must name.
Case = Callable[[Path], tuple[list[str], list[str]]]

SYNTH = ["data", "synth", "--images", "2", "--size", "48", "--no-progress"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bad_inputs") / "ds"
    generate_dataset(out, SynthConfig(images=2, size=48, seed=0), progress=False)
    return out


def _copy_dataset(source: Path, to: Path) -> Path:
    import shutil

    shutil.copytree(source, to)
    return to


# -- nas data synth -------------------------------------------------------------------------
def _synth_into_a_folder_with_other_files(d: Path) -> tuple[list[str], list[str]]:
    (d / "mine").mkdir()
    (d / "mine" / "notes.txt").write_text("keep me")
    return SYNTH + ["--out", "mine", "--overwrite"], ["mine", "notes.txt", "not a dataset"]


def _synth_onto_a_file(d: Path) -> tuple[list[str], list[str]]:
    (d / "ds").write_text("keep me")
    return SYNTH + ["--out", "ds"], ["ds", "is a file"]


SYNTH_CASES: dict[str, Case] = {
    "synth --out ''": lambda d: (SYNTH + ["--out", ""], ["--out", "current folder", "empty --out"]),
    "synth --out .": lambda d: (SYNTH + ["--out", ".", "--overwrite"], ["--out .", "current folder"]),
    "synth --out ..": lambda d: (SYNTH + ["--out", ".."], ["--out ..", "holds the current folder"]),
    "synth into other files": _synth_into_a_folder_with_other_files,
    "synth onto a file": _synth_onto_a_file,
    "synth --images 10^12": lambda d: (SYNTH[:2] + ["--out", "ds", "--images", "1000000000000"], ["--images", "100,000"]),
    "synth --images 0": lambda d: (SYNTH[:2] + ["--out", "ds", "--images", "0"], ["--images"]),
    "synth --workers 10^5": lambda d: (SYNTH + ["--out", "ds", "--workers", "100000"], ["--workers"]),
    "synth --workers 0": lambda d: (SYNTH + ["--out", "ds", "--workers", "0"], ["--workers"]),
    "synth --size 8": lambda d: (SYNTH + ["--out", "ds", "--size", "8"], ["--size"]),
    "synth --val-fraction 1.5": lambda d: (SYNTH + ["--out", "ds", "--val-fraction", "1.5"], ["--val-fraction"]),
    "synth --preset crowds": lambda d: (SYNTH + ["--out", "ds", "--preset", "crowds"], ["preset", "crowds"]),
}


# -- nas data show: image files that are not images -------------------------------------------
def _show_with_image(content: bytes | None, dataset: Path) -> Case:
    def case(d: Path) -> tuple[list[str], list[str]]:
        ds = _copy_dataset(dataset, d / "ds")
        image = ds / "images" / "000001.jpg"
        image.write_bytes(image.read_bytes()[:300] if content is None else content)
        return ["data", "show", "ds", "--image", "1", "--out", "drawn.png"], ["image id 1", str(Path("ds/images/000001.jpg"))]
    return case


def _show_with_annotations(dataset: Path, edit: Callable[[dict[str, Any]], None], out: str = "drawn.png") -> Case:
    """``nas data show`` of image 1 after ``edit`` changed the dataset's annotations.json."""
    def case(d: Path) -> tuple[list[str], list[str]]:
        ds = _copy_dataset(dataset, d / "ds")
        data = json.loads((ds / "annotations.json").read_text())
        edit(data)
        (ds / "annotations.json").write_text(json.dumps(data))
        return ["data", "show", "ds", "--image", "1", "--out", out], [str(Path("ds/annotations.json"))]
    return case


def _person_of_image_1(data: dict[str, Any]) -> dict[str, Any]:
    return next(a for a in data["annotations"] if a["image_id"] == 1 and a.get("dp_masks"))


def _mask_10x10() -> dict[str, Any]:
    return rle_encode(np.ones((10, 10), np.uint8))  # a valid RLE, of the wrong size


def _small_dp_mask(data: dict[str, Any]) -> None:
    _person_of_image_1(data)["dp_masks"][0] = _mask_10x10()


def _show(dataset: Path, *extra: str, out: str = "drawn.png") -> Case:
    def case(d: Path) -> tuple[list[str], list[str]]:
        _copy_dataset(dataset, d / "ds")
        (d / "notes.json").write_text("not JSON\n")
        (d / "drawings").mkdir()
        return ["data", "show", "ds", "--out", out, *extra], []
    return case


def show_cases(dataset: Path) -> dict[str, tuple[Case, list[str]]]:
    image = str(Path("ds/images/000001.jpg"))
    return {
        "show: --image 999": (_show(dataset, "--image", "999"), ["image id 999 not found", "annotations.json"]),
        "show: --annotations not JSON": (_show(dataset, "--image", "1", "--annotations", "notes.json"), ["notes.json", "not a readable JSON"]),
        "show: no dataset there": (lambda d: (["data", "show", "nowhere", "--image", "1", "--out", "x.png"], []), ["nowhere"]),
        "show: --out a folder": (_show(dataset, "--image", "1", out="drawings"), ["--out drawings", "is a folder", ".png"]),
        "show: --out x.txt": (_show(dataset, "--image", "1", out="drawn.txt"), ["--out drawn.txt", "PNG", ".png"]),
        "show: JSON says 999x999": (_show_with_annotations(dataset, lambda data: data["images"][0].update(width=999, height=999)),
                                    ["image id 1", image, "is 48x48 pixels", "width 999, height 999"]),
        "show: text file named .jpg": (_show_with_image(b"just some text\n", dataset), ["is not an image file"]),
        "show: empty .jpg": (_show_with_image(b"", dataset), ["is empty (0 bytes)"]),
        "show: JPEG cut short": (_show_with_image(None, dataset), ["cannot be read as an image"]),
        "show: segmentation of another size": (
            _show_with_annotations(dataset, lambda data: _person_of_image_1(data).update(segmentation=_mask_10x10())),
            ["image id 1", "field 'segmentation'", "RLE mask is 10x10 but the image is 48x48"]),
        "show: dp mask of another size": (
            _show_with_annotations(dataset, _small_dp_mask),
            ["image id 1", "dp_masks[0]", "mask is 10x10, expected 256x256"]),
        "show: bad RLE": (
            _show_with_annotations(dataset, lambda data: _person_of_image_1(data)["segmentation"].update(counts="!!not RLE")),
            ["image id 1", "field 'segmentation'", "bad RLE mask"]),
        "show: image id twice": (_show_with_annotations(dataset, lambda data: data["images"].append(dict(data["images"][0]))),
                                 ["image id 1", "given twice"]),
        "show: annotation of an unknown image": (
            _show_with_annotations(dataset, lambda data: data["annotations"].append({**data["annotations"][0], "id": 10**6, "image_id": 999})),
            ["image_id", "999", "unknown image"]),
    }


# -- nas pareto -------------------------------------------------------------------------------
def _trials_run(d: Path, damage: Callable[[ResultsStore], None] | None = None, parquet: bool = False) -> ResultsStore:
    store = ResultsStore(d / "run")
    store.save_config({"format": "nas-search-run", "max_latency_ms": None, "table": str(d / "no-table")})
    store.put_many([TrialRow(trial=f"t000{k}", number=k, kind="search", baseline="", arch="a", arch_id=f"id{k}",
                             status="finished", gps_ap=10.0 + k, latency_ms=5.0 + k) for k in range(3)])
    if not parquet:
        store.parquet_path.unlink()
    if damage is not None:
        damage(store)
    return store


def _pareto_case(damage: Callable[[ResultsStore], None] | None, names: list[str], *extra: str, parquet: bool = False) -> Case:
    def case(d: Path) -> tuple[list[str], list[str]]:
        _trials_run(d, damage, parquet)
        return ["pareto", "run", *extra], names
    return case


def _csv_edit(edit: Callable[[str], str]) -> Callable[[ResultsStore], None]:
    return lambda store: store.csv_path.write_text(edit(store.csv_path.read_text()))


PARETO_CASES: dict[str, Case] = {
    "pareto: csv cut mid-row": _pareto_case(_csv_edit(lambda t: t[:-30]), ["trials.csv", "row 3 (line 4)", "restore"]),
    "pareto: csv cut in its last field": _pareto_case(_csv_edit(lambda t: t[:-1]), ["trials.csv", "ends in the middle of row 3"]),
    "pareto: latency_ms -50": _pareto_case(_csv_edit(lambda t: t.replace(",6.0,", ",-50.0,")),
                                           ["trials.csv row 2", "t0001", "latency_ms -50"]),
    "pareto: latency_ms inf": _pareto_case(_csv_edit(lambda t: t.replace(",6.0,", ",inf,")), ["trials.csv row 2", "latency_ms inf"]),
    "pareto: trial twice": _pareto_case(_csv_edit(lambda t: t + t.splitlines(keepends=True)[1]), ["trials.csv row 4", "t0000", "twice"]),
    "pareto: csv not UTF-8": _pareto_case(_csv_edit(lambda t: t), ["trials.csv", "not UTF-8 text (byte 0xe9 at offset"]),  # bytes written below
    "pareto: parquet latency -50": _pareto_case(
        lambda s: s.put(TrialRow(trial="t0001", number=1, kind="search", baseline="", arch="a", arch_id="id1", status="finished",
                                 gps_ap=11.0, latency_ms=-50.0)), ["trials.parquet row 2", "latency_ms -50"], parquet=True),
    "pareto: parquet not parquet": _pareto_case(lambda s: s.parquet_path.write_bytes(b"PAR1 nothing"), ["trials.parquet", "corrupt"],
                                                parquet=True),
    "pareto: config.json not JSON": _pareto_case(lambda s: s.config_path.write_text("{"), ["config.json", "not JSON"]),
    "pareto: no run folder": lambda d: (["pareto", "nowhere"], ["nowhere", "config.json"]),
    "pareto: --axis flops": _pareto_case(None, ["'flops' (--axis)"], "--axis", "flops"),
    "pareto: --ref -1": _pareto_case(None, ["--ref"], "--ref", "-1"),
    "pareto: --ref nan": _pareto_case(None, ["--ref"], "--ref", "nan"),
    "pareto: --plots a file": _pareto_case(lambda s: (s.root / "notes.txt").write_text("keep me"), ["--plots run/notes.txt", "is a file"],
                                           "--plots", "run/notes.txt"),
}


def _not_utf8(case: Case) -> Case:
    def wrapped(d: Path) -> tuple[list[str], list[str]]:
        argv, names = case(d)
        (d / "run" / "trials.csv").write_bytes((d / "run" / "trials.csv").read_bytes().replace(b"finished", b"fini\xe9hed", 1))
        return argv, names
    return wrapped


PARETO_CASES["pareto: csv not UTF-8"] = _not_utf8(PARETO_CASES["pareto: csv not UTF-8"])


# -- nas space --------------------------------------------------------------------------------
def _space_file(text: str, name: str = "space.yaml") -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        (d / name).write_text(text)
        return d / name
    return make


SPACE_CASES: dict[str, Case] = {
    "space sample -n 10^12": lambda d: (["space", "sample", str(DEFAULT_SPACE), "-n", "1000000000000"], ["-n 1000000000000", "100,000"]),
    "space sample, no file": lambda d: (["space", "sample", "missing.yaml"], ["missing.yaml"]),
    "space show, a key twice": lambda d: (["space", "show", str(_space_file(DEFAULT_SPACE.read_text() + "name: again\n")(d))],
                                          ["space.yaml", "name"]),
}


# -- nas arch info: an arch.json whose key is misspelt (it was left at its default) -----------
def _arch_json_with_an_unknown_key(d: Path) -> tuple[list[str], list[str]]:
    from nas.space.references import reference

    (d / "arch.json").write_text(json.dumps({**reference("densemobile").to_dict(), "nek": {"variant": "bifpn"}}))
    return ["arch", "info", "arch.json"], ["architecture JSON", "unknown keys ['nek']"]


ARCH_CASES: dict[str, Case] = {"arch info: arch.json with a misspelt key": _arch_json_with_an_unknown_key}


# -- counts that can explode or make no sense ------------------------------------------------
TABLE = str(REPO / "latency_tables" / "cpu-executorch-xnnpack-t1")
BIG = "1000000000000"  # 10^12
VALIDATE = ["latency", "validate", "--table", TABLE]
PROFILE = ["profile", "--space", str(DEFAULT_SPACE), "--out", "table"]
TRAIN = ["train", "densemobile", "--data", "nowhere"]
SEARCH = ["search", "--out", "run", "--table", TABLE, "--data", "nowhere"]


def _argv(argv: list[str], names: list[str]) -> Case:
    return lambda d: (argv, names)


COUNT_CASES: dict[str, Case] = {
    "arch info --classifier 0": _argv(["arch", "info", "densemobile", "--classifier", "0"], ["--classifier"]),
    "arch info --classifier 10^12": _argv(["arch", "info", "densemobile", "--classifier", BIG], ["--classifier"]),
    "arch info --input 8 8": _argv(["arch", "info", "densemobile", "--input", "8", "8"], ["--input 8 8", "16..2048"]),
    "arch info --input 10^5 10^5": _argv(["arch", "info", "densemobile", "--input", "100000", "100000"], ["--input 100000 100000"]),
    "latency validate --samples 10^12": _argv(VALIDATE + ["--samples", BIG], ["--samples"]),
    "latency validate --workers 10^5": _argv(VALIDATE + ["--workers", "100000"], ["--workers", "per CPU core"]),
    "profile --samples 10^12": _argv(PROFILE + ["--samples", BIG], ["--samples"]),
    "profile --workers 10^5": _argv(PROFILE + ["--workers", "100000"], ["--workers", "per CPU core"]),
    "profile --chunk 0": _argv(PROFILE + ["--chunk", "0"], ["--chunk"]),
    "profile --chunk 10^9": _argv(PROFILE + ["--chunk", "1000000000"], ["--chunk"]),
    "train --budget-steps 0": _argv(TRAIN + ["--budget-steps", "0"], ["--budget-steps"]),
    "train --budget-epochs 0": _argv(TRAIN + ["--budget-epochs", "0"], ["--budget-epochs"]),
    "train --budget-epochs nan": _argv(TRAIN + ["--budget-epochs", "nan"], ["--budget-epochs", "got nan"]),
    "train --budget-seconds -5": _argv(TRAIN + ["--budget-seconds", "-5"], ["--budget-seconds"]),
    "search --trials 10^12": _argv(SEARCH + ["--trials", BIG], ["--trials"]),
    "demo --trials 10^12": _argv(["demo", "--out", "run", "--trials", BIG], ["--trials"]),
}


# -- the option named is the one given ----------------------------------------------------------
def _folder_of_other_files(d: Path) -> tuple[list[str], list[str]]:
    (d / "mine").mkdir()
    (d / "mine" / "notes.txt").write_text("keep me")
    return ["demo", "--out", "run", "--data", "mine"], ["--data ", "mine", "notes.txt", "not a dataset"]


OPTION_CASES: dict[str, Case] = {
    "train --proxy-input 8 8": _argv(TRAIN + ["--proxy-input", "8", "8"], ["--proxy-input 8 8"]),
    "search --proxy-input 8 8": _argv(SEARCH + ["--trials", "1", "--proxy-input", "8", "8"], ["--proxy-input 8 8"]),
    "demo --data ''": _argv(["demo", "--out", "run", "--data", ""], ["--data", "empty"]),
    "demo --data .": _argv(["demo", "--out", "run", "--data", "."], ["--data .", "current folder"]),
    "demo --data a folder of other files": _folder_of_other_files,
    "train --data ''": _argv(["train", "densemobile", "--data", ""], ["--data is empty"]),
    "search --data ''": _argv(["search", "--out", "run", "--table", TABLE, "--data", "", "--trials", "1"], ["--data is empty"]),
}


# -- error lines quote an excerpt of a 100,000-character input, not all of it -----------------
LONG = "x" * 100_000
EXCERPT = "'xxxxxxxxxx"  # the start of the quoted excerpt


def _arch_json_with_a_long_activation(d: Path) -> tuple[list[str], list[str]]:
    from nas.space.references import reference

    data = reference("densemobile").to_dict()
    data["stem"]["act"] = LONG
    (d / "arch.json").write_text(json.dumps(data))
    return ["arch", "info", "arch.json"], ["stem", "unknown activation", EXCERPT]


LONG_CASES: dict[str, Case] = {
    "arch info: a long name": _argv(["arch", "info", LONG], ["unknown architecture name", EXCERPT]),
    "arch info: a long path": _argv(["arch", "info", LONG + ".json"], ["File name too long", EXCERPT]),
    "arch info: a long activation in arch.json": _arch_json_with_a_long_activation,
    "space show: a long value": lambda d: (["space", "show", str(_space_file(DEFAULT_SPACE.read_text().replace("  kernel: 3\n", f"  kernel: {LONG}\n", 1))(d))],
                                           ["space.yaml", "stem.kernel", EXCERPT]),
    "search --sampler long": _argv(SEARCH + ["--trials", "1", "--sampler", LONG], ["unknown sampler", EXCERPT]),
    "search --objective long": _argv(SEARCH + ["--trials", "1", "--objective", LONG], ["unknown objective", EXCERPT]),
    "train --device long": _argv(TRAIN + ["--device", LONG], ["unknown device", EXCERPT]),
    "profile --runtime long": _argv(PROFILE + ["--runtime", LONG], ["unknown runtime", EXCERPT]),
    "synth --preset long": _argv(SYNTH + ["--out", "ds", "--preset", LONG], ["unknown scene preset", EXCERPT]),
    "pareto --axis long": _pareto_case(None, ["unknown axis", EXCERPT], "--axis", LONG),
}


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(folder.rglob("*"))}


def _check(case: Case, must_name: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    monkeypatch.chdir(work)
    argv, names = case(work)
    before = _tree(tmp_path)
    code = main(argv)
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert code == 2, (code, captured.err)
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert "Traceback" not in captured.err + captured.out
    assert len(lines[0]) < 1000, f"{len(lines[0]):,} characters: an input echoed whole?"
    for name in names + must_name:
        assert name in lines[0], (name, lines[0])
    assert _tree(tmp_path) == before, "the refused command wrote or changed files"


ALL_CASES = {**SYNTH_CASES, **PARETO_CASES, **SPACE_CASES, **ARCH_CASES, **COUNT_CASES, **OPTION_CASES, **LONG_CASES}
SHOW_CASES = ["show: text file named .jpg", "show: empty .jpg", "show: JPEG cut short", "show: JSON says 999x999", "show: --image 999",
              "show: --annotations not JSON", "show: no dataset there", "show: --out a folder", "show: --out x.txt",
              "show: segmentation of another size", "show: dp mask of another size", "show: bad RLE", "show: image id twice",
              "show: annotation of an unknown image"]


@pytest.mark.parametrize("name", sorted(ALL_CASES))
def test_bad_input_is_one_error_line_and_writes_nothing(name: str, tmp_path: Path, monkeypatch, capsys) -> None:
    _check(ALL_CASES[name], [], tmp_path, monkeypatch, capsys)


@pytest.mark.parametrize("name", SHOW_CASES)
def test_a_bad_image_or_annotation_is_refused_before_drawing(name: str, dataset: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    case, must_name = show_cases(dataset)[name]
    _check(case, must_name, tmp_path, monkeypatch, capsys)


def test_synth_into_a_folder_another_writer_holds(tmp_path: Path, monkeypatch, capsys) -> None:
    """A real second process holds the dataset's lock: one line naming its pid."""
    out = tmp_path / "work" / "ds"

    def case(d: Path) -> tuple[list[str], list[str]]:
        return SYNTH + ["--out", "ds"], [str(out), "another nas data synth is running", f"pid {holder.pid} "]

    imports = "from nas.lock import folder_lock"
    with lock_held_elsewhere(imports, f"folder_lock(Path({str(out.parent)!r}), '.ds.synth-lock', 'nas data synth', 'x')") as holder:
        _check(case, [], tmp_path, monkeypatch, capsys)


def test_the_number_of_bad_inputs_tried() -> None:
    """The count the issue's closing note quotes: the table above plus the busy folder."""
    assert len(ALL_CASES) + len(SHOW_CASES) + 1 == 78


def test_space_sample_streams_and_stops_quietly_at_a_closed_pipe() -> None:
    import subprocess
    import sys

    from tests.conftest import REPO

    proc = subprocess.run(f"{sys.executable} -m nas space sample {DEFAULT_SPACE} -n 100000 | head -n 2", shell=True,
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert len(proc.stdout.splitlines()) == 2 and proc.stderr == "", proc.stderr
