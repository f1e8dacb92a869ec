#!/usr/bin/env python3
"""Build the offline install kit for the Pi on a workstation: one tarball, installed with install.sh.

    python3 deploy/build_wheelhouse.py [--bundle DIR] [--config FILE] [--out DIR] [--host] [--pythons 3.11,3.13]

One kit serves both current Raspberry Pi OS releases, 64-bit (aarch64): Bookworm (CPython 3.11, glibc
2.36) and Trixie (CPython 3.13, glibc 2.41). It holds wheels/ (the project's wheel and every device
dependency as binary wheels for each of those Pythons), requirements-pyX.Y.txt per Python (exact pins of
what install.sh installs; it picks the file by the Pi's own Python), the model bundle, the example
configs, install.sh, the systemd units, the udev rule, README.md and SHA256SUMS. PyAudio is not a wheel
on aarch64: the Pi takes Debian's python3-pyaudio (the venv sees system packages), and as a fallback its
source is in wheels/ to build against portaudio19-dev. `--host` builds the same kit for this machine
(tests install it).
"""

from __future__ import annotations

import argparse
import email.parser
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
TARGET_MACHINE = "aarch64"
GLIBC_MINOR = {"3.11": 36, "3.13": 41}
"""Raspberry Pi OS's Python -> its glibc minor version: Bookworm has 3.11 and 2.36, Trixie 3.13 and 2.41."""
OLDEST_GLIBC_MINOR = 17
EXTRA = "device"
SOURCE_ONLY = ("pyaudio",)
"""Dependencies with no aarch64 wheel on PyPI: taken from Debian, else built on the Pi from source."""
BUILD_TOOLS = ("setuptools", "wheel")
"""Shipped (with their needs) only so the PyAudio source can be built offline; not in requirements-py*.txt."""
KIT_FILES = ("install.sh", "README.md", "systemd", "udev")


def target_platforms(machine: str, glibc_minor: int) -> list[str]:
    """Every manylinux tag a glibc 2.`glibc_minor` `machine` accepts, newest first: pip takes only the tags
    it is given, and real wheels use several (numpy manylinux_2_27, soxr manylinux_2_26, pygame manylinux2014)."""
    tags = [f"manylinux_2_{m}_{machine}" for m in range(glibc_minor, OLDEST_GLIBC_MINOR - 1, -1)]
    return [*tags, f"manylinux2014_{machine}"]


def host_glibc_minor() -> int:
    """This machine's glibc minor version (a --host kit's wheels must load here)."""
    return int(platform.libc_ver()[1].split(".")[1])


def runtime_requirements(wheel: Path, extra: str = EXTRA) -> list[str]:
    """The wheel's base + `extra` requirements (markers kept, the extra clause dropped), less SOURCE_ONLY."""
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        meta = email.parser.Parser().parsestr(z.read(name).decode())
    extra_clause = re.compile(r"""\s*(\band\s+)?\bextra\s*==\s*["']([^"']+)["']\s*(\band\b\s*)?""")
    out = []
    for line in meta.get_all("Requires-Dist") or []:
        req, _, marker = line.partition(";")
        found = extra_clause.search(marker)
        if found and found.group(2) != extra:
            continue
        marker = extra_clause.sub(" ", marker).strip()
        marker = re.sub(r"^\((.*)\)$", r"\1", marker)
        project = re.split(r"[\s<>=!~\[;(]", req.strip(), maxsplit=1)[0]
        if project.lower() in SOURCE_ONLY:
            continue
        out.append(f"{req.strip()}; {marker}" if marker else req.strip())
    return out


def _norm(project: str) -> str:
    return re.sub(r"[-_.]+", "-", project).lower()


def pins(wheels: Path, skip: tuple[str, ...]) -> list[str]:
    """`name==version` for every wheel in `wheels`, less the projects in `skip`."""
    out = set()
    for whl in wheels.glob("*.whl"):
        project, version = whl.name.split("-")[:2]
        if _norm(project) not in skip:
            out.add(f"{_norm(project)}=={version}")
    return sorted(out)


def pip(python: str, *args: str) -> None:
    cmd = [python, "-m", "pip", *args]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def sha256sums(folder: Path) -> str:
    lines = []
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        lines.append(f"{hashlib.sha256(f.read_bytes()).hexdigest()}  {f.relative_to(folder)}\n")
    return "".join(lines)


