"""deploy/pi_check.py's comparison of an arm64 bake with this machine's (the arm64 run itself is `make pi-check`:
root, debootstrap and qemu, too slow for every test run)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "deploy"))
from pi_check import BAKE_TOLERANCE_FAPU, SAMPLE, largest_difference, read_bake  # noqa: E402


@pytest.mark.slow
def test_a_bake_matches_itself_and_a_shifted_or_shorter_one_does_not(tmp_path):
    out = tmp_path / "x86.csv"
    subprocess.run([sys.executable, "-m", "ventriloquist", "bake", str(SAMPLE), "--out", str(out)], check=True,
                   capture_output=True)
    bake = read_bake(out)
    assert len(bake["time"]) > 1000 and largest_difference(bake, bake)[0] == 0.0
    moved = {k: list(v) for k, v in bake.items()}
    moved["open_jaw"][500] += 2 * BAKE_TOLERANCE_FAPU
    diff, fap = largest_difference(moved, bake)
    assert fap == "open_jaw" and diff == pytest.approx(2 * BAKE_TOLERANCE_FAPU)
    shorter = {k: v[:-1] for k, v in bake.items()}
    assert largest_difference(shorter, bake)[0] == float("inf")
