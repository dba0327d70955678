"""Adafruit ``MLX90640_simpletest`` frames in a text stream: a separator line, then 24 rows of 32 °C values.

Pure: :class:`SimpletestFrames` takes one line at a time and hands back each complete (24, 32) frame. A frame cut
short or too long (a lost or extra row) is counted and dropped; frames that are all the wrong size are a one-line
problem naming the fix.
"""

from __future__ import annotations

import numpy as np

from edgebind.bridge.lines import MLX_COLS, MLX_ROWS, is_separator, numbers


class SimpletestFrames:
    """Assemble MLX90640_simpletest frames from lines."""

    def __init__(self) -> None:
        self.rows: list[list[float]] | None = None  # the frame being read (None: no frame open)
        self.bad_frames = 0
        self._bad_rows: list[int] = []  # row counts of the last bad frames

    @property
    def open(self) -> bool:
        """A separator or a first row was seen and the frame is not complete."""
        return self.rows is not None

    def line(self, text: str) -> tuple[bool, np.ndarray | None]:
        """(whether ``text`` belongs to a frame, the frame it completes as (24, 32) float32 °C or None)."""
        if is_separator(text):
            self.end()
            self.rows = []
            return True, None
        row = numbers(text) if text[0] in "-+.0123456789" else None
        if row is None or len(row) != MLX_COLS:
            self.end()
            return False, None
        if self.rows is None:
            self.rows = []
        self.rows.append(row)
        if len(self.rows) < MLX_ROWS:
            return True, None
        frame = np.array(self.rows, dtype=np.float32)  # (24, 32) degrees C, top row first
        self.rows = None
        return True, frame

    def end(self) -> None:
        """A line that is no row: a frame still open is cut short (counted, never emitted)."""
        if self.rows:
            self.bad_frames += 1
            self._bad_rows = [*self._bad_rows[-9:], len(self.rows)]
        self.rows = None

    def problem(self, good_frames: int) -> str | None:
        """A one-line diagnosis when every frame so far had the wrong row count (at least 2), else None."""
        if len(self._bad_rows) < 2 or good_frames:
            return None
        rows = max(set(self._bad_rows), key=self._bad_rows.count)
        return (f"thermal frames after a separator line have {rows} rows of {MLX_COLS} values, not {MLX_ROWS}: "
                f"MLX90640_simpletest prints one '----' line then all {MLX_ROWS} rows per frame; print every row "
                f"(for h < {MLX_ROWS}) and nothing between them.")
