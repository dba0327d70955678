"""Generated thermal scenes in °C: more frames to distil a thermal student from than the two clips we ship.

Each frame is a pure function of ``(seed, index)``, drawn from a few plausible layouts a robot's or a trail camera's
thermal sensor sees: a ground plane with a fractal texture (grass, gravel, leaves at night, 1-5 °C of contrast),
a sky colder than the ground, walls and floors with slow gradients, straight-edged structures (posts, fences,
windows), warm bodies (people- and animal-like blobs, 30-37 °C skin or a few degrees above ambient through fur,
soft-edged, some cut off by an occluder or the frame edge), hot objects (an engine, a lamp) and cold ones (a window
reflecting the sky). The sensor adds its own: vignetting, row/column fixed-pattern noise and white noise (a Lepton
3.5's ~0.05 K NETD up to an MLX90640's ~0.3 °C). Frames are saved as a Recording (thermal only, °C), which
``edgebind distill --data`` reads like a converted CPTV clip.

These are not real footage: they widen what the student sees, and held-out real frames judge it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgebind.bridge.recording import Recording
from edgebind.errors import ConfigError

LAYOUTS = ("ground", "ground_sky", "indoor", "structure")
RATE_HZ = 8.77  # a Lepton's ~9 Hz export rate, as in the CPTV clips


def scene_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of frame ``index``: the same frame in every process."""
    return np.random.default_rng([seed, index, 0x7E])


def fractal_texture(rng: np.random.Generator, hw: tuple[int, int], octaves: int = 6) -> np.ndarray:
    """(H, W) zero-mean, unit-std texture: white noise smoothed at several scales, coarse scales weighted up."""
    from scipy.ndimage import gaussian_filter

    h, w = hw
    out = np.zeros(hw)
    slope = rng.uniform(0.2, 1.2)  # how much coarse structure dominates (low: gravel, high: hills)
    for k in range(octaves):
        sigma = 40 / 2**k  # 40, 20, 10, 5, 2.5, 1.25 px at 160 wide
        layer = gaussian_filter(rng.normal(size=hw), sigma * max(h, w) / 160, mode="reflect")
        out += layer / max(float(layer.std()), 1e-9) * 2.0 ** (-k * slope)
    return (out - out.mean()) / max(float(out.std()), 1e-9)


def soft_ellipse(hw: tuple[int, int], centre: tuple[float, float], radii: tuple[float, float], angle: float,
                 softness_px: float) -> np.ndarray:
    """(H, W) coverage in [0, 1] of an ellipse with a soft (logistic) edge about ``softness_px`` wide."""
    yy, xx = np.mgrid[0 : hw[0], 0 : hw[1]].astype(np.float64)
    dy, dx = yy - centre[0], xx - centre[1]
    c, s = np.cos(angle), np.sin(angle)
    u, v = (c * dx + s * dy) / max(radii[1], 0.5), (-s * dx + c * dy) / max(radii[0], 0.5)
    r = np.sqrt(u**2 + v**2)  # 1 on the edge
    edge = softness_px / max(min(radii), 0.5)
    return 1.0 / (1.0 + np.exp(np.clip((r - 1.0) / max(edge, 1e-3), -50, 50)))


def soft_rect(hw: tuple[int, int], top: float, left: float, bottom: float, right: float, softness_px: float
              ) -> np.ndarray:
    """(H, W) coverage in [0, 1] of an axis-aligned rectangle with soft edges."""
    yy, xx = np.mgrid[0 : hw[0], 0 : hw[1]].astype(np.float64)
    k = max(softness_px, 1e-3)

    def step(z: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(np.clip(-z / k, -50, 50)))

    return step(yy - top) * step(bottom - yy) * step(xx - left) * step(right - xx)


