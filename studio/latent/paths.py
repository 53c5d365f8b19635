"""Paths through a latent space: straight and spherical interpolation, and smooth walks
through keyframes. Latents are float32 numpy vectors of shape (d,)."""

from __future__ import annotations

import numpy as np


def lerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    return ((1.0 - t) * a + t * b).astype(np.float32)


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation (Shoemake 1985), as White (2016, "Sampling Generative Networks")
    recommends for Gaussian latents: sin((1−t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b, with Ω the angle
    between a and b. Stays near the shell where a high-dimensional Gaussian's mass lies, where
    a straight line dips toward the origin. Falls back to lerp for (anti)parallel vectors."""
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na < 1e-8 or nb < 1e-8:
        return lerp(a, b, t)
    cos = float(np.clip(np.dot(a, b) / (na * nb), -1.0, 1.0))
    omega = float(np.arccos(cos))
    if np.sin(omega) < 1e-4:
        return lerp(a, b, t)
    s = np.sin(omega)
    return (np.sin((1.0 - t) * omega) / s * a + np.sin(t * omega) / s * b).astype(np.float32)


def interpolate(a: np.ndarray, b: np.ndarray, frames: int, mode: str = "lerp") -> np.ndarray:
    """``frames`` latents from a to b inclusive, shape (frames, d)."""
    if frames < 2:
        raise ValueError(f"an interpolation needs at least 2 frames (got {frames})")
    if mode not in ("lerp", "slerp"):
        raise ValueError(f"interpolation mode must be 'lerp' or 'slerp' (got {mode!r})")
    fn = slerp if mode == "slerp" else lerp
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    out = np.stack([fn(a, b, t) for t in np.linspace(0.0, 1.0, frames)])
    out[0], out[-1] = a, b  # exact ends, whatever the rounding
    return out


def walk(keyframes: list[np.ndarray] | np.ndarray, frames_per_segment: int, loop: bool = False) -> np.ndarray:
    """A smooth path through every keyframe: a uniform Catmull–Rom spline (Catmull & Rom 1974),
    which passes through each keyframe with a continuous tangent, so a latent walk glides where
    piecewise lerp would jerk at each keyframe. ``loop`` closes the path back to the first
    keyframe (for seamless looping videos). Returns (frames, d) with the keyframes included."""
    keys = np.asarray(keyframes, np.float32)
    if keys.ndim != 2 or len(keys) < 2:
        raise ValueError("a walk needs at least 2 keyframes: record more positions first")
    if frames_per_segment < 1:
        raise ValueError(f"frames per segment must be at least 1 (got {frames_per_segment})")
    if loop:
        keys = np.concatenate([keys, keys[:1]])
        padded = np.concatenate([keys[-2:-1], keys, keys[1:2]])
    else:  # end tangents from duplicated end points
        padded = np.concatenate([keys[:1], keys, keys[-1:]])
    out = []
    for i in range(len(keys) - 1):
        p0, p1, p2, p3 = padded[i], padded[i + 1], padded[i + 2], padded[i + 3]
        for t in np.arange(frames_per_segment) / frames_per_segment:
            # the cubic Hermite form with tangents (p2 − p0)/2 and (p3 − p1)/2
            t2, t3 = t * t, t * t * t
            out.append(0.5 * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2
                              + (-p0 + 3 * p1 - 3 * p2 + p3) * t3))
    if not loop:
        out.append(keys[-1])
    return np.asarray(out, np.float32)
