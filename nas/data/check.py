"""Dataset integrity, checked before any work starts (``nas data check``; train, search, demo).

:func:`inspect_dataset` reads a dataset (a folder or a descriptor, see
:mod:`nas.data.source`) and returns a :class:`DatasetReport`: what the dataset holds per
split, and every problem found, each one line naming the file, the image and annotation
id and the field. :func:`check_dataset` is the same check for commands about to work on
the data: it returns the report of a sound dataset and raises
:class:`~nas.errors.DataError` with the first problem otherwise.

Checked, per split: the annotation file parses as COCO; image ids and annotation ids are
unique; every annotation names a known image, has a valid box, a valid segmentation (RLE
of the image's size, or polygons) and consistent DensePose fields (``dp_x``, ``dp_y``,
``dp_I``, ``dp_U``, ``dp_V`` of one length and in range, 14 ``dp_masks`` that are valid
256x256 RLEs); every image file exists, is an image (its header is read, not its pixels,
so 50k images take seconds) and has the width and height the annotation file gives.
The body surface is opened as the commands will open it. One problem is reported per
annotation or image (the first found), so one bad entry gives one line.
"""

from __future__ import annotations

import math
import os
import statistics
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

from nas.data.coco import DP_BOX_SIZE, annotation_where, parse_bbox, parse_densepose_fields
from nas.data.rle import rle_counts, rles_valid
from nas.data.source import DatasetSource, Split, SPLITS, surface_kind
from nas.errors import DataError
from nas.io import read_json

__all__ = ["Problem", "SplitReport", "DatasetReport", "inspect_dataset", "check_dataset", "check_annotation_file"]

_SHOWN_IN_ERROR = 1  # problems quoted by check_dataset's one-line error


@dataclass(frozen=True)
class Problem:
    """One problem of a dataset: the file it is in and what is wrong where (image id,
    annotation id, field)."""

    file: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


@dataclass(frozen=True)
class SplitReport:
    """What one split holds.

    Attributes:
        name: ``train`` or ``val``.
        annotations: the annotation file.
        images_dir: the image folder.
        images: image entries in the annotation file.
        images_missing: of those, entries whose file is not in the image folder (None
            when image files were not checked).
        people: annotations of single people (not crowd regions).
        people_with_points: people with at least one DensePose point.
        people_without_points: people without any.
        crowd_regions: ``iscrowd`` annotations.
        points_median: DensePose points per person with points (median; None if none).
        points_min: the fewest points of a person with points (None if none).
    """

    name: str
    annotations: str
    images_dir: str
    images: int = 0
    images_missing: int | None = None
    people: int = 0
    people_with_points: int = 0
    people_without_points: int = 0
    crowd_regions: int = 0
    points_median: float | None = None
    points_min: int | None = None


