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

import os
import statistics
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

from nas.data.coco import DP_BOX_SIZE, annotation_where, parse_bbox, parse_densepose_fields
from nas.data.rle import rle_counts
from nas.data.source import DatasetSource, Split, SPLITS, surface_kind
from nas.errors import DataError
from nas.io import read_json

__all__ = ["Problem", "SplitReport", "DatasetReport", "inspect_dataset", "check_dataset"]

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


def _check_segmentation(seg: Any, where: str) -> str | None:
    """What is wrong with a COCO ``segmentation`` (RLE or polygons) in itself, or None."""
    if isinstance(seg, dict):
        try:
            rle_counts(seg)
        except ValueError as exc:
            return f"{where}: bad RLE mask: {exc}"
        return None
    if isinstance(seg, list):
        for k, poly in enumerate(seg):
            if not isinstance(poly, list) or len(poly) < 6 or len(poly) % 2:
                return f"{where}: polygon {k} must be a list of at least 3 x, y pairs"
            if not all(isinstance(c, (int, float)) and not isinstance(c, bool) and c == c and abs(c) != float("inf")
                       for c in poly):
                return f"{where}: polygon {k} holds a value that is not a finite number"
        return None
    return f"{where}: expected an RLE dict or a list of polygons, got {type(seg).__name__}"


def _check_annotation(ann: Any, k: int, scan: _SplitScan, seen: dict[int, int]) -> None:
    """Count one annotation, or record its first problem."""
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
    try:
        parse_bbox(ann, image_id)
        crowd = ann.get("iscrowd", 0)
        if crowd not in (0, 1):  # also True/False
            raise DataError(f"{annotation_where(image_id, ann_id, 'iscrowd')}: expected 0 or 1, got {crowd!r:.20}")
        if "segmentation" in ann:
            seg = ann["segmentation"]
            bad = _check_segmentation(seg, annotation_where(image_id, ann_id, "segmentation"))
            if bad:
                raise DataError(bad)
            if isinstance(seg, dict) and tuple(seg["size"]) != scan.images[image_id][1:]:
                scan.mask_sizes.setdefault(image_id, []).append((ann_id, tuple(seg["size"])))
        dp = parse_densepose_fields(ann, image_id)
        if dp is not None:
            for m, rle in enumerate(dp.masks):
                if rle is not None:
                    _check_box_mask(rle, annotation_where(image_id, ann_id, f"dp_masks[{m}]"))
    except DataError as exc:
        _problem(scan, str(exc))
        return
    r = scan.report
    if crowd:
        scan.report = replace(r, crowd_regions=r.crowd_regions + 1)
    elif dp is not None and dp.x.size:
        scan.points.append(int(dp.x.size))
        scan.report = replace(r, people=r.people + 1, people_with_points=r.people_with_points + 1)
    else:
        scan.report = replace(r, people=r.people + 1, people_without_points=r.people_without_points + 1)


def _check_box_mask(rle: Any, where: str) -> None:
    """A ``dp_masks`` entry must be a valid RLE of the 256x256 box frame (the counts are
    checked, not decoded: that is what decoding would find wrong)."""
    try:
        (h, w), _ = rle_counts(rle)
    except ValueError as exc:
        raise DataError(f"{where}: bad RLE mask: {exc}") from None
    if (h, w) != (DP_BOX_SIZE, DP_BOX_SIZE):
        raise DataError(f"{where}: mask is {h}x{w}, expected {DP_BOX_SIZE}x{DP_BOX_SIZE}")


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
    pts = scan.points
    scan.report = replace(scan.report, images=len(scan.images), points_median=float(statistics.median(pts)) if pts else None,
                           points_min=min(pts) if pts else None)
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


def _scan_image_files(scans: list[tuple[Split, _SplitScan]], progress: bool) -> None:
    from tqdm import tqdm

    total = sum(len(scan.images) for _, scan in scans)
    with tqdm(total=total, desc="images", unit="img", disable=not progress, dynamic_ncols=True, leave=False) as bar:
        for split, scan in scans:
            missing = 0
            for image_id, (name, h, w) in scan.images.items():
                bad = _image_problem(split.images / name, h, w)
                if bad is None:
                    pass
                elif bad[0] == "missing":
                    missing += 1
                    _problem(scan, f"image id {image_id}, field 'file_name': image file {split.images / name} not found; "
                                   "check the image folder")
                else:
                    scan.wrong_size.update([image_id] if bad[0] == "size" else [])
                    _problem(scan, f"image id {image_id}, field 'file_name': {split.images / name} {bad[1]}")
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


def _summary_error(problems: Iterable[Problem], origin: str) -> str:
    problems = list(problems)
    text = "; ".join(str(p) for p in problems[:_SHOWN_IN_ERROR])
    more = len(problems) - _SHOWN_IN_ERROR
    if more > 0:
        text += f" (and {more} more problem{'s' if more > 1 else ''}: `nas data check {origin}` lists them)"
    return text
