"""One synthetic DensePose image: people, camera, lighting, background, ground truth.

:func:`render_scene` draws 1 to 4 posed bodies (sometimes plus a far-away crowd)
over a procedurally textured, cluttered background, sometimes in front of occluding
objects, and returns the image with exact per-pixel ground truth (person, part,
U, V, canonical 3-D point) and the DensePose-COCO annotations derived from it.

Everything is drawn from the ``numpy.random.Generator`` passed in, so a scene is a
pure function of its seed.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pycocotools.mask as mask_utils
from PIL import Image, ImageDraw, ImageFilter

from nas.data.parts import FINE_TO_COARSE, N_COARSE_PARTS
from nas.data.rle import rle_encode
from nas.data.synth.body import SEGMENT_NAMES, BodyTemplate, body_template
from nas.data.synth.pose import pose_body, rotation, sample_joint_rotations, sample_shape
from nas.data.synth.raster import rasterize
from nas.errors import DataError
from nas.io import excerpt

__all__ = ["RenderedScene", "render_scene", "DP_BOX_SIZE", "SceneConfig", "SCENE_PRESETS", "scene_preset", "scene_from_dict"]

DP_BOX_SIZE = 256
"""Side of DensePose's box frame: dp_x, dp_y and dp_masks live in [0, 256)."""

# Camera-to-body axes: the body's +y (up) is image up (-y), its +z (front) faces the camera.
_BODY_TO_CAMERA = np.diag([1.0, -1.0, -1.0])
_NEAR = 0.05  # m; triangles closer to the camera than this are dropped

# Clothing regions, used only to colour pixels.
_SKIN, _SHIRT, _TROUSERS, _SHOES, _HAIR = range(5)
_SKIN_TONES = np.array(
    [[255, 224, 196], [241, 194, 160], [224, 172, 125], [198, 134, 96], [161, 102, 70], [120, 75, 50], [88, 56, 38]],
    dtype=np.float64,
) / 255.0


@dataclass(frozen=True)
class SceneConfig:
    """Knobs of the scene sampler (defaults match the shipped dataset).

    Attributes:
        max_people: most foreground people per image (at least one).
        points_per_person: (low, high) number of dp points sampled per annotated person.
        min_dp_height: smallest visible box height, as a fraction of the image, that
            gets DensePose points; smaller people get a plain person box, as in
            DensePose-COCO where small people carry no dp annotation.
        min_area: smallest visible area (pixels at 256 px, scaled with the image) that
            is annotated at all.
        crowd_prob: chance of a far-away group annotated as one ``iscrowd`` region.
        occluder_prob: chance of objects drawn in front of the people.
        max_yaw: people turn up to this many degrees either way from facing the camera
            (180: any direction).
        pose_spread: scales how far joints and the whole body move from the rest pose
            (1: the full range; 0: everyone stands upright in the rest pose).
        main_height: (low, high) height of the main person as a fraction of the image.
        clutter: draw shapes, stripes and blur on the background (False: a plain
            gradient with noise).
    """

    max_people: int = 4
    points_per_person: tuple[int, int] = (90, 125)
    min_dp_height: float = 0.12
    min_area: float = 36.0
    crowd_prob: float = 0.12
    occluder_prob: float = 0.3
    max_yaw: float = 180.0
    pose_spread: float = 1.0
    main_height: tuple[float, float] = (0.35, 0.95)
    clutter: bool = True


SCENE_PRESETS: dict[str, SceneConfig] = {
    # DensePose-COCO-like: 1-4 people in any pose and direction, crowds, occluders, clutter.
    "coco": SceneConfig(),
    # The search proxy's data: one large person facing the camera within 30 degrees, in
    # gentle poses, on a plain background. A network trained from scratch for a few
    # hundred CPU steps reaches tens of GPS AP here (on "coco" it stays near 0), so the
    # proxy can tell architectures apart; the metric and annotations are the same.
    "proxy": SceneConfig(max_people=1, crowd_prob=0.0, occluder_prob=0.0, max_yaw=30.0, pose_spread=0.3,
                         main_height=(0.7, 0.95), clutter=False),
    # Between the two: up to 2 people turned up to 90 degrees, in poses of 60% of the full
    # range, sometimes behind an object, on a cluttered background; no crowds. For proxy
    # studies where "proxy" is too easy (long trainings of any candidate end within a few
    # GPS AP of each other there).
    "medium": SceneConfig(max_people=2, crowd_prob=0.0, occluder_prob=0.15, max_yaw=90.0, pose_spread=0.6,
                          main_height=(0.5, 0.95), clutter=True),
}


