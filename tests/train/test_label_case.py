"""train matches labels.txt to the data's labels case-insensitively, as eval and stream do (issue 21, part 5)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgebind.train.align import _label_ids, text_label_bank
from edgebind.train.data import WindowSet
from edgebind.train.dist import DistEnv


def test_text_bank_matches_labels_file_case_insensitively(tiny_teacher: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text("\ufeffWalking: a person walking\r\nStanding\r\n", encoding="utf-8")  # BOM + CRLF too
    n = 4
    windows = WindowSet("imu", np.zeros((n, 6, 2000), np.float32), np.array(["walking", "standing", "walking", ""]),
                        np.arange(n), np.arange(n))
    bank, _ = text_label_bank(windows, str(tiny_teacher), labels, 20.0, DistEnv())
    assert sorted(bank.names) == ["standing", "walking"]  # the data's spelling, so every window finds its row
    np.testing.assert_array_equal(_label_ids(windows, bank, "training") >= 0, [True, True, True, False])
