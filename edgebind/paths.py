"""Where edgebind finds things: the checkpoint, the last bundle, the cache (README, "How files are found")."""

from __future__ import annotations

import os
from pathlib import Path

from edgebind.errors import BundleError, CheckpointError

DEFAULT_CHECKPOINT = Path(".checkpoints") / "imagebind_huge.pth"  # where ImageBind's own builder downloads it


def cache_dir() -> Path:
    """``$EDGEBIND_CACHE``, else ``~/.cache/edgebind``; created on first use."""
    root = Path(os.environ.get("EDGEBIND_CACHE") or Path.home() / ".cache" / "edgebind")
    root.mkdir(parents=True, exist_ok=True)
    return root


def find_checkpoint(path: str | Path | None = None, random_init_flag: bool = False) -> Path:
    """Resolve the checkpoint: a path, else ``$EDGEBIND_CHECKPOINT``, else ``.checkpoints/imagebind_huge.pth``.

    ``random_init_flag``: the command takes ``--random-init``, so the error may suggest it.

    Raises:
        CheckpointError: nothing was found; the message says what to pass.
    """
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise CheckpointError(f"checkpoint {p} does not exist; pass the path to imagebind_huge.pth or a "
                                  "student .safetensors.")
        return p
    env = os.environ.get("EDGEBIND_CHECKPOINT")
    if env:
        p = Path(env)
        if not p.is_file():
            raise CheckpointError(f"$EDGEBIND_CHECKPOINT={env} does not exist; point it at imagebind_huge.pth.")
        return p
    if DEFAULT_CHECKPOINT.is_file():
        return DEFAULT_CHECKPOINT
    raise CheckpointError(
        "no checkpoint found: pass --checkpoint PATH, set EDGEBIND_CHECKPOINT, or put ImageBind's file at "
        f"{DEFAULT_CHECKPOINT} (https://dl.fbaipublicfiles.com/imagebind/imagebind_huge.pth, CC-BY-NC-SA 4.0)."
        + (" For latency tests without weights use --random-init." if random_init_flag else "")
    )


def _last_bundle_file() -> Path:
    return cache_dir() / "last_bundle"


def remember_bundle(bundle_dir: str | Path) -> None:
    """Record ``bundle_dir`` as the last bundle exported, for commands run without ``--bundle``."""
    _last_bundle_file().write_text(str(Path(bundle_dir).resolve()))


def _bundle_arg(flag: str) -> str:
    return f"{flag} DIR" if flag.startswith("-") else f"a bundle directory as {flag}"


def find_bundle(path: str | Path | None = None, flag: str = "--bundle") -> Path:
    """Resolve the bundle: an explicit dir, else ``$EDGEBIND_BUNDLE``, else the last one exported.

    ``flag``: how the command takes a bundle, for the error (``--bundle``, or ``BUNDLE`` for an argument).

    Raises:
        BundleError: nothing was found; the message says what to pass.
    """
    candidates: list[tuple[str, Path]] = []
    if path is not None:
        candidates.append((flag, Path(path)))
    elif os.environ.get("EDGEBIND_BUNDLE"):
        candidates.append(("$EDGEBIND_BUNDLE", Path(os.environ["EDGEBIND_BUNDLE"])))
    elif _last_bundle_file().is_file():
        candidates.append(("the last exported bundle", Path(_last_bundle_file().read_text().strip())))
    for source, p in candidates:
        if (p / "manifest.json").is_file():
            return p
        raise BundleError(f"{source} {p} is not a bundle (no manifest.json); create one with "
                          "'edgebind export --target jetson --fp16 -o BUNDLE' or pass " + _bundle_arg(flag) + ".")
    raise BundleError(f"no bundle found: pass {_bundle_arg(flag)}, set EDGEBIND_BUNDLE, or export one first with "
                      "'edgebind export --target jetson --fp16'.")
