"""Draw docs/thermal_mapping.png: real Lepton 3.5 CPTV frames, raw and mapped into the model's intensity domain.

Each row is one frame of one clip from ../shared/data/thermal (The Cacophony Project, MIT). Columns: raw TLinear
counts; degrees C after ``calibrate_thermal`` (units, bad-pixel repair); the model input (224x224 in [0, 1]) with
the per-frame 1-99 percentile stretch (camera-AGC-like); the model input with the fixed range fitted on the clip.

    python scripts/make_thermal_grid.py [--shared ../shared] [-o docs/thermal_mapping.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from edgebind.calibration.thermal import calibrate_thermal
from edgebind.preprocess.thermal import ThermalContract, load_cptv, map_temperature, to_model_input

CLIPS = ("20240507-074536.cptv", "20240917-1921337.cptv")


def pick_frames(frames_c: np.ndarray) -> list[int]:
    """A quiet frame and the frame that differs most from the clip's median (a moving animal, in these clips)."""
    diff = np.abs(frames_c - np.median(frames_c, axis=0)).reshape(len(frames_c), -1)
    score = np.percentile(diff, 99.9, axis=1)
    score[0] = -1  # the first frame of a CPTV clip can be a stored background frame
    busy = int(np.argmax(score))
    quiet = int(np.argmin(np.where(np.arange(len(score)) == 0, np.inf, score)))
    return [quiet, busy]


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    repo = Path(__file__).resolve().parents[1]
    parser.add_argument("--shared", type=Path, default=repo.parent / "shared")
    parser.add_argument("-o", "--output", type=Path, default=repo / "docs" / "thermal_mapping.png")
    args = parser.parse_args()

    rows = []
    for name in CLIPS:
        raw, _ = load_cptv(args.shared / "data" / "thermal" / name)
        fixed = calibrate_thermal(raw, "lepton3.5", mapping="fixed")
        pct = ThermalContract(mapping="percentile", low_percentile=1.0, high_percentile=99.0)
        fixed_contract = ThermalContract.from_dict(fixed.calibration.mapping)
        for i in pick_frames(fixed.frames_c):
            rows.append((name, i, raw[i], fixed.frames_c[i], fixed_contract, pct, fixed.report))

    fig, axes = plt.subplots(len(rows), 4, figsize=(13, 2.9 * len(rows)), constrained_layout=True)
    for r, (name, i, raw_f, temp_c, fixed_contract, pct, rep) in enumerate(rows):
        ax = axes[r]
        im = ax[0].imshow(raw_f, cmap="gray")
        fig.colorbar(im, ax=ax[0], shrink=0.8, label="counts")
        ax[0].set_title(f"{name} #{i}\nraw TLinear counts (0.01 K)", fontsize=8)
        im = ax[1].imshow(temp_c, cmap="inferno")
        fig.colorbar(im, ax=ax[1], shrink=0.8, label="°C")
        ax[1].set_title(f"°C after calibration\n{rep['bad_pixels']} bad px repaired, "
                        f"noise {rep['temporal_noise_c']:.3f} °C", fontsize=8)
        for col, contract, title in ((2, pct, "percentile 1-99 per frame"),
                                     (3, fixed_contract, f"fixed {fixed_contract.min_temp_c:g}.."
                                                         f"{fixed_contract.max_temp_c:g} °C")):
            x = to_model_input(map_temperature(temp_c, contract))[0, 0]  # (1, 1, 224, 224) -> (224, 224)
            ax[col].imshow(x, cmap="gray", vmin=0, vmax=1)
            ax[col].set_title(f"input 224², {title}\nmean {x.mean():.2f}, "
                              f"{(x <= 0).mean():.0%} at 0, {(x >= 1).mean():.0%} at 1", fontsize=8)
        for a in ax:
            a.set_xticks([])
            a.set_yticks([])
    fig.suptitle("FLIR Lepton 3.5 clips (The Cacophony Project, MIT): raw -> °C -> ImageBind thermal input",
                 fontsize=10)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.output, dpi=70)
    print(f"wrote {args.output} ({len(rows)} frames from {len(CLIPS)} clips)")


if __name__ == "__main__":
    main()