def build(args: argparse.Namespace) -> tuple[Path, str]:
    python = args.python
    stage_root = Path(tempfile.mkdtemp(prefix="wheelhouse."))
    try:
        wheels = stage_root / "kit" / "wheels"
        wheels.mkdir(parents=True)
        pip(python, "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(REPO))
        project_wheel = next(wheels.glob("ventriloquist-*.whl"))
        version = project_wheel.name.split("-")[1]
        requirements = stage_root / "requirements.in"
        requirements.write_text("\n".join(runtime_requirements(project_wheel)) + "\n")
        machine = platform.machine() if args.host else TARGET_MACHINE
        constraints = ["-c", str(args.constraints)] if args.constraints else []
        cache = ["--no-cache-dir"] if args.no_cache else []
        kit = stage_root / "kit"
        for py in args.pythons:
            glibc_minor = host_glibc_minor() if args.host else GLIBC_MINOR[py]
            target = [f"--platform={t}" for t in target_platforms(machine, glibc_minor)]
            target += ["--python-version", py, "--implementation", "cp"]
            target += [f"--abi={a}" for a in (f"cp{py.replace('.', '')}", "abi3", "none")]
            own = stage_root / f"wheels-{py}"
            pip(python, "download", "--quiet", *cache, "--only-binary=:all:", *target, *constraints,
                "-d", str(own), "-r", str(requirements))
            (kit / f"requirements-py{py}.txt").write_text(
                f"# Exact versions install.sh puts into the venv on Python {py} (offline, from wheels/).\n"
                + "\n".join(pins(own, ("ventriloquist",))) + "\n"
            )
            for whl in own.iterdir():  # a pure wheel both Pythons share is kept once
                os.replace(whl, wheels / whl.name)
        pip(python, "download", "--quiet", *cache, "--only-binary=:all:", *constraints,
            "-d", str(wheels), *BUILD_TOOLS)
        pip(python, "download", "--quiet", *cache, "--no-deps", "--no-binary=:all:", *constraints,
            "-d", str(wheels), *SOURCE_ONLY)
        (kit / "TARGET").write_text(f"machine={machine}\npythons={' '.join(args.pythons)}\nversion={version}\n")
        if args.bundle:
            sys.path.insert(0, str(REPO))
            from ventriloquist.device.bundle import load_bundle

            load_bundle(args.bundle)  # refuse to ship a broken bundle (files and settings; no interpreter needed)
            shutil.copytree(args.bundle, kit / "bundle")
        shutil.copy(args.config, kit / "config.example.toml")
        if args.servos and Path(args.servos).is_file():
            shutil.copy(args.servos, kit / "servos.example.toml")
        for name in KIT_FILES:
            src = DEPLOY / name
            (shutil.copytree if src.is_dir() else shutil.copy2)(src, kit / name)
        (kit / "SHA256SUMS").write_text(sha256sums(kit))
        args.out.mkdir(parents=True, exist_ok=True)
        top = f"ventriloquist-offline-{version}"
        out = args.out / f"{top}-{machine}.tar.gz"
        tmp = out.with_name(f".{out.name}.tmp")
        with tarfile.open(tmp, "w:gz") as tar:
            tar.add(kit, arcname=top)
        os.replace(tmp, out)
        return out, top
    finally:
        shutil.rmtree(stage_root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_bundle = REPO / "ventriloquist" / "device" / "default_bundle"
    p.add_argument("--bundle", type=Path, default=default_bundle if default_bundle.is_dir() else None,
                   help="model bundle folder to ship (default: ventriloquist/device/default_bundle)")
    p.add_argument("--no-bundle", dest="bundle", action="store_const", const=None, help="ship no bundle")
    p.add_argument("--config", type=Path, default=DEPLOY / "config.example.toml", help="config to ship")
    p.add_argument("--servos", type=Path, default=DEPLOY / "servos.example.toml", help="servo map to ship")
    p.add_argument("--out", type=Path, default=REPO / "dist", help="where the tarball goes (default: dist/)")
    p.add_argument("--host", action="store_true", help="build for this machine instead of the Pi (for tests)")
    p.add_argument("--pythons", type=lambda v: v.split(","), default=list(GLIBC_MINOR),
                   help=f"comma-separated Python versions the kit carries (default: {','.join(GLIBC_MINOR)})")
    p.add_argument("--constraints", type=Path, default=REPO / "constraints.txt",
                   help="pin versions with this pip constraints file (default: constraints.txt)")
    p.add_argument("--no-constraints", dest="constraints", action="store_const", const=None)
    p.add_argument("--no-cache", action="store_true", help="do not read or write pip's cache")
    p.add_argument("--python", default=sys.executable, help="interpreter whose pip downloads (default: this one)")
    args = p.parse_args(argv)
    unknown = [py for py in args.pythons if py not in GLIBC_MINOR]
    if unknown and not args.host:
        print(f"build_wheelhouse: error: no Raspberry Pi OS release has Python {', '.join(unknown)} "
              f"(Bookworm has 3.11, Trixie 3.13)", file=sys.stderr)
        return 2
    if args.constraints and not args.constraints.is_file():
        args.constraints = None
    try:
        out, top = build(args)
    except subprocess.CalledProcessError as e:
        print(f"build_wheelhouse: error: {' '.join(map(str, e.cmd[:4]))} ... failed (exit {e.returncode})",
              file=sys.stderr)
        return 2
    except Exception as e:  # a VentriloquistError from the bundle check, a missing file
        print(f"build_wheelhouse: error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB): copy it to the Pi, then\n"
          f"  tar xzf {out.name} && sudo {top}/install.sh")
    return 0


if __name__ == "__main__":
    sys.exit(main())
