"""labels.txt and CSV files as people save them: a UTF-8 BOM and CRLF line ends (issue 21, part 5)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from edgebind.cli import cli
from edgebind.zeroshot import read_labels


def test_labels_with_bom_and_crlf_list_walking(tmp_path: Path) -> None:
    p = tmp_path / "labels.txt"
    p.write_bytes("Walking\r\nRunning: a person running\r\n".encode("utf-8-sig"))
    assert [s.name for s in read_labels(p)] == ["Walking", "Running"]
    res = CliRunner().invoke(cli, ["labels", "show", "--labels", str(p), "--json"])
    assert res.exit_code == 0, res.output
    assert '"name": "Walking"' in res.output and "\\ufeff" not in res.output
