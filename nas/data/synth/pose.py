"""Random body shape and pose, and forward kinematics of the synthetic body.

Joint rotations are expressed in the canonical axes (+x left, +y up, +z forward) and
composed down the segment tree: ``R_child = R_parent @ R_joint``. Angles are sampled in
the convention of the body's left side; right-side joints use the mirrored rotation
``M R M`` with ``M = diag(-1, 1, 1)``, so the same numbers give symmetric poses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nas.data.synth.body import BodyTemplate

__all__ = ["BodyShape", "sample_shape", "sample_joint_rotations", "pose_body", "rotation"]

_MIRROR = np.diag([-1.0, 1.0, 1.0])

# Joint limits in degrees for the left side, as (low, high) per axis: (x: swing
# forward/back, y: twist about the bone, z: swing sideways, + = away from the body).
# Negative x swings a downward-pointing bone forward.
_LIMITS: dict[str, tuple[tuple[float, float], tuple[float, float], tuple[float, float]]] = {
    "head": ((-30, 35), (-60, 60), (-25, 25)),
    "upper_arm": ((-170, 60), (-60, 60), (-10, 160)),
    "lower_arm": ((-145, 0), (-70, 70), (-5, 5)),
    "hand": ((-50, 50), (-40, 40), (-30, 30)),
    "upper_leg": ((-110, 35), (-35, 35), (-15, 50)),
    "lower_leg": ((0, 145), (-20, 20), (-3, 3)),
    "foot": ((-30, 30), (-15, 15), (-10, 10)),
}

# A relaxed standing pose the samples are drawn around, same axes (degrees).
_REST: dict[str, tuple[float, float, float]] = {
    "head": (0, 0, 0),
    "upper_arm": (0, 0, 10),
    "lower_arm": (-15, 0, 0),
    "hand": (0, 0, 0),
    "upper_leg": (-5, 0, 3),
    "lower_leg": (8, 0, 0),
    "foot": (0, 0, 0),
}


def rotation(x_deg: float, y_deg: float, z_deg: float) -> np.ndarray:
    """``Rz @ Rx @ Ry`` from angles in degrees: twist about the bone, swing, then tilt."""
    x, y, z = np.deg2rad([x_deg, y_deg, z_deg])
    cx, sx, cy, sy, cz, sz = np.cos(x), np.sin(x), np.cos(y), np.sin(y), np.cos(z), np.sin(z)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ rx @ ry


@dataclass(frozen=True)
class BodyShape:
    """Per-segment scale factors: along the bone (length) and across it (girth)."""

    length: np.ndarray  # (S,) multiplies the canonical bone length
    girth: np.ndarray  # (S,) multiplies the canonical cross-section radii


def _kind(name: str) -> str:
    return name[:-2] if name.endswith(("_l", "_r")) else name


def sample_shape(template: BodyTemplate, rng: np.random.Generator) -> BodyShape:
    """Random proportions: overall height, build, and symmetric per-bone jitter."""
    kinds = sorted({_kind(s.name) for s in template.segments})
    height = rng.uniform(0.85, 1.12)
    build = rng.uniform(0.8, 1.35)
    jl = {k: rng.uniform(0.92, 1.08) for k in kinds}
    jg = {k: rng.uniform(0.9, 1.1) for k in kinds}
    head = rng.uniform(0.9, 1.15)  # heads vary less with build
    length = np.array([height * jl[_kind(s.name)] * (head if s.name == "head" else 1.0) for s in template.segments])
    girth = np.array(
        [(head if s.name == "head" else build) * jg[_kind(s.name)] for s in template.segments]
    )
    return BodyShape(length=length, girth=girth)


def sample_joint_rotations(template: BodyTemplate, rng: np.random.Generator, scale: float = 1.0) -> np.ndarray:
    """``(S, 3, 3)`` joint rotations (identity for the root, posed by the camera).

    A third of the samples stay near the rest pose, the others spread toward the joint
    limits, so the data covers both common and unusual poses; ``scale`` (0..1) narrows
    every spread toward the rest pose.
    """
    spread = scale * rng.choice([0.25, 0.6, 1.0], p=[0.35, 0.4, 0.25])
    rots = np.repeat(np.eye(3)[None], len(template.segments), axis=0)
    walk = scale * rng.uniform(-35, 35) if rng.random() < 0.4 else 0.0  # opposed arm/leg swing
    for s in template.segments:
        kind = _kind(s.name)
        if kind not in _LIMITS:
            continue
        right = s.name.endswith("_r")
        ang = []
        for axis in range(3):
            lo, hi = _LIMITS[kind][axis]
            rest = _REST[kind][axis]
            a = rest + spread * (rng.uniform(lo, hi) - rest)
            ang.append(float(np.clip(a, lo, hi)))
        if walk and kind in ("upper_arm", "upper_leg"):
            sign = (1 if kind == "upper_arm" else -1) * (-1 if right else 1)
            ang[0] = float(np.clip(ang[0] * 0.3 + sign * walk, *_LIMITS[kind][0]))
        r = rotation(*ang)
        rots[s.index] = _MIRROR @ r @ _MIRROR if right else r
    return rots


def pose_body(
    template: BodyTemplate, shape: BodyShape, joint_rotations: np.ndarray, root_rotation: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Posed vertex positions and normals in the body's frame (root pivot at origin).

    Args:
        template: the canonical body.
        shape: per-segment scales.
        joint_rotations: ``(S, 3, 3)`` from :func:`sample_joint_rotations`.
        root_rotation: ``(3, 3)`` orientation of the root segment (torso).

    Returns:
        ``(xyz, normal)``, each ``(N, 3)``; positions in metres.
    """
    segs = template.segments
    n_seg = len(segs)
    rot_world = np.empty((n_seg, 3, 3))
    pivot_world = np.empty((n_seg, 3))
    lin = np.empty((n_seg, 3, 3))  # world rotation times the segment's scaling
    for s in segs:  # parents come before children
        scale = s.frame @ np.diag([shape.girth[s.index], shape.length[s.index], shape.girth[s.index]]) @ s.frame.T
        if s.parent < 0:
            rot_world[s.index] = root_rotation @ joint_rotations[s.index]
            pivot_world[s.index] = 0.0
        else:
            p = s.parent
            rot_world[s.index] = rot_world[p] @ joint_rotations[s.index]
            pivot_world[s.index] = pivot_world[p] + lin[p] @ (s.pivot - segs[p].pivot)
        lin[s.index] = rot_world[s.index] @ scale
    seg = template.segment
    rel = template.xyz - np.stack([s.pivot for s in segs])[seg]
    xyz = np.einsum("nij,nj->ni", lin[seg], rel) + pivot_world[seg]
    # Normals transform with the inverse transpose of the linear map.
    inv_t = np.stack(
        [rot_world[s.index] @ (s.frame @ np.diag(1.0 / np.array([shape.girth[s.index], shape.length[s.index], shape.girth[s.index]])) @ s.frame.T) for s in segs]
    )
    nrm = np.einsum("nij,nj->ni", inv_t[seg], template.normal)
    nrm /= np.linalg.norm(nrm, axis=1, keepdims=True)
    return xyz, nrm
