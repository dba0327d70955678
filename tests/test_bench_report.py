"""benchmarks/report.py prints what bench_students.py wrote for the thermal student: recipe, curve and goal."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]


def _report() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_report", REPO / "benchmarks" / "report.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _thermal(centred: float, ratio: float) -> dict:
    curve = [{"step": 0, "centred_cosine": 0.01, "centred_cosine_p5": 0.0},
             {"step": 150, "centred_cosine": 0.812, "centred_cosine_p5": 0.755}]
    return {"recipe": {"views": 4, "batch": 16, "scenes": 400, "train": ["thermal_train.npz", "scenes.npz"]},
            "curve": curve, "quality": {"student ORT int8": {"centred_cosine": centred}},
            "timing": [{"case": "huge ORT int8", "ratio": 5.0}, {"case": "thermal-small ORT int8", "ratio": ratio}]}


def test_thermal_lines_give_recipe_curve_and_goal() -> None:
    lines = _report().thermal_recipe_lines(_thermal(0.85, 44.0))
    text = "\n".join(lines)
    assert "4 views per frame, batch 16, 400 generated scenes" in text
    assert "150: 0.812/0.755" in text and "0: 0.010/0.000" in text
    assert "0.850 at 44.0x, NOT met" in text  # the student's int8 ratio, not the huge int8's 5.0x
    assert "0.920 at 44.0x, met" in "\n".join(_report().thermal_recipe_lines(_thermal(0.92, 44.0)))
    assert "NOT met" in "\n".join(_report().thermal_recipe_lines(_thermal(0.92, 19.0)))


def test_a_result_without_a_recipe_keeps_the_old_lines() -> None:
    assert _report().thermal_recipe_lines({"quality": {}, "timing": []}) == []


def test_the_committed_thermal_result_prints() -> None:
    data = json.loads((REPO / "benchmarks" / "results" / "bench_students_thermal.json").read_text())
    text = "\n".join(_report().students())
    q = data["thermal"]["quality"]["student ORT int8"]
    assert f"centred cosine {q['centred_cosine']:.3f}" in text
    if "recipe" in data["thermal"]:
        assert f"{data['thermal']['recipe']['views']} views per frame" in text