def scene_preset(name: str) -> SceneConfig:
    """The scene settings of a named preset (``coco``, ``proxy`` or ``medium``)."""
    try:
        return SCENE_PRESETS[name]
    except KeyError:
        raise DataError(f"unknown scene preset {excerpt(name)}; choose from {', '.join(SCENE_PRESETS)}") from None


def scene_from_dict(data: dict[str, Any]) -> SceneConfig:
    """A :class:`SceneConfig` from its ``asdict`` form (JSON lists back to tuples)."""
    return SceneConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


@dataclass
class RenderedScene:
    """A rendered image and its exact ground truth.

    Attributes:
        image: ``(H, W, 3)`` uint8 RGB.
        person: ``(H, W)`` int16 index of the person seen at each pixel, -1 for none
            (background or occluder).
        part: ``(H, W)`` uint8 fine part 1..24 at each pixel, 0 where no person.
        uv: ``(H, W, 2)`` float32 chart coordinates U, V (0 where no person).
        canonical: ``(H, W, 3)`` float32 canonical-pose 3-D point drawn at each pixel
            (metres, NaN where no person): the template point with this pixel's I, U, V.
        annotations: DensePose-COCO annotation dicts (no ``id``/``image_id`` yet).
        person_annotation: per person index, the index into ``annotations`` of its
            own annotation, or -1 (crowd member, too small, or invisible).
    """

    image: np.ndarray
    person: np.ndarray
    part: np.ndarray
    uv: np.ndarray
    canonical: np.ndarray
    annotations: list[dict[str, Any]] = field(default_factory=list)
    person_annotation: list[int] = field(default_factory=list)


# --------------------------------------------------------------------------- people
@dataclass
class _Person:
    xyz: np.ndarray  # (N, 3) camera space, m
    normal: np.ndarray  # (N, 3) camera space
    palette: dict[str, Any]
    crowd: bool


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, s, v))


def _palette(rng: np.random.Generator) -> dict[str, Any]:
    skin = _SKIN_TONES[rng.integers(len(_SKIN_TONES))] * rng.uniform(0.92, 1.05)
    shirt = _hsv(rng.random(), rng.uniform(0.0, 0.9), rng.uniform(0.15, 0.95))
    shirt2 = _hsv(rng.random(), rng.uniform(0.0, 0.9), rng.uniform(0.15, 0.95))
    trousers = _hsv(rng.random(), rng.uniform(0.0, 0.7), rng.uniform(0.1, 0.8))
    if rng.random() < 0.3:  # same colour top and bottom: a dress or a suit
        trousers = shirt.copy()
    hair = _hsv(rng.uniform(0.02, 0.12), rng.uniform(0.2, 0.8), rng.uniform(0.05, 0.6))
    shoes = _hsv(rng.random(), rng.uniform(0.0, 0.6), rng.uniform(0.05, 0.7))
    return {
        "colours": np.stack([np.clip(skin, 0, 1), shirt, trousers, shoes, hair]),
        "shirt2": shirt2,
        "pattern": int(rng.choice(4, p=[0.45, 0.25, 0.15, 0.15])),  # solid, h-stripes, v-stripes, checks
        "period": rng.uniform(0.03, 0.09),  # m, stripe period on the canonical body
        "sleeve_end": float(rng.choice([1.32, 1.05, 0.93], p=[0.35, 0.15, 0.5])),  # canonical y, m
        "leg_end": float(rng.choice([0.62, 0.40, 0.10], p=[0.25, 0.1, 0.65])),
        "hair_line": rng.uniform(1.62, 1.72),
        "hair_back": rng.uniform(1.45, 1.62),
        "bald": rng.random() < 0.1,
    }


