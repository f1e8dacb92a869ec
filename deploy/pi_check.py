#!/usr/bin/env python3
"""Prove the offline kit on arm64 before anyone buys a board.

    sudo .venv/bin/python deploy/pi_check.py [--kit TARBALL] [--roots DIR] [--releases bookworm,trixie]

For each Raspberry Pi OS base release (Debian 12 "bookworm" with Python 3.11, Debian 13 "trixie" with 3.13)
it makes an arm64 root file system with debootstrap (once; kept in --roots), runs a fresh copy of it under
qemu-user-static (binfmt_misc) with the network cut off (`unshare -n`), installs the kit with install.sh as
root, and runs `ventriloquist verify`, `bake` of the sample speech and `doctor` there (all checks but the CPU
one: speed under emulation says nothing about a Pi; `ventriloquist bench cost` does). The arm64 bake is
compared with this machine's bake of the same file. The root file systems get python3-pyaudio, as the Pi
does while it still has a network (deploy/README.md). Needs root, debootstrap and qemu-user-static (`make
pi-check` installs them). Exit 0 when every release passed, 1 when one failed, 2 when it could not run.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RELEASES = {"bookworm": "3.11", "trixie": "3.13"}
"""Debian release -> its python3, the two Raspberry Pi OS bases."""
MIRROR = "http://deb.debian.org/debian"
PACKAGES = ("python3", "python3-venv", "python3-pyaudio")
"""What Raspberry Pi OS Lite has that debootstrap's minimal system lacks, and what the Pi owner adds."""
BINFMT = Path("/proc/sys/fs/binfmt_misc")
QEMU_RULE = Path("/usr/lib/binfmt.d/qemu-aarch64.conf")
DOCTOR = ("config", "bundle", "audio", "display", "serial")
"""doctor's checks that mean something under emulation (not cpu)."""
SAMPLE = REPO / "ventriloquist" / "device" / "samples" / "hello.wav"
BAKE_TOLERANCE_FAPU = 1.0
"""Largest |arm64 - x86| allowed in any FAP of any frame. The int8 model and the code are the same, but the float
front end (FFT, logs, filters) runs other SIMD kernels and libm on arm64, and a last-bit change in a feature can
move an int8 input by one quantisation step, which moves the decoded FAPs by a fraction of a FAPU (measured: 0.61
at most, 0.003 on average). 1 FAPU is 1/1024 of the mouth-nose separation, about 0.03 mm on a face and 0.06 px at
800x480, while speech opens the lips by hundreds of FAPU: invisible, and it still catches a wrong model, a wrong
front end or a shifted frame grid, which differ by tens to hundreds."""


class CheckError(Exception):
    """The check could not run here (no root, no binfmt_misc, debootstrap failed)."""


def enable_binfmt() -> None:
    """Let the kernel run aarch64 programs through qemu-user-static, inside any chroot (the F flag)."""
    if (BINFMT / "qemu-aarch64").exists():
        return
    if not (BINFMT / "register").exists():
        subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)], check=False)
    if not QEMU_RULE.is_file():
        raise CheckError(f"{QEMU_RULE} is missing: apt install qemu-user-static")
    rule = next(line for line in QEMU_RULE.read_text().splitlines() if line.startswith(":"))
    try:
        (BINFMT / "register").write_text(rule)
    except OSError as e:
        raise CheckError(f"cannot register qemu-aarch64 with binfmt_misc ({e}): run as root") from e


def base_root(roots: Path, release: str) -> Path:
    """The pristine arm64 root of `release`, made by debootstrap the first time (renamed into place when whole)."""
    root = roots / release
    if root.is_dir():
        return root
    tmp = roots / f".{release}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    roots.mkdir(parents=True, exist_ok=True)
    print(f"pi-check: debootstrap {release} arm64 into {root} (once, a few minutes)", flush=True)
    made = subprocess.run(["debootstrap", "--arch=arm64", "--variant=minbase", f"--include={','.join(PACKAGES)}",
                           release, str(tmp), MIRROR], capture_output=True, text=True)
    if made.returncode != 0:
        raise CheckError(f"debootstrap {release} failed: {made.stdout.strip()[-300:]}")
    tmp.rename(root)
    return root


def in_root(root: Path, command: str) -> subprocess.CompletedProcess:
    """Run `command` (sh) as root inside `root`: no network, its own /proc, the host's /dev, mounts gone after."""
    mounts = f"mount -t proc proc {root}/proc && mount --rbind /dev {root}/dev"
    inner = f"{mounts} && exec chroot {root} /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root " \
            f"LANG=C.UTF-8 /bin/sh -c \"$0\""
    return subprocess.run(["unshare", "--net", "--mount", "--propagation", "private", "sh", "-c", inner, command],
                          capture_output=True, text=True)


