"""The DensePose results format: encoding, decoding, files and clear errors."""

from __future__ import annotations

import base64
import copy
import io
import json
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from PIL import Image

from nas.errors import EvalError
from nas.eval import (
    DensePoseResult,
    decode_densepose_result,
    decode_iuv,
    encode_densepose_result,
    encode_iuv,
    load_densepose_results,
    save_densepose_results,
)


def _maps(h: int = 7, w: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 25, (h, w)), rng.random((h, w)), rng.random((h, w))


def test_entry_round_trips_through_json() -> None:
    labels, u, v = _maps()  # 7 x 5: the box's size in whole pixels
    entry = encode_densepose_result(3, [1.5, 2.0, 5.0, 7.0], 0.75, labels, u, v)
    assert entry["uv_shape"] == [3, 7, 5]
    back = decode_densepose_result(json.loads(json.dumps(entry)))
    assert (back.image_id, back.category_id, back.bbox, back.score) == (3, 1, (1.5, 2.0, 5.0, 7.0), 0.75)
    np.testing.assert_array_equal(back.labels, labels)
    # U, V are stored as round(255 x): error at most half a step.
    assert np.abs(back.u - u).max() <= 0.5 / 255 + 1e-7
    assert np.abs(back.v - v).max() <= 0.5 / 255 + 1e-7
    assert back.to_json() == entry


def test_png_layout_is_densepose_s() -> None:
    """uv_data is a base64 RGB PNG of (h, w, [I, 255 U, 255 V])."""
    labels = np.array([[0, 24]])
    shape, data = encode_iuv(labels, np.array([[0.0, 1.0]]), np.array([[0.5, 0.2]]))
    im = np.asarray(Image.open(io.BytesIO(base64.b64decode(data))))
    assert shape == [3, 1, 2] and im.shape == (1, 2, 3)
    np.testing.assert_array_equal(im[0, :, 0], [0, 24])
    np.testing.assert_array_equal(im[0, :, 1], [0, 255])
    np.testing.assert_array_equal(im[0, :, 2], [128, 51])  # round(127.5) = 128, round(51.0) = 51
    np.testing.assert_array_equal(decode_iuv(shape, data), np.moveaxis(im, -1, 0))


def test_file_round_trip(tmp_path: Path) -> None:
    labels, u, v = _maps(4, 6, seed=1)
    entries = [encode_densepose_result(k, [0, 0, 6, 4], 1.0 - k / 10, labels, u, v) for k in range(1, 4)]
    path = tmp_path / "res.json"
    save_densepose_results(path, entries)
    loaded = load_densepose_results(path)
    assert [r.to_json() for r in loaded] == entries
    save_densepose_results(path, loaded)  # decoded results write the same file
    assert json.loads(path.read_text()) == entries


def _good() -> dict[str, Any]:
    labels, u, v = _maps()
    return encode_densepose_result(1, [0, 0, 5, 7], 0.5, labels, u, v)


def _png(arr: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def f(e: dict[str, Any]) -> None:
        e[key] = value

    return f


@pytest.mark.parametrize(
    "corrupt, field, words",
    [
        (lambda e: e.pop("score"), "missing field 'score'", ""),
        (_set("image_id", "1"), "field 'image_id'", "integer"),
        (_set("bbox", [0, 0, 5]), "field 'bbox'", "[x, y, width, height]"),
        (_set("bbox", [0, 0, -5, 7]), "field 'bbox'", "positive"),
        (_set("score", "high"), "field 'score'", "number"),
        (_set("score", float("nan")), "field 'score'", "finite"),
        (_set("uv_shape", [2, 7, 5]), "field 'uv_shape'", "[3, h, w]"),
        (_set("uv_shape", [3, 8, 5]), "field 'uv_data'", "uv_shape says 8x5"),
        (_set("uv_data", "not base64 at all!"), "field 'uv_data'", "base64"),
        (_set("uv_data", "aGVsbG8="), "field 'uv_data'", "not a readable PNG (5 bytes starting b'hello'; UnidentifiedImageError)"),
        (_set("uv_data", ""), "field 'uv_data'", "not a readable PNG (empty; UnidentifiedImageError)"),
        (_set("uv_data", _png(np.zeros((7, 5), np.uint8))), "field 'uv_data'", "RGB"),
        (_set("uv_data", _png(np.full((7, 5, 3), 30, np.uint8))), "field 'uv_data'", "channel I holds 30"),
    ],
)
def test_malformed_entry_names_entry_and_field(
    corrupt: Callable[[dict[str, Any]], Any], field: str, words: str
) -> None:
    entries = [_good(), _good()]
    corrupt(entries[1])
    with pytest.raises(EvalError) as err:
        load_densepose_results(entries)
    msg = str(err.value)
    assert msg.startswith("results entry 1"), msg
    assert field in msg and words in msg, msg


def test_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(EvalError, match="not found"):
        load_densepose_results(tmp_path / "missing.json")
    bad = tmp_path / "obj.json"
    bad.write_text(json.dumps({"image_id": 1}))
    with pytest.raises(EvalError, match="JSON list"):
        load_densepose_results(bad)
    bad.write_text("[{")
    with pytest.raises(EvalError, match="not a readable JSON"):
        load_densepose_results(bad)
    bad.write_text(json.dumps([_good(), 7]))
    with pytest.raises(EvalError, match=r"obj.json: results entry 1: expected a JSON object"):
        load_densepose_results(bad)


def test_encoder_rejects_bad_maps() -> None:
    labels, u, v = _maps()
    with pytest.raises(EvalError, match="0..24"):
        encode_iuv(labels + 25, u, v)
    with pytest.raises(EvalError, match="one shape"):
        encode_iuv(labels, u[:3], v)
    with pytest.raises(EvalError, match="finite"):
        encode_iuv(labels, np.full_like(u, np.nan), v)
    with pytest.raises(EvalError, match="bbox"):
        encode_densepose_result(1, [0, 0, 0, 3], 1.0, labels, u, v)


def test_decoded_result_passes_through() -> None:
    r = decode_densepose_result(_good())
    assert decode_densepose_result(r) is r
    assert isinstance(copy.copy(r), DensePoseResult)
