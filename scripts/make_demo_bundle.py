"""Build the demo bundle that `edgebind demo` ships: one reproducible command, run after make_demo_model.py.

    python scripts/make_demo_model.py     # edgebind/data/demo/imu_demo.safetensors, labels.npz, recordings
    python scripts/make_demo_bundle.py    # edgebind/data/demo/bundle/ (ONNX fp32 for CPU, MiniLM label bank)

The bundle is exported with edgebind's own ``export_bundle`` (parity measured against PyTorch, hashes in the
manifest) from the demo student and its precomputed all-MiniLM-L6-v2 label bank, so the device side needs no text
model. The student is NOT ImageBind's weights (see edgebind/data/demo/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEMO = Path("edgebind") / "data" / "demo"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args()
    os.chdir(REPO)  # relative paths keep the shipped manifest free of this machine's folders
    model, bank = DEMO / "imu_demo.safetensors", DEMO / "labels.npz"
    for p in (model, bank):
        if not p.is_file():
            print(f"missing {p}; run 'python scripts/make_demo_model.py' first.", file=sys.stderr)
            return 1
    from edgebind.export import export_bundle

    out = DEMO / "bundle"
    if out.exists():
        shutil.rmtree(out)
    t0 = time.perf_counter()
    # what the demo model was trained on: BasicMotions, a 10 Hz smartwatch stream with gravity removed
    trained_on = {"gravity_included": False, "source_rate_hz": 10.0}
    bundle = export_bundle(out, target="cpu", precision="fp32", modalities="imu", checkpoint=model, labels=bank,
                           remember=False, imu_contract=trained_on)
    seconds = time.perf_counter() - t0
    sizes = {p.name: round(p.stat().st_size / 1e6, 3) for p in sorted(out.iterdir())}
    print(json.dumps({"bundle": str(out), "seconds": round(seconds, 1), "files_mb": sizes,
                      "labels": bundle.labels["names"] if bundle.labels else None,
                      "parity": bundle.encoders["imu"].parity}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
