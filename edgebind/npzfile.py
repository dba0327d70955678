"""Read an ``.npz`` written by edgebind (no pickles); any other file becomes one error that says what to do."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np

from edgebind.errors import EdgebindError


def read_npz(path: Path, error: type[EdgebindError], what: str, fix: str) -> dict[str, np.ndarray]:
    """Every array of ``path``, loaded with ``allow_pickle=False``.

    Args:
        path: an existing file.
        error: the EdgebindError subclass to raise.
        what: what the file should be, for the message ("a Recording .npz").
        fix: the sentence that says how to get a good file.

    Returns:
        name -> array.

    Raises:
        error: the file is empty, not a zip archive (text, random bytes, truncated), or holds a corrupt or pickled
            member. The message is one line.
    """
    size = path.stat().st_size
    if not zipfile.is_zipfile(path):  # also catches a truncated .npz: its zip directory sits at the end
        raise error(f"{path} ({size:,} bytes) is not {what}: not an .npz archive (empty, truncated or another kind of "
                    f"file); {fix}")
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0][:120]
        raise error(f"{path} ({size:,} bytes) is not {what}: {reason}; {fix}") from exc
