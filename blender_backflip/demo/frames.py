"""Rendered frames as numpy arrays: read/write PNGs through bpy, the contact sheet, and finding the avatar.

The avatar is found on a frame by colour: the demo mannequin is the only saturated thing in its scene (orange
body, teal head, blue shoes over a grey ground and background), so a pixel is "character" when its
saturation is high. Its head and shoes are told apart by hue. All of it is numpy on (H, W, 3) arrays in [0, 1],
row 0 at the top of the picture.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

# Hue ranges (degrees) of the mannequin's parts as rendered (see demo/mannequin.py COLOURS).
HEAD_HUES = (150.0, 200.0)
SHOE_HUES = (205.0, 260.0)
MIN_SATURATION = 0.45
MIN_VALUE = 0.06


def read_png(path: str | os.PathLike[str]) -> np.ndarray:
    """(H, W, 3) float array in [0, 1] of an image file, top row first (loaded with Blender's image reader)."""
    import bpy

    image = bpy.data.images.load(os.fspath(path), check_existing=False)
    try:
        w, h = image.size
        channels = image.channels
        buf = np.empty(w * h * channels, dtype=np.float32)
        image.pixels.foreach_get(buf)
    finally:
        bpy.data.images.remove(image)
    return buf.reshape(h, w, channels)[::-1, :, :3].copy()


def write_png(path: str | os.PathLike[str], rgb: np.ndarray) -> None:
    """Save an (H, W, 3) array in [0, 1] (top row first) as an 8-bit PNG."""
    import bpy

    h, w = rgb.shape[:2]
    rgba = np.ones((h, w, 4), dtype=np.float32)
    rgba[..., :3] = np.clip(rgb, 0.0, 1.0)
    image = bpy.data.images.new("contact_sheet", width=w, height=h, alpha=False)
    try:
        image.pixels.foreach_set(rgba[::-1].ravel())
        image.filepath_raw = os.fspath(path)
        image.file_format = "PNG"
        image.save()
    finally:
        bpy.data.images.remove(image)


def contact_sheet(images: list[np.ndarray], columns: int = 4, border: int = 4,
                  background: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> np.ndarray:
    """Tile equally sized frames left to right, top to bottom, with a border between them."""
    if not images:
        raise ValueError("no frames for the contact sheet")
    h, w = images[0].shape[:2]
    rows = -(-len(images) // columns)
    sheet = np.empty((rows * h + (rows + 1) * border, columns * w + (columns + 1) * border, 3), dtype=np.float32)
    sheet[:] = background
    for i, img in enumerate(images):
        r, c = divmod(i, columns)
        y, x = border + r * (h + border), border + c * (w + border)
        sheet[y:y + h, x:x + w] = img[..., :3]
    return sheet


def hue_saturation(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hue (degrees), saturation and value of every pixel (HSV)."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    mx = rgb.max(axis=-1)
    mn = rgb.min(axis=-1)
    d = mx - mn
    safe = np.where(d > 1e-6, d, 1.0)
    hue = np.where(mx == r, ((g - b) / safe) % 6.0, np.where(mx == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0))
    hue = np.where(d > 1e-6, hue * 60.0, 0.0)
    sat = np.where(mx > 1e-6, d / np.where(mx > 1e-6, mx, 1.0), 0.0)
    return hue, sat, mx


@dataclass(frozen=True)
class Silhouette:
    """Where the avatar is on one frame (pixels; y grows downwards)."""

    pixels: int
    bbox: tuple[int, int, int, int] | None  # x0, y0, x1, y1 (inclusive)
    head: tuple[float, float] | None  # centroid (x, y) of the head's pixels
    feet: tuple[float, float] | None  # centroid (x, y) of the shoes' pixels

    @property
    def top(self) -> int | None:
        return None if self.bbox is None else self.bbox[1]

    @property
    def up_angle_deg(self) -> float | None:
        """Angle of the feet-to-head direction from straight up, degrees (0 = standing, 180 = upside down)."""
        if self.head is None or self.feet is None:
            return None
        dx = self.head[0] - self.feet[0]
        dy = self.feet[1] - self.head[1]  # image y grows downwards
        return float(np.degrees(np.arctan2(dx, dy)))


def find_avatar(rgb: np.ndarray, min_part_pixels: int = 4) -> Silhouette:
    hue, sat, val = hue_saturation(rgb)
    mask = (sat > MIN_SATURATION) & (val > MIN_VALUE)
    n = int(mask.sum())
    if n == 0:
        return Silhouette(0, None, None, None)
    ys, xs = np.nonzero(mask)
    bbox = (int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max()))

    def centroid(lo: float, hi: float) -> tuple[float, float] | None:
        part = mask & (hue >= lo) & (hue <= hi)
        if part.sum() < min_part_pixels:
            return None
        py, px = np.nonzero(part)
        return float(px.mean()), float(py.mean())

    return Silhouette(n, bbox, centroid(*HEAD_HUES), centroid(*SHOE_HUES))