def read_bake(path: Path) -> dict[str, list[float]]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {name: [float(row[name]) for row in rows] for name in rows[0]}


def largest_difference(arm: dict[str, list[float]], x86: dict[str, list[float]]) -> tuple[float, str]:
    """The largest |arm64 - x86| over every FAP and frame, and the FAP it is in; inf when the shapes differ."""
    if arm.keys() != x86.keys() or len(arm["time"]) != len(x86["time"]):
        return float("inf"), "frame count or columns"
    return max((max(abs(a - b) for a, b in zip(arm[k], x86[k], strict=True)), k) for k in arm if k != "time")


def check_release(release: str, roots: Path, kit: Path) -> list[str]:
    """Install the kit into a fresh copy of the release's root and run it; returns the failures (empty: passed)."""
    base = base_root(roots, release)
    root = roots / f"{release}.run"
    shutil.rmtree(root, ignore_errors=True)
    subprocess.run(["cp", "-a", "--reflink=auto", str(base), str(root)], check=True)
    shutil.copy(kit, root / "root" / "kit.tar.gz")
    shutil.copy(SAMPLE, root / "root" / SAMPLE.name)
    app = "/opt/ventriloquist/venv/bin/ventriloquist"
    steps = {
        "python": "python3 --version",
        "install": "cd /root && tar xzf kit.tar.gz && ./ventriloquist-offline-*/install.sh --enable none",
        "verify": f"{app} verify /opt/ventriloquist/bundle",
        "bake": f"{app} bake /root/{SAMPLE.name} --out /root/arm64.csv",
        "doctor": f"{app} doctor --config /etc/ventriloquist/config.toml " + " ".join(f"--check {c}" for c in DOCTOR),
    }
    failures = []
    for name, command in steps.items():
        done = in_root(root, command)
        output = (done.stdout + done.stderr).strip()
        print(f"--- {release} {name} (exit {done.returncode}): {command}\n{output}", flush=True)
        if done.returncode != 0:
            failures.append(f"{name} exited {done.returncode}")
            if name != "doctor":  # doctor's findings are each worth reading; the others stop the check
                break
        elif name == "python" and f"Python {RELEASES[release]}." not in output:
            failures.append(f"python3 is not {RELEASES[release]}: {output}")
    if (root / "root" / "arm64.csv").is_file():  # this machine bakes the same file with the bundle installed there
        x86_bake = root / "root" / "x86.csv"
        subprocess.run([sys.executable, "-m", "ventriloquist", "bake", str(SAMPLE), "--out", str(x86_bake),
                        "--bundle", str(root / "opt" / "ventriloquist" / "bundle")], check=True, capture_output=True)
        diff, fap = largest_difference(read_bake(root / "root" / "arm64.csv"), read_bake(x86_bake))
        print(f"--- {release} bake: largest |arm64 - x86| = {diff:.2f} FAPU ({fap}); "
              f"tolerance {BAKE_TOLERANCE_FAPU} FAPU", flush=True)
        if diff > BAKE_TOLERANCE_FAPU:
            failures.append(f"the arm64 bake differs from the x86 one by {diff:.2f} FAPU in {fap}")
    return failures


def build_kit(out: Path) -> Path:
    subprocess.run([sys.executable, str(REPO / "deploy" / "build_wheelhouse.py"), "--out", str(out)], check=True)
    return next(out.glob("ventriloquist-offline-*-aarch64.tar.gz"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kit", type=Path, help="kit tarball to check (default: build one with build_wheelhouse.py)")
    p.add_argument("--roots", type=Path, default=Path.home() / ".cache" / "ventriloquist-pi-check",
                   help="where the arm64 root file systems are kept (default: ~/.cache/ventriloquist-pi-check)")
    p.add_argument("--releases", type=lambda v: v.split(","), default=list(RELEASES),
                   help=f"comma-separated Debian releases (default: {','.join(RELEASES)})")
    args = p.parse_args(argv)
    unknown = [r for r in args.releases if r not in RELEASES]
    if unknown:
        p.error(f"unknown release {', '.join(unknown)} (known: {', '.join(RELEASES)})")
    results = {}
    with tempfile.TemporaryDirectory(prefix="pi-check.") as tmp:
        try:
            for tool in ("debootstrap", "unshare", "chroot"):
                if not shutil.which(tool):
                    raise CheckError(f"{tool} is missing: apt install debootstrap qemu-user-static (make pi-check)")
            enable_binfmt()
            kit = args.kit or build_kit(Path(tmp))
            for release in args.releases:
                results[release] = check_release(release, args.roots, kit)
        except (CheckError, subprocess.CalledProcessError) as e:
            print(f"pi-check: error: {e}", file=sys.stderr)
            return 2
    for release, failures in results.items():
        print(f"pi-check: {release} (Python {RELEASES[release]}, arm64): {'; '.join(failures) or 'passed'}")
    return 1 if any(results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