@dataclass(frozen=True)
class DatasetReport:
    """The result of :func:`inspect_dataset`.

    Attributes:
        origin: the dataset folder or descriptor given.
        form: ``folder`` or ``descriptor``.
        splits: the train and val reports.
        surface: the body surface's path; ``surface_kind`` ``npz`` or ``densepose``
            (DensePose's evaluation files).
        surface_vertices: its vertex count (None when it was not opened or is broken).
        surface_symmetry: whether flips work with it.
        images_checked: whether the image files were read.
        problems: every problem found; empty for a sound dataset.
    """

    origin: str
    form: str
    splits: tuple[SplitReport, ...]
    surface: str
    surface_kind: str
    surface_vertices: int | None
    surface_symmetry: bool | None
    images_checked: bool
    problems: tuple[Problem, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """No problem found."""
        return not self.problems

    def split(self, name: str) -> SplitReport:
        """The report of split ``name``."""
        return next(s for s in self.splits if s.name == name)

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON data (problems as ``file: message`` strings)."""
        out = asdict(self)
        out["problems"] = [str(p) for p in self.problems]
        out["ok"] = self.ok
        return out


@dataclass(frozen=True)
class _Pending:
    """An annotation whose fields hold, its RLEs (``(field, rle)``) not yet checked."""

    image_id: int
    ann_id: int
    kind: str  # "crowd", "with points" or "without points"
    points: int
    rles: list[tuple[str, Any]]


@dataclass
class _SplitScan:
    """Mutable counts while one split is read."""

    report: SplitReport
    problems: list[Problem]
    # image id -> (file name, height, width) of the entries that are well formed
    images: dict[int, tuple[str, int, int]]
    points: list[int]
    # image id -> (annotation id, (h, w)) of RLE segmentations not of the image's size
    mask_sizes: dict[int, list[tuple[int, tuple[int, ...]]]] = field(default_factory=dict)
    # images whose file is not of the size the JSON gives (their masks are not reported too)
    wrong_size: set[int] = field(default_factory=set)
    pending: list[_Pending] = field(default_factory=list)


def _problem(scan: _SplitScan, message: str) -> None:
    scan.problems.append(Problem(str(scan.report.annotations), message))


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _scan_images(scan: _SplitScan, entries: list[Any]) -> None:
    first_at: dict[int, int] = {}
    for k, img in enumerate(entries):
        if not isinstance(img, dict):
            _problem(scan, f"images[{k}] is not a JSON object")
            continue
        image_id = img.get("id")
        if not _is_int(image_id):
            _problem(scan, f"images[{k}], field 'id': image id must be an integer, got {image_id!r:.40}")
            continue
        if image_id in first_at:
            _problem(scan, f"image id {image_id}, field 'id': given twice (images[{first_at[image_id]}] and images[{k}]); "
                           "image ids must be unique")
            continue
        first_at[image_id] = k
        name, h, w = img.get("file_name"), img.get("height"), img.get("width")
        if not isinstance(name, str) or not name:
            _problem(scan, f"image id {image_id}, field 'file_name': expected the image's file name, got {name!r:.40}")
        elif not (_is_int(h) and _is_int(w) and h > 0 and w > 0):
            _problem(scan, f"image id {image_id}, field 'height'/'width': expected positive integers, got {h!r:.20} x {w!r:.20}")
        else:
            scan.images[image_id] = (name, h, w)


def _check_annotation(ann: Any, k: int, scan: _SplitScan, seen: dict[int, int]) -> None:
    """Record an annotation whose fields hold (its RLE masks to be checked with all others
    at once), or its first problem."""
    if not isinstance(ann, dict):
        _problem(scan, f"annotations[{k}] is not a JSON object")
        return
    ann_id, image_id = ann.get("id"), ann.get("image_id")
    if not _is_int(ann_id):
        _problem(scan, f"{annotation_where(image_id, ann_id, 'id')}: annotation id must be an integer")
        return
    if ann_id in seen:
        _problem(scan, f"{annotation_where(image_id, ann_id, 'id')}: given twice (annotations[{seen[ann_id]}] and "
                       f"annotations[{k}]); annotation ids must be unique")
        return
    seen[ann_id] = k
    if image_id not in scan.images:
        _problem(scan, f"{annotation_where(image_id, ann_id, 'image_id')}: no image with id {image_id!r:.40} in 'images' "
                       "(an annotation of an unknown image)")
        return
    rles: list[tuple[str, Any]] = []
    try:
        parse_bbox(ann, image_id)
        crowd = ann.get("iscrowd", 0)
        if crowd not in (0, 1):  # also True/False
            raise DataError(f"{annotation_where(image_id, ann_id, 'iscrowd')}: expected 0 or 1, got {crowd!r:.20}")
        seg = ann.get("segmentation")
        if isinstance(seg, dict):
            rles.append(("segmentation", seg))
        elif seg is not None:
            bad = _check_polygons(seg, annotation_where(image_id, ann_id, "segmentation"))
            if bad:
                raise DataError(bad)
        dp = parse_densepose_fields(ann, image_id)
        if dp is not None:
            rles += [(f"dp_masks[{m}]", rle) for m, rle in enumerate(dp.masks) if rle is not None]
    except DataError as exc:
        _problem(scan, str(exc))
        return
    kind = "crowd" if crowd else "with points" if dp is not None and dp.x.size else "without points"
    scan.pending.append(_Pending(image_id, ann_id, kind, 0 if dp is None else int(dp.x.size), rles))


def _check_polygons(seg: Any, where: str) -> str | None:
    """What is wrong with a COCO polygon ``segmentation``, or None."""
    if not isinstance(seg, list):
        return f"{where}: expected an RLE dict or a list of polygons, got {type(seg).__name__}"
    for k, poly in enumerate(seg):
        if not isinstance(poly, list) or len(poly) < 6 or len(poly) % 2:
            return f"{where}: polygon {k} must be a list of at least 3 x, y pairs"
        if not all(isinstance(c, (int, float)) and not isinstance(c, bool) and math.isfinite(c) for c in poly):
            return f"{where}: polygon {k} holds a value that is not a finite number"
    return None


def _rle_problem(rle: Any, fld: str, valid: bool, where: str) -> str | None:
    """What is wrong with one RLE of an annotation (``valid``: rles_valid's verdict)."""
    if not valid:
        try:
            rle_counts(rle)
        except ValueError as exc:
            return f"{where}: bad RLE mask: {exc}"
    if fld.startswith("dp_masks") and list(rle["size"]) != [DP_BOX_SIZE, DP_BOX_SIZE]:
        h, w = rle["size"]
        return f"{where}: mask is {h}x{w}, expected {DP_BOX_SIZE}x{DP_BOX_SIZE}"
    return None


def _settle_pending(scan: _SplitScan) -> None:
    """Check every RLE of the split's annotations at once, then count each annotation, or
    record its first bad mask."""
    valid = rles_valid([rle for p in scan.pending for _, rle in p.rles])
    at = 0
    counts: dict[str, int] = {"crowd": 0, "with points": 0, "without points": 0}
    for p in scan.pending:
        verdicts, at = valid[at:at + len(p.rles)], at + len(p.rles)
        bad = next((msg for (fld, rle), ok in zip(p.rles, verdicts)
                    if (msg := _rle_problem(rle, fld, bool(ok), annotation_where(p.image_id, p.ann_id, fld)))), None)
        if bad:
            _problem(scan, bad)
            continue
        seg = dict(p.rles).get("segmentation")
        if seg is not None and tuple(seg["size"]) != scan.images[p.image_id][1:]:
            scan.mask_sizes.setdefault(p.image_id, []).append((p.ann_id, tuple(seg["size"])))
        counts[p.kind] += 1
        if p.kind == "with points":
            scan.points.append(p.points)
    pts = scan.points
    scan.report = replace(scan.report, images=len(scan.images), people=counts["with points"] + counts["without points"],
                          people_with_points=counts["with points"], people_without_points=counts["without points"],
                          crowd_regions=counts["crowd"], points_median=float(statistics.median(pts)) if pts else None,
                          points_min=min(pts) if pts else None)


def _scan_split(name: str, split: Split) -> _SplitScan:
    scan = _SplitScan(SplitReport(name, str(split.annotations), str(split.images)), [], {}, [])
    try:
        data = read_json(split.annotations, DataError, "annotation file")
    except DataError as exc:
        scan.problems.append(Problem(str(split.annotations), str(exc).removeprefix(f"{split.annotations}: ")))
        return scan
    if not isinstance(data, dict) or not isinstance(data.get("images"), list) or not isinstance(data.get("annotations"), list):
        _problem(scan, "not a COCO file (needs lists 'images' and 'annotations')")
        return scan
    _scan_images(scan, data["images"])
    seen: dict[int, int] = {}
    for k, ann in enumerate(data["annotations"]):
        _check_annotation(ann, k, scan, seen)
    _settle_pending(scan)
    return scan


def _image_problem(path: Path, height: int, width: int) -> tuple[str, str] | None:
    """What is wrong with one image file (its header only): ``(kind, text)`` with kind
    ``missing``, ``size`` or ``unreadable``; None for a sound image."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:  # reads the header, not the pixels
            w, h = im.size
    except FileNotFoundError:
        return "missing", "not found"
    except PermissionError:
        return "unreadable", "cannot be read (permission denied)"
    except UnidentifiedImageError:
        empty = path.is_file() and path.stat().st_size == 0
        return "unreadable", "is empty (0 bytes)" if empty else "is not an image file (no known image format; a text file?)"
    except Image.DecompressionBombError as exc:  # not an OSError: PIL refuses pixel counts that would exhaust memory
        return "unreadable", f"is too large to decode ({exc})"
    except (OSError, SyntaxError, ValueError) as exc:  # a folder under that name, a damaged header
        return "unreadable", f"cannot be read as an image ({exc})"
    if (w, h) != (width, height):
        return "size", f"is {w}x{h} pixels but the annotation file gives width {width}, height {height}"
    return None


def _scan_image_file(scan: _SplitScan, folder: Path, image_id: int) -> bool:
    """Check the file of image ``image_id`` (its header), recording its problem; True when
    the file is missing."""
    name, h, w = scan.images[image_id]
    bad = _image_problem(folder / name, h, w)
    if bad is None:
        return False
    if bad[0] == "missing":
        _problem(scan, f"image id {image_id}, field 'file_name': image file {folder / name} not found; check the image folder")
        return True
    scan.wrong_size.update([image_id] if bad[0] == "size" else [])
    _problem(scan, f"image id {image_id}, field 'file_name': {folder / name} {bad[1]}")
    return False


def _scan_image_files(scans: list[tuple[Split, _SplitScan]], progress: bool) -> None:
    from tqdm import tqdm

    total = sum(len(scan.images) for _, scan in scans)
    with tqdm(total=total, desc="images", unit="img", disable=not progress, dynamic_ncols=True, leave=False) as bar:
        for split, scan in scans:
            missing = 0
            for image_id in scan.images:
                missing += _scan_image_file(scan, split.images, image_id)
                bar.update(1)
            scan.report = replace(scan.report, images_missing=missing)


def _report_mask_sizes(scan: _SplitScan) -> None:
    """One problem per image whose RLE segmentations are not of its size, unless its file
    is already reported as not being of the size the JSON gives (one cause, one line)."""
    for image_id, wrong in scan.mask_sizes.items():
        if image_id in scan.wrong_size:
            continue
        _, h, w = scan.images[image_id]
        (ann_id, size), more = wrong[0], len(wrong) - 1
        others = f" (and {more} more annotation{'s' if more > 1 else ''} of this image)" if more else ""
        _problem(scan, f"{annotation_where(image_id, ann_id, 'segmentation')}: RLE mask is {size[0]}x{size[1]} but the "
                       f"image is {h}x{w} (height x width){others}")


def inspect_dataset(
    source: DatasetSource | str | os.PathLike[str], *, images: bool = True, surface: bool = True, progress: bool = False
) -> DatasetReport:
    """Read a whole dataset and report what it holds and every problem found.

    Args:
        source: a :class:`DatasetSource` or what ``--data`` was given (folder or descriptor).
        images: read every image file's header (existence, format, size); off, only the
            annotation files are checked.
        surface: open the body surface (DensePose's ``Pdist_matrix.pkl`` is 1.5 GB).
        progress: show a progress bar over the image files on stderr.

    Returns:
        The report; problems are collected, not raised.

    Raises:
        DataError: ``source`` is not a dataset at all (see :meth:`DatasetSource.load`).
    """
    src = source if isinstance(source, DatasetSource) else DatasetSource.load(source)
    scans = [(src.split(name), _scan_split(name, src.split(name))) for name in SPLITS]
    if images:
        _scan_image_files(scans, progress)
    for _, scan in scans:
        _report_mask_sizes(scan)
    problems = [p for _, scan in scans for p in scan.problems]
    vertices: int | None = None
    symmetry: bool | None = None
    if surface:
        try:
            body = src.open_surface()
            vertices, symmetry = body.num_vertices, body.has_symmetry
        except DataError as exc:
            text = str(exc)
            problems.append(Problem(str(src.surface), text.removeprefix(f"{src.surface}: ")))
    return DatasetReport(
        origin=str(src.origin), form="folder" if src.descriptor is None else "descriptor",
        splits=tuple(scan.report for _, scan in scans), surface=str(src.surface), surface_kind=surface_kind(src.surface),
        surface_vertices=vertices, surface_symmetry=symmetry, images_checked=images, problems=tuple(problems),
    )


def check_dataset(
    source: DatasetSource | str | os.PathLike[str], *, images: bool = True, surface: bool = True, progress: bool = False
) -> DatasetReport:
    """:func:`inspect_dataset` for a command about to work on the data: the report of a
    sound dataset, else :class:`~nas.errors.DataError` (one line) with the first problem,
    how many there are, and the command that lists them all."""
    report = inspect_dataset(source, images=images, surface=surface, progress=progress)
    if report.problems:
        raise DataError(_summary_error(report.problems, report.origin))
    return report


def check_annotation_file(annotations: str | os.PathLike[str], images: str | os.PathLike[str], image_id: int) -> None:
    """The checks of :func:`inspect_dataset` for one annotation file (ids, boxes,
    segmentations, DensePose fields, RLE masks and their sizes) and, of the image files,
    only the file of ``image_id`` (``nas data show`` draws one image).

    Raises:
        DataError: the first problem found, and how many more there are.
    """
    split = Split(Path(annotations), Path(images))
    scan = _scan_split(split.annotations.stem, split)
    if image_id in scan.images:
        _scan_image_file(scan, split.images, image_id)
    _report_mask_sizes(scan)
    if scan.problems:
        raise DataError(_summary_error(scan.problems, None))


def _summary_error(problems: Iterable[Problem], origin: str | None) -> str:
    """The first problems, and how many more (listed by `nas data check ORIGIN` if given)."""
    problems = list(problems)
    text = "; ".join(str(p) for p in problems[:_SHOWN_IN_ERROR])
    more = len(problems) - _SHOWN_IN_ERROR
    if more > 0:
        lists = f": `nas data check {origin}` lists them" if origin is not None else ""
        text += f" (and {more} more problem{'s' if more > 1 else ''}{lists})"
    return text
