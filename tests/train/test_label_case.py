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


def test_label_accuracy_matches_case_insensitively() -> None:
    from edgebind.train.evaluate import label_accuracy
    from edgebind.zeroshot import LabelBank

    emb = np.eye(2, 4, dtype=np.float32)  # label rows 'Walking' -> e0, 'Standing' -> e1
    bank = LabelBank(["Walking", "Standing"], emb, ("{}",), 5.0)
    unit = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [1, 0, 0, 0]], np.float32)
    acc = label_accuracy(unit, bank, np.array(["walking", "STANDING", "standing"]))
    assert acc["windows"] == 3.0 and acc["accuracy"] == 2 / 3 and acc["acc/Walking"] == 1.0
