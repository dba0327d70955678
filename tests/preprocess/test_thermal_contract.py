"""The thermal contract: temperature mapping, the 224x224 transform, shape checks, real CPTV clips."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edgebind.errors import ConfigError, InputError
from edgebind.preprocess.thermal import (
    ThermalContract,
    check_thermal_input,
    load_cptv,
    load_thermal_image,
    load_thermal_input,
    map_temperature,
    to_model_input,
)

CLIPS = ("20240507-074536.cptv", "20240917-1921337.cptv")


def _clip(data_dir: Path, name: str) -> Path:
    path = data_dir / "thermal" / name
    return path


def test_contract_json_round_trip_and_errors() -> None:
    for c in (ThermalContract(), ThermalContract(mapping="fixed", min_temp_c=10.0, max_temp_c=45.0)):
        assert ThermalContract.from_dict(json.loads(json.dumps(c.to_dict()))) == c
    with pytest.raises(ConfigError, match="Did you mean 'percentile'"):
        ThermalContract(mapping="percentil")
    with pytest.raises(ConfigError, match="Did you mean 'high_percentile'"):
        ThermalContract.from_dict({"high_pct": 99.0})
    with pytest.raises(ConfigError, match="0 <= low < high <= 100"):
        ThermalContract(low_percentile=50, high_percentile=10)
    with pytest.raises(ConfigError, match="min_temp_c < max_temp_c"):
        ThermalContract(mapping="fixed", min_temp_c=30, max_temp_c=20)


def test_fixed_mapping_values() -> None:
    c = ThermalContract(mapping="fixed", min_temp_c=0.0, max_temp_c=40.0)
    out = map_temperature(np.array([[-5.0, 0.0, 10.0], [20.0, 40.0, 60.0]]), c)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.0, 0.0, 0.25], [0.5, 1.0, 1.0]])


def test_percentile_mapping_is_per_frame_and_affine_invariant() -> None:
    rng = np.random.default_rng(0)
    temp_c = rng.normal(22.0, 3.0, size=(3, 60, 80))
    temp_c[1] += 15.0  # a warmer frame maps the same: AGC is per frame
    out = map_temperature(temp_c)
    assert out.shape == (3, 60, 80) and out.min() == 0.0 and out.max() == 1.0
    np.testing.assert_allclose(out[1], map_temperature(temp_c[1] - 15.0), atol=1e-6)
    counts = 1000.0 + 37.5 * temp_c  # raw sensor counts: linear in temperature
    np.testing.assert_allclose(map_temperature(counts), out, atol=1e-6)
    assert not map_temperature(np.full((8, 8), 21.0)).any()  # a flat frame maps to 0


def test_mapping_rejects_bad_arrays() -> None:
    with pytest.raises(InputError, match=r"shape \(5,\); expected \(H, W\) or \(M, H, W\)"):
        map_temperature(np.zeros(5))
    bad = np.zeros((4, 4))
    bad[0, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        map_temperature(bad)


def test_to_model_input_shape_quantisation_and_geometry() -> None:
    # 120x160 (Lepton): short side 120 -> 224, long side -> 298, centre crop 224
    frame = np.zeros((120, 160))
    frame[:, 70:90] = 1.0  # a centred vertical stripe
    out = to_model_input(frame)
    assert out.shape == (1, 1, 224, 224) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    np.testing.assert_allclose(out * 255.0, np.round(out * 255.0), atol=1e-4)  # 8-bit levels
    cols = out[0, 0].mean(axis=0)
    assert cols[100:124].min() > 0.9 and cols[:80].max() < 0.05 and cols[-80:].max() < 0.05
    # already 224x224: only the 8-bit quantisation changes values
    x = np.random.default_rng(0).random((2, 224, 224))
    np.testing.assert_allclose(to_model_input(x)[:, 0], np.round(x * 255) / 255, atol=1e-6)


def test_check_thermal_input() -> None:
    x = np.random.default_rng(0).random((2, 1, 224, 224)).astype(np.float32)
    assert check_thermal_input(x) is x
    assert check_thermal_input(x[0]).shape == (1, 1, 224, 224)
    for shape in [(256, 256), (1, 1, 256, 256), (2, 3, 224, 224), (224, 224)]:
        with pytest.raises(InputError, match=r"needs exactly \(N, 1, 224, 224\).*temperature array") as exc:
            check_thermal_input(np.zeros(shape, np.float32))
        assert str(shape) in str(exc.value) and "\n" not in str(exc.value)
    with pytest.raises(InputError, match=r"outside \[0, 1\]; it looks like temperatures"):
        check_thermal_input(np.full((1, 1, 224, 224), 21.5, np.float32))


@pytest.mark.parametrize("name", CLIPS)
def test_real_cptv_clip_maps_and_keeps_the_warm_animal_warm(data_dir: Path, name: str) -> None:
    frames, t_ns = load_cptv(_clip(data_dir, name))
    assert frames.ndim == 3 and frames.shape[1:] == (120, 160)
    assert t_ns[0] == 0 and np.all(np.diff(t_ns) > 0)
    out = to_model_input(map_temperature(frames))
    assert out.shape == (len(frames), 1, 224, 224) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0 and out.std() > 0.05
    contrast = np.percentile(frames, 99.9, axis=(1, 2)) - np.median(frames, axis=(1, 2))
    i = int(np.argmax(contrast))  # the frame where the animal stands out most
    warm = frames[i] > np.percentile(frames[i], 99.5)
    warm_224 = to_model_input(warm.astype(np.float64))[0, 0] > 0.5  # same geometry as the image
    assert warm_224.sum() > 0
    img = out[i, 0]
    assert img[warm_224].mean() > 0.9
    assert img[warm_224].mean() > np.median(img) + 0.3


def test_load_thermal_images(tmp_path: Path) -> None:
    grad = np.tile(np.arange(256, dtype=np.uint8), (64, 1))  # (64, 256) 8-bit ramp
    Image.fromarray(grad).save(tmp_path / "ramp.png")
    np.testing.assert_allclose(load_thermal_image(tmp_path / "ramp.png"), grad / 255.0, atol=1e-7)
    Image.fromarray(np.stack([grad] * 3, axis=-1)).save(tmp_path / "rgb.jpg", quality=95)
    assert load_thermal_image(tmp_path / "rgb.jpg").shape == (64, 256)  # converted to "L"
    counts = (27000 + 4 * grad.astype(np.int32)).astype(np.uint16)  # 16-bit radiometric counts
    Image.fromarray(counts).save(tmp_path / "raw16.png")
    np.testing.assert_allclose(load_thermal_image(tmp_path / "raw16.png"), map_temperature(counts), atol=1e-6)
    model_in = load_thermal_input(tmp_path / "ramp.png")
    assert model_in.shape == (1, 1, 224, 224)
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(InputError, match=r"cannot read .*broken\.png as an image"):
        load_thermal_image(tmp_path / "broken.png")


def test_load_thermal_input_npy_and_cptv(tmp_path: Path, data_dir: Path) -> None:
    ready = np.random.default_rng(0).random((2, 1, 224, 224)).astype(np.float32)
    np.save(tmp_path / "ready.npy", ready)
    np.testing.assert_array_equal(load_thermal_input(tmp_path / "ready.npy"), ready)
    temp_c = 20.0 + np.random.default_rng(1).random((3, 120, 160)) * 10.0
    np.save(tmp_path / "temp.npy", temp_c)
    np.testing.assert_allclose(load_thermal_input(tmp_path / "temp.npy"), to_model_input(map_temperature(temp_c)))
    np.save(tmp_path / "big.npy", np.zeros((1, 1, 256, 256), np.float32))
    with pytest.raises(InputError, match=r"\(1, 1, 256, 256\)"):
        load_thermal_input(tmp_path / "big.npy")
    assert load_thermal_input(_clip(data_dir, CLIPS[0])).shape == (46, 1, 224, 224)
    with pytest.raises(InputError, match=r"unknown extension '\.txt'"):
        load_thermal_input(tmp_path / "x.txt")