def _background(rng: np.random.Generator, hw: tuple[int, int], layout: str, ambient_c: float) -> np.ndarray:
    h, w = hw
    yy = np.mgrid[0:h, 0:w][0] / max(h - 1, 1)  # 0 at the top, 1 at the bottom
    contrast_c = float(np.exp(rng.uniform(np.log(0.3), np.log(6.0))))  # log-uniform: many quiet night scenes
    frame = ambient_c + contrast_c * fractal_texture(rng, hw) * 0.5
    frame += rng.uniform(-2.0, 2.0) * (yy - 0.5)  # nearer ground is warmer or colder than far ground
    if layout == "ground_sky":
        horizon = rng.uniform(0.1, 0.55) * h
        tilt = rng.uniform(-0.15, 0.15) * h
        line = horizon + tilt * (np.arange(w) / max(w - 1, 1) - 0.5)  # (W,) row of the horizon per column
        sky = np.clip((line[None, :] - np.arange(h)[:, None]) / rng.uniform(0.5, 3.0), 0, 1)  # (H, W) 1 in the sky
        sky_c = ambient_c - rng.uniform(3.0, 25.0) + rng.uniform(0, 3.0) * yy  # colder, warming to the horizon
        frame = frame * (1 - sky) + sky_c * sky
    elif layout == "indoor":
        wall_c = ambient_c + rng.uniform(-1.5, 1.5)
        floor_line = rng.uniform(0.35, 0.75) * h
        floor = soft_rect(hw, floor_line, -w, 2 * h, 2 * w, rng.uniform(0.5, 2.0))
        wall = wall_c + rng.uniform(0.2, 1.5) * fractal_texture(rng, hw) * 0.3 + rng.uniform(-1, 1) * yy
        floor_c = ambient_c + rng.uniform(-2.0, 1.0) + rng.uniform(-1.5, 1.5) * yy
        frame = wall * (1 - floor) + (floor_c + 0.3 * contrast_c * fractal_texture(rng, hw) * 0.2) * floor
    return frame


def _add_structures(rng: np.random.Generator, frame: np.ndarray, ambient_c: float, count: int) -> np.ndarray:
    h, w = frame.shape
    for _ in range(count):
        if rng.uniform() < 0.5:  # a post or pole: tall and thin
            cx, half = rng.uniform(0, w), rng.uniform(1, w / 10)
            top, bottom = rng.uniform(-h, 0.6 * h), rng.uniform(0.6 * h, 2 * h)
            left, right = cx - half, cx + half
        else:  # a panel, window, box, rail
            top, left = rng.uniform(-0.2, 0.9) * h, rng.uniform(-0.2, 0.9) * w
            bottom, right = top + rng.uniform(0.05, 0.6) * h, left + rng.uniform(0.05, 0.6) * w
        cover = soft_rect((h, w), top, left, bottom, right, rng.uniform(0.3, 2.0))
        temp_c = ambient_c + rng.choice([-1, 1]) * rng.uniform(0.5, 8.0)
        frame = frame * (1 - cover) + (temp_c + rng.uniform(-1, 1) * cover) * cover
    return frame


def _add_bodies(rng: np.random.Generator, frame: np.ndarray, ambient_c: float, count: int) -> np.ndarray:
    h, w = frame.shape
    for _ in range(count):
        person = rng.uniform() < 0.5
        size = rng.uniform(0.04, 0.45) * h  # far to near
        cy, cx = rng.uniform(0.2, 1.1) * h, rng.uniform(-0.1, 1.1) * w
        if person:  # clothed torso a few degrees cooler than the face
            skin_c = rng.uniform(30.0, 37.0)
            torso_c = ambient_c + (skin_c - ambient_c) * rng.uniform(0.3, 0.8)
            parts = [((cy, cx), (size * 0.5, size * 0.18), torso_c),
                     ((cy - size * 0.62, cx), (size * 0.12, size * 0.1), skin_c)]
        else:  # fur: the surface is ambient plus a few degrees, eyes and nose warmer
            coat_c = ambient_c + rng.uniform(2.0, 12.0)
            head = cx + rng.choice([-1, 1]) * size * 0.45
            parts = [((cy, cx), (size * 0.2, size * 0.4), coat_c),
                     ((cy - size * 0.15, head), (size * 0.11, size * 0.12), coat_c + rng.uniform(1, 5))]
        angle = rng.uniform(-0.3, 0.3)
        for centre, radii, temp_c in parts:
            cover = soft_ellipse((h, w), centre, radii, angle, rng.uniform(0.5, 3.0))
            frame = frame * (1 - cover) + temp_c * cover
        if rng.uniform() < 0.4:  # partly hidden behind grass, a wall or a car
            occ_top = cy + rng.uniform(-0.3, 0.4) * size
            cover = soft_rect((h, w), occ_top, -w, 2 * h, 2 * w, rng.uniform(0.5, 2.0))
            occ_c = ambient_c + rng.uniform(-2.0, 2.0)
            frame = frame * (1 - cover) + (occ_c + 0.3 * fractal_texture(rng, (h, w))) * cover
    return frame