def _sample_person(
    template: BodyTemplate, rng: np.random.Generator, size: int, focal: float, height_px: float,
    centre: tuple[float, float], crowd: bool, cfg: SceneConfig,
) -> _Person:
    shape = sample_shape(template, rng)
    joints = sample_joint_rotations(template, rng, cfg.pose_spread)
    yaw = rng.uniform(-cfg.max_yaw, cfg.max_yaw)
    lean = cfg.pose_spread * (rng.normal(0, 8) if rng.random() < 0.85 else rng.uniform(-60, 80))
    roll = cfg.pose_spread * (rng.normal(0, 5) if rng.random() < 0.9 else rng.uniform(-90, 90))
    root = _BODY_TO_CAMERA @ rotation(lean, yaw, roll)
    xyz, nrm = pose_body(template, shape, joints, root)
    lo, hi = xyz.min(0), xyz.max(0)
    extent = max(hi[1] - lo[1], 0.3)  # m, image-vertical extent of the posed body
    depth = focal * extent / height_px
    mid = (lo + hi) / 2
    # Put the body's bounding-box centre on the requested pixel at that depth.
    target = np.array([(centre[0] - size / 2) * depth / focal, (centre[1] - size / 2) * depth / focal, depth])
    xyz = xyz - mid + target
    return _Person(xyz=xyz, normal=nrm, palette=_palette(rng), crowd=crowd)


# ----------------------------------------------------------------------- background
def _value_noise(rng: np.random.Generator, size: int, cells: int, channels: int) -> np.ndarray:
    low = (rng.random((cells, cells, channels)) * 255).astype(np.uint8)
    img = Image.fromarray(low.squeeze() if channels == 1 else low).resize((size, size), Image.BICUBIC)
    out = np.asarray(img, dtype=np.float32) / 255.0
    return out[..., None] if channels == 1 else out


def _random_colour(rng: np.random.Generator) -> tuple[int, int, int]:
    c = _hsv(rng.random(), rng.uniform(0, 0.8), rng.uniform(0.1, 1.0))
    return tuple(int(v) for v in (c * 255).round())  # type: ignore[return-value]


