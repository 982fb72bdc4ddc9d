"""Reading a dataset's image files, with errors that say what is wrong with the file.

An image file that exists but is no image (a text file named ``.jpg``, an empty file)
reached the user as PIL's ``OSError`` and the CLI's advice to check paths and
permissions; here each case is a :class:`~nas.errors.DataError` naming the file, the
image id and what to do.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from nas.errors import DataError

__all__ = ["read_rgb"]


def read_rgb(path: str | os.PathLike[str], image_id: int, size: tuple[int, int] | None = None) -> np.ndarray:
    """The image ``path`` (COCO image ``image_id``) as a writable ``(H, W, 3)`` uint8 array.

    Args:
        size: ``(height, width)`` the annotations give the image, checked against the
            file's: boxes, masks and points are in that frame, so another size would
            place every target wrongly without a word.

    Raises:
        DataError: the file is missing, unreadable, empty, not an image, damaged or too
            large to decode, or not of ``size``, each said so with the file and the image id.
    """
    path = Path(path)
    where = f"image id {image_id}"
    fix = "replace the file, or remove the image from the annotations"
    try:
        with Image.open(path) as im:
            image = np.array(im.convert("RGB"))  # a writable copy (torch warns on read-only arrays)
    except FileNotFoundError:
        raise DataError(f"{where}: image file {path} does not exist; check the image folder given, or the "
                        "entry's file_name") from None
    except IsADirectoryError:
        raise DataError(f"{where}: {path} is a folder, not an image file; check the entry's file_name") from None
    except PermissionError:
        raise DataError(f"{where}: cannot read image file {path} (permission denied)") from None
    except UnidentifiedImageError:
        what = "the file is empty" if path.stat().st_size == 0 else "in no image format PIL reads; a text file?"
        raise DataError(f"{where}: not an image file: cannot decode {path} ({what}); {fix}") from None
    except Image.DecompressionBombError as exc:  # not an OSError: PIL refuses pixel counts that exhaust memory
        raise DataError(f"{where}: image file {path} is too large to decode ({exc}); {fix}") from None
    except (OSError, SyntaxError, ValueError) as exc:  # cut short or damaged after a valid header
        raise DataError(f"{where}: damaged image file: cannot decode {path} ({exc}); {fix}") from None
    if size is not None and image.shape[:2] != tuple(size):
        raise DataError(f"{where}: image file {path} is {image.shape[1]}x{image.shape[0]} pixels but the annotations give "
                        f"width {size[1]}, height {size[0]}; fix the entry's width and height, or the file")
    return image