def _add_objects(rng: np.random.Generator, frame: np.ndarray, ambient_c: float, count: int) -> np.ndarray:
    h, w = frame.shape
    for _ in range(count):
        hot = rng.uniform() < 0.6
        temp_c = rng.uniform(40.0, 90.0) if hot else ambient_c - rng.uniform(5.0, 20.0)
        centre = (rng.uniform(0, h), rng.uniform(0, w))
        radii = (rng.uniform(1.0, 0.15 * h), rng.uniform(1.0, 0.2 * w))
        cover = soft_ellipse((h, w), centre, radii, rng.uniform(0, np.pi), rng.uniform(0.5, 4.0))
        frame = frame * (1 - cover) + temp_c * cover
    return frame


def _sensor(rng: np.random.Generator, frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape
    yy, xx = np.mgrid[0:h, 0:w]
    r2 = ((yy - (h - 1) / 2) / (h / 2)) ** 2 + ((xx - (w - 1) / 2) / (w / 2)) ** 2  # 0 centre, ~2 corners
    frame = frame + rng.uniform(-1.0, 0.5) * r2 / 2  # vignetting: corners see the housing
    frame = frame + rng.normal(0, rng.uniform(0, 0.05), size=(h, 1)) + rng.normal(0, rng.uniform(0, 0.05), size=(1, w))
    noise_c = 0.3 * rng.uniform() ** 2 + 0.03 if min(h, w) <= 32 else rng.uniform(0.03, 0.2)
    return frame + rng.normal(0, noise_c, size=(h, w))


def scene_frame(seed: int, index: int, hw: tuple[int, int] = (120, 160)) -> np.ndarray:
    """One generated thermal frame.

    Args:
        seed: the set's seed.
        index: the frame's index; with ``seed`` it fixes the frame.
        hw: (height, width) in pixels. Defaults to (120, 160) (FLIR Lepton 3.5); (24, 32) is an MLX90640.

    Returns:
        (H, W) float32 temperatures in °C, finite, within [-40, 120].
    """
    rng = scene_rng(seed, index)
    layout = LAYOUTS[int(rng.integers(len(LAYOUTS)))]
    ambient_c = rng.uniform(-2.0, 28.0)
    frame = _background(rng, hw, layout, ambient_c)
    if layout in ("structure", "indoor") or rng.uniform() < 0.3:
        frame = _add_structures(rng, frame, ambient_c, int(rng.integers(1, 6)))
    frame = _add_bodies(rng, frame, ambient_c, int(rng.choice([0, 0, 1, 1, 2, 3])))  # a third of scenes are empty
    if rng.uniform() < 0.35:
        frame = _add_objects(rng, frame, ambient_c, int(rng.integers(1, 3)))
    return np.clip(_sensor(rng, frame), -40.0, 120.0).astype(np.float32)


def scene_recording(num_frames: int, seed: int = 0, hw: tuple[int, int] = (120, 160)) -> Recording:
    """``num_frames`` generated frames as a thermal-only Recording (°C, timestamps at the Lepton's ~8.8 Hz).

    Args:
        num_frames: frames to generate (>= 1).
        seed: the set's seed. Defaults to 0.
        hw: frame (height, width). Defaults to (120, 160).

    Returns:
        A :class:`Recording` whose ``meta`` names the generator, seed and sensor shape.

    Raises:
        ConfigError: ``num_frames`` < 1 or a frame under 8x8 pixels.
    """
    if num_frames < 1:
        raise ConfigError(f"num_frames={num_frames}: generate at least one frame, e.g. 500.")
    if len(hw) != 2 or min(hw) < 8:
        raise ConfigError(f"hw={hw} must be (height, width) of at least 8x8 pixels, e.g. (120, 160) or (24, 32).")
    frames = np.stack([scene_frame(seed, i, hw) for i in range(num_frames)])  # (M, H, W) °C
    t_ns = np.round(np.arange(num_frames) * 1e9 / RATE_HZ).astype(np.int64)
    meta = {"source": f"edgebind generated thermal scenes (seed {seed}, {num_frames} frames, {hw[0]}x{hw[1]})",
            "generator": "edgebind.train.thermal_scenes", "seed": seed, "frames": num_frames,
            "thermal_rate_hz": RATE_HZ, "thermal_sensor": "generated", "thermal_units": "degrees C",
            "licence": "generated by edgebind (no footage)"}
    return Recording(thermal=frames, thermal_t_ns=t_ns, meta=meta)


def save_scenes(path: str | Path, num_frames: int, seed: int = 0, hw: tuple[int, int] = (120, 160)) -> Path:
    """Generate :func:`scene_recording` and save it at ``path`` (a Recording ``.npz``); returns the path."""
    return scene_recording(num_frames, seed, hw).save(path)
