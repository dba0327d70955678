"""What a file is, told from its first bytes and its arrays, without torch: for ``edgebind info`` and checkpoint errors.

A user who passes a Recording, a calibration set, a bag or a Markdown file where a checkpoint belongs should hear
what the file is and which command reads it, not that a 4.5 GB download is corrupt.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

SNIFF_BYTES = 4096


@dataclass(frozen=True)
class FileKind:
    """``kind`` (``recording``, ``calibration set``, ...), one line of detail, and the command that reads it."""

    kind: str
    detail: str
    reads_it: str

    def sentence(self, path: str | Path) -> str:
        """``x.npz is a Recording (...), not a checkpoint; 'edgebind simulate x.npz' reads it.``"""
        article = "an" if self.kind[0].lower() in "aeiou" else "a"
        return f"{path} is {article} {self.kind} ({self.detail}), not a checkpoint; {self.reads_it} reads it."


def _npz_kind(path: Path) -> FileKind | None:
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as z:
            keys = set(z.files)
            meta: dict[str, object] = {}
            if "meta" in keys:
                try:
                    meta = json.loads(str(z["meta"]))
                except (ValueError, TypeError):
                    meta = {}
            shapes = {k: tuple(z[k].shape) for k in keys & {"imu", "thermal", "windows", "embeddings"}}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError):
        return None
    if meta.get("format") == "edgebind-calib-v1" or ({"imu", "thermal", "thermal_t_ns"} <= keys and
                                                     len(shapes.get("imu", ())) == 3):
        return FileKind("calibration set", f"IMU windows {shapes.get('imu')}, thermal {shapes.get('thermal')}",
                        f"'edgebind export --int8 --calibration {path}'")
    if {"imu", "imu_t_ns"} <= keys:
        n_th = shapes.get("thermal", (0,))[0]
        return FileKind("Recording", f"{shapes['imu'][0]} IMU samples, {n_th} thermal frames",
                        f"'edgebind simulate {path}' (or eval, embed, calibrate)")
    if "windows" in keys:
        return FileKind("label examples file", f"{shapes['windows'][0]} windows", "'edgebind labels show'")
    if {"names", "embeddings"} <= keys:
        return FileKind("label bank", f"{shapes['embeddings']} embeddings", "a bundle's labels.npz: 'edgebind stream'")
    if any(k.endswith(".reference") for k in keys):
        return FileKind("bundle parity file", f"{len(keys)} arrays", "'edgebind build-engine' (inside a bundle)")
    return FileKind("NumPy archive", f"arrays {', '.join(sorted(keys)[:6])}", "numpy.load")


def sniff(path: str | Path) -> FileKind | None:
    """What ``path`` is when it is plainly not a checkpoint, else None (a torch zip, a pickle, safetensors...)."""
    p = Path(path)
    try:
        with p.open("rb") as f:
            head = f.read(SNIFF_BYTES)
    except OSError:
        return None
    suffix = p.suffix.lower()
    if head.startswith(b"\x89MCAP"):
        return FileKind("ROS 2 bag (MCAP)", f"{p.stat().st_size:,} bytes", f"'edgebind convert {path}'")
    if head.startswith(b"SQLite format 3"):
        return FileKind("ROS 2 bag (sqlite3 .db3)", f"{p.stat().st_size:,} bytes", f"'edgebind convert {path}'")
    if head.startswith(b"CPTV"):
        return FileKind("thermal clip (CPTV)", f"{p.stat().st_size:,} bytes", f"'edgebind calibrate thermal {path}'")
    if head.startswith(b"\x93NUMPY"):
        return FileKind("NumPy array", f"{p.stat().st_size:,} bytes", f"'edgebind embed imu|thermal {path}'")
    if head.startswith(b"PK"):  # a zip: an .npz, else a torch checkpoint (whole or cut short)
        return _npz_kind(p) if suffix == ".npz" else None
    if head.startswith(b"\x08") and suffix == ".onnx":
        return FileKind("ONNX model", f"{p.stat().st_size:,} bytes", "its bundle directory: 'edgebind info DIR'")
    if not head:
        return FileKind("empty file", "0 bytes", "nothing")
    if b"\x00" not in head:
        cut = head if len(head) < SNIFF_BYTES else head[: head.rfind(b"\n") + 1]  # no half a character at the end
        try:
            text = cut.decode("utf-8-sig")
        except UnicodeDecodeError:
            return None
        if suffix == ".json":
            try:
                obj = json.loads(p.read_text(encoding="utf-8-sig"))
            except ValueError:
                obj = None
            if isinstance(obj, dict) and ({"imu", "thermal"} & set(obj)):
                return FileKind("calibration profile", "JSON", f"'edgebind stream PORT --calibration {path}'")
            return FileKind("JSON text file", f"{p.stat().st_size:,} bytes", "a text editor")
        kind = {".md": "Markdown text file", ".txt": "text file", ".csv": "CSV text file"}.get(suffix, "text file")
        reads = (f"'edgebind convert {path}'" if suffix in (".csv", ".log") else
                 "'edgebind stream PORT --labels FILE' (for a labels.txt)" if suffix == ".txt" else "a text editor")
        first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")[:40]
        return FileKind(kind, f"{p.stat().st_size:,} bytes, starting '{first}'", reads)
    return None
