"""Generated thermal scenes: deterministic, in plausible °C, and read by distillation like a converted clip."""

from __future__ import annotations

import numpy as np
import pytest

from edgebind.errors import ConfigError
from edgebind.train.data import load_recordings, windows_from_recordings
from edgebind.train.thermal_scenes import save_scenes, scene_frame, scene_recording


def test_frames_are_deterministic_per_seed_and_index() -> None:
    np.testing.assert_array_equal(scene_frame(0, 3), scene_frame(0, 3))
    assert not np.allclose(scene_frame(0, 3), scene_frame(0, 4))
    assert not np.allclose(scene_frame(0, 3), scene_frame(1, 3))


@pytest.mark.parametrize("hw", [(120, 160), (24, 32)])
def test_shapes_and_temperatures_are_plausible(hw: tuple[int, int]) -> None:
    frames = scene_recording(40, seed=2, hw=hw).thermal
    assert frames is not None and frames.shape == (40, *hw) and frames.dtype == np.float32
    assert np.isfinite(frames).all() and frames.min() >= -40 and frames.max() <= 120
    medians = np.median(frames, axis=(1, 2))  # the scene's ambient: night frost to a summer afternoon
    assert medians.min() < 8 and medians.max() > 18, medians
    assert (frames.max(axis=(1, 2)) >= 30).mean() >= 0.3  # warm bodies or hot objects in many frames
    spans = np.percentile(frames, 99, axis=(1, 2)) - np.percentile(frames, 1, axis=(1, 2))
    assert spans.min() > 0.2 and (spans > 10).any()  # no flat frame; some high-contrast scenes
    assert (spans < 8).mean() >= 0.15, np.sort(spans)  # and many quiet ones, like a night clip (1-5 °C)
    assert len({round(float(f.std()), 3) for f in frames}) == 40  # no two frames alike


def test_saved_scenes_load_as_thermal_training_windows(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = save_scenes(tmp_path / "scenes.npz", 6, seed=1)
    ws = windows_from_recordings(load_recordings([path]), "thermal")
    assert len(ws) == 6 and ws.raw.shape == (6, 120, 160)
    np.testing.assert_array_equal(ws.raw[5], scene_frame(1, 5))
    assert np.all(np.diff(ws.t_ns) > 0) and "generated" in ws.sources[0]


def test_bad_requests_name_the_fix() -> None:
    with pytest.raises(ConfigError, match="at least one frame"):
        scene_recording(0)
    with pytest.raises(ConfigError, match="8x8"):
        scene_recording(2, hw=(4, 4))
