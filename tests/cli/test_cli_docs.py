"""docs/cli.md is generated from --help and must be current (STYLE.md §7)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_cli_reference_is_current() -> None:
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "make_cli_docs.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr + " (regenerate with: python scripts/make_cli_docs.py)"