def _draw_clutter(draw: ImageDraw.ImageDraw, rng: np.random.Generator, size: int, count: int, fill: Any = None) -> None:
    for _ in range(count):
        colour = fill if fill is not None else _random_colour(rng)
        kind = rng.integers(4)
        x0, y0 = rng.uniform(-0.2, 1.1, 2) * size
        w, h = rng.uniform(0.03, 0.5, 2) * size
        if kind == 0:
            draw.rectangle([x0, y0, x0 + w, y0 + h], fill=colour)
        elif kind == 1:
            draw.ellipse([x0, y0, x0 + w, y0 + h], fill=colour)
        elif kind == 2:
            corners = rng.uniform(0, 1, (int(rng.integers(3, 7)), 2)) * (w, h) + (x0, y0)
            pts = [(float(px), float(py)) for px, py in corners]
            draw.polygon(pts, fill=colour)
        else:
            draw.line([x0, y0, x0 + rng.uniform(-0.6, 0.6) * size, y0 + rng.uniform(-0.6, 0.6) * size],
                      fill=colour, width=int(rng.integers(1, max(2, size // 40))))


def _background(rng: np.random.Generator, size: int, clutter: bool = True) -> np.ndarray:
    """Gradient + multi-octave colour noise + random shapes + optional stripes/tiles, blurred."""
    c0, c1 = np.array(_random_colour(rng)) / 255.0, np.array(_random_colour(rng)) / 255.0
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    t = np.clip((xx - 0.5) * np.cos(angle) + (yy - 0.5) * np.sin(angle) + 0.5, 0, 1)[..., None]
    img = c0 * (1 - t) + c1 * t
    img = img * (0.6 + 0.4 * _value_noise(rng, size, int(rng.integers(3, 8)), 3))
    img += 0.25 * (_value_noise(rng, size, int(rng.integers(12, 40)), 1) - 0.5)
    if not clutter:
        return np.clip(img, 0, 1).astype(np.float32)
    if rng.random() < 0.4:  # tiles or stripes, like floors, walls and fabric
        period = rng.uniform(0.03, 0.15) * size
        a = rng.uniform(0, np.pi)
        coord = xx * size * np.cos(a) + yy * size * np.sin(a)
        stripes = (np.floor(coord / period) % 2)[..., None]
        if rng.random() < 0.5:
            coord2 = -xx * size * np.sin(a) + yy * size * np.cos(a)
            stripes = np.abs(stripes - (np.floor(coord2 / period) % 2)[..., None])
        img = img * (1 - 0.25 * stripes)
    pil = Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8))
    _draw_clutter(ImageDraw.Draw(pil), rng, size, int(rng.integers(4, 22)))
    radius = rng.uniform(0, 1.6) * size / 256
    if radius > 0.3:  # out-of-focus background
        pil = pil.filter(ImageFilter.GaussianBlur(radius))
    return np.asarray(pil, dtype=np.float32) / 255.0


# ------------------------------------------------------------------------- shading
def _regions(seg_kind: np.ndarray, canon: np.ndarray, pal: dict[str, Any]) -> np.ndarray:
    """Clothing region of each pixel from its segment and canonical position."""
    y = canon[:, 1]
    region = np.full(seg_kind.shape, _SKIN)
    torso, head, arm, hand, leg, foot = (seg_kind == k for k in range(6))
    region[torso] = np.where(y[torso] < 0.97, _TROUSERS, _SHIRT)  # waistband at 0.97 m
    neck = torso & (y > 1.46) & (canon[:, 2] > 0) & (np.abs(canon[:, 0]) < 0.07)
    region[neck] = _SKIN
    region[arm] = np.where(y[arm] > pal["sleeve_end"], _SHIRT, _SKIN)
    region[leg] = np.where(y[leg] > pal["leg_end"], _TROUSERS, _SKIN)
    region[foot] = _SHOES
    region[hand] = _SKIN
    if not pal["bald"]:
        hair = head & ((y > pal["hair_line"]) | ((canon[:, 2] < -0.01) & (y > pal["hair_back"])))
        region[hair] = _HAIR
    return region


def _albedo(region: np.ndarray, canon: np.ndarray, pal: dict[str, Any]) -> np.ndarray:
    colour = pal["colours"][region]
    shirt = region == _SHIRT
    if pal["pattern"] and shirt.any():
        c = canon[shirt]
        p = pal["period"]
        if pal["pattern"] == 1:
            m = np.floor(c[:, 1] / p) % 2
        elif pal["pattern"] == 2:
            m = np.floor((c[:, 0] + 2 * c[:, 2]) / p) % 2
        else:
            m = (np.floor(c[:, 1] / p) + np.floor((c[:, 0] + c[:, 2]) / p)) % 2
        colour[shirt] = np.where(m[:, None] > 0, pal["shirt2"], colour[shirt])
    return colour


# ----------------------------------------------------------------------- the scene
def render_scene(rng: np.random.Generator, size: int = 256, config: SceneConfig | None = None) -> RenderedScene:
    """Sample and render one square image of side ``size`` with exact DensePose GT.

    Args:
        rng: the only source of randomness (seed it for a reproducible scene).
        size: image side in pixels.
        config: scene sampler settings.

    Returns:
        The rendered scene with its annotations.
    """
    cfg = config or SceneConfig()
    template = body_template()
    focal = size * rng.uniform(0.9, 1.8)  # px
    people: list[_Person] = []
    n_people = int(rng.choice(np.arange(1, cfg.max_people + 1), p=_people_probs(cfg.max_people)))
    for k in range(n_people):
        if k == 0:  # a main person: mostly in frame and large enough for dp points
            h = size * rng.uniform(*cfg.main_height)
            centre = tuple(rng.uniform(0.3, 0.7, 2) * size)
        else:
            h = size * float(np.exp(rng.uniform(np.log(0.1), np.log(1.1))))
            centre = tuple(rng.uniform(-0.1, 1.1, 2) * size)  # may be cut by the border
        people.append(_sample_person(template, rng, size, focal, h, centre, crowd=False, cfg=cfg))
    if rng.random() < cfg.crowd_prob:
        cx, cy = rng.uniform(0.15, 0.85, 2) * size
        for _ in range(int(rng.integers(3, 8))):
            h = size * rng.uniform(0.05, 0.1)
            centre = (cx + rng.normal(0, 0.06) * size, cy + rng.normal(0, 0.02) * size)
            people.append(_sample_person(template, rng, size, focal, h, centre, crowd=True, cfg=cfg))

    nv = template.xyz.shape[0]
    xyz = np.concatenate([p.xyz for p in people])
    faces = np.concatenate([template.faces + i * nv for i in range(len(people))])
    tri = xyz[faces]
    front = np.einsum("ij,ij->i", np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), tri[:, 0]) < 0
    faces = faces[front & (tri[..., 2].min(1) > _NEAR)]
    z = np.maximum(xyz[:, 2], _NEAR)
    xy = xyz[:, :2] / z[:, None] * focal + size / 2
    face_id, bary = rasterize(xy, z, faces, size, size)

    image = _background(rng, size, cfg.clutter)
    person = np.full((size, size), -1, dtype=np.int16)
    part = np.zeros((size, size), dtype=np.uint8)
    uv = np.zeros((size, size, 2), dtype=np.float32)
    canonical = np.full((size, size, 3), np.nan, dtype=np.float32)
    vis = face_id >= 0
    if vis.any():
        f = faces[face_id[vis]]
        w = bary[vis].astype(np.float64)
        pid = f[:, 0] // nv
        local = f % nv

        def interp(attr: np.ndarray) -> np.ndarray:
            return np.einsum("pk,pkc->pc", w, attr[local])

        p_uv = interp(template.uv)
        p_can = interp(template.xyz)
        nrm_all = np.concatenate([p.normal for p in people])
        p_nrm = np.einsum("pk,pkc->pc", w, nrm_all[f])
        p_nrm /= np.linalg.norm(p_nrm, axis=1, keepdims=True) + 1e-12
        person[vis] = pid
        part[vis] = template.part[local[:, 0]]
        uv[vis] = p_uv
        canonical[vis] = p_can
        colour = np.empty((pid.size, 3))
        seg_kind = _SEG_KIND[template.segment[local[:, 0]]]
        for i, p in enumerate(people):
            sel = pid == i
            if sel.any():
                colour[sel] = _albedo(_regions(seg_kind[sel], p_can[sel], p.palette), p_can[sel], p.palette)
        colour *= _lighting(rng, p_nrm)
        image[vis] = colour

    if rng.random() < cfg.occluder_prob:
        _occlude(rng, image, person, part, uv, canonical, size)
    noise = np.float32(rng.uniform(0, 0.025))
    image = image.astype(np.float32) * np.float32(rng.uniform(0.85, 1.15))
    image += rng.standard_normal(image.shape, dtype=np.float32) * noise  # sensor noise
    out = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
    scene = RenderedScene(out, person, part, uv, canonical)
    _annotate(scene, rng, [p.crowd for p in people], cfg)
    return scene


_KIND_INDEX = {"torso": 0, "head": 1, "upper_arm": 2, "lower_arm": 2, "hand": 3, "upper_leg": 4, "lower_leg": 4, "foot": 5}
_SEG_KIND = np.array([_KIND_INDEX[n[:-2] if n.endswith(("_l", "_r")) else n] for n in SEGMENT_NAMES])


def _people_probs(max_people: int) -> np.ndarray:
    w = np.array([0.35, 0.3, 0.2, 0.15][:max_people] + [0.1] * max(0, max_people - 4))
    return w / w.sum()


def _lighting(rng: np.random.Generator, normal: np.ndarray) -> np.ndarray:
    """Lambert + ambient with a random light from the camera side; ``(P, 1)`` factors."""
    d = np.array([rng.uniform(-1, 1), rng.uniform(-1, 0.3), -rng.uniform(0.3, 1.0)])  # towards the light
    d /= np.linalg.norm(d)
    ambient = rng.uniform(0.3, 0.6)
    lam = np.clip(normal @ d, 0, None)
    spec = rng.uniform(0, 0.15) * lam**12
    warm = 1 + rng.uniform(-0.08, 0.08, 3)  # light colour
    return ((ambient + (1 - ambient) * lam + spec)[:, None]) * warm


def _occlude(rng: np.random.Generator, image: np.ndarray, person: np.ndarray, part: np.ndarray,
             uv: np.ndarray, canonical: np.ndarray, size: int) -> None:
    """Draw 1-2 objects in front of everything and erase the ground truth they hide."""
    mask_img = Image.new("L", (size, size), 0)
    _draw_clutter(ImageDraw.Draw(mask_img), rng, size, int(rng.integers(1, 3)), fill=255)
    mask = np.asarray(mask_img) > 0
    if not mask.any():
        return
    colour = np.array(_random_colour(rng)) / 255.0
    tex = 0.75 + 0.5 * _value_noise(rng, size, int(rng.integers(4, 20)), 1)
    image[mask] = (colour * tex)[mask]
    person[mask] = -1
    part[mask] = 0
    uv[mask] = 0
    canonical[mask] = np.nan


# --------------------------------------------------------------------- annotation
def _annotate(scene: RenderedScene, rng: np.random.Generator, crowd: list[bool], cfg: SceneConfig) -> None:
    size = scene.person.shape[0]
    min_area = cfg.min_area * (size / 256) ** 2
    anns: list[dict[str, Any]] = []
    links = [-1] * len(crowd)
    for i, is_crowd in enumerate(crowd):
        if is_crowd:
            continue
        mask = scene.person == i
        area = int(mask.sum())
        if area < min_area:
            continue
        ann = _person_annotation(mask)
        if ann["bbox"][3] >= cfg.min_dp_height * size and area >= 2 * min_area:
            ann.update(_dp_fields(scene, mask, ann["bbox"], rng, cfg))
        links[i] = len(anns)
        anns.append(ann)
    crowd_ids = [i for i, c in enumerate(crowd) if c]
    if crowd_ids:
        mask = np.isin(scene.person, crowd_ids)
        if mask.sum() >= min_area:
            ann = _person_annotation(mask)
            ann["iscrowd"] = 1
            anns.append(ann)
    scene.annotations = anns
    scene.person_annotation = links


def _person_annotation(mask: np.ndarray) -> dict[str, Any]:
    ys, xs = np.nonzero(mask)
    x0, y0 = int(xs.min()), int(ys.min())
    w, h = int(xs.max()) + 1 - x0, int(ys.max()) + 1 - y0
    return {
        "category_id": 1,
        "iscrowd": 0,
        "area": float(mask.sum()),
        "bbox": [float(x0), float(y0), float(w), float(h)],
        "segmentation": rle_encode(mask),
    }


def _dp_fields(scene: RenderedScene, mask: np.ndarray, bbox: list[float], rng: np.random.Generator,
               cfg: SceneConfig) -> dict[str, Any]:
    """dp points at pixel centres of the person plus the 14 coarse masks in the box frame."""
    x0, y0, w, h = bbox
    ys, xs = np.nonzero(mask)
    n = min(int(rng.integers(cfg.points_per_person[0], cfg.points_per_person[1] + 1)), xs.size)
    pick = np.sort(rng.choice(xs.size, size=n, replace=False))
    px, py = xs[pick], ys[pick]
    s = DP_BOX_SIZE
    # Coarse masks: sample the part map at the centres of a 256x256 grid over the box.
    gx = np.floor(x0 + (np.arange(s) + 0.5) * w / s).astype(np.int64)
    gy = np.floor(y0 + (np.arange(s) + 0.5) * h / s).astype(np.int64)
    coarse = np.where(mask[np.ix_(gy, gx)], FINE_TO_COARSE[scene.part[np.ix_(gy, gx)]], 0)
    present = np.unique(coarse)
    present = present[present > 0]
    stack = np.asfortranarray((coarse[..., None] == present[None, None, :]).astype(np.uint8))
    encoded = dict(zip(present.tolist(), mask_utils.encode(stack))) if present.size else {}
    # Absent parts are stored as [] (falsy), as in DensePose-COCO.
    masks: list[Any] = [
        {"size": [s, s], "counts": encoded[c]["counts"].decode("ascii")} if c in encoded else []
        for c in range(1, N_COARSE_PARTS + 1)
    ]
    return {
        "dp_x": [float(v) for v in (px + 0.5 - x0) * s / w],
        "dp_y": [float(v) for v in (py + 0.5 - y0) * s / h],
        "dp_I": [float(v) for v in scene.part[py, px]],
        "dp_U": [float(v) for v in scene.uv[py, px, 0]],
        "dp_V": [float(v) for v in scene.uv[py, px, 1]],
        "dp_masks": masks,
    }
