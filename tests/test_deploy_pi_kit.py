"""The real Raspberry Pi kit (aarch64) carries, for Bookworm's Python 3.11 and Trixie's 3.13, a wheel that
Python can install for every pin, and nothing for the workstation. `make pi-check` installs and runs this
kit on arm64 Debian 12 and 13 under qemu; this is its quick stand-in in `make test`.

Building downloads about 160 MB of aarch64 wheels through pip's own cache (fast once warm); it skips when
PyPI cannot be reached.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import canonicalize_name, parse_wheel_filename

if os.environ.get("VENTRILOQUIST_SKIP_INSTALL_TEST"):
    pytest.skip("VENTRILOQUIST_SKIP_INSTALL_TEST is set (this file downloads ~160 MB)", allow_module_level=True)

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "deploy"))
from build_wheelhouse import GLIBC_MINOR, target_platforms  # noqa: E402

pytestmark = pytest.mark.network  # downloads the Pi wheelhouse from PyPI


@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("pi-kit")
    build = subprocess.run([sys.executable, str(REPO / "deploy" / "build_wheelhouse.py"), "--out", str(tmp)],
                           capture_output=True, text=True)
    if build.returncode != 0 and ("NewConnectionError" in build.stderr or "Could not fetch" in build.stderr):
        pytest.skip(f"PyPI cannot be reached, so no wheelhouse can be built: {build.stderr.strip()[-200:]}")
    assert build.returncode == 0, build.stdout + build.stderr
    subprocess.run(["tar", "xzf", str(tmp / "ventriloquist-offline-0.1.0-aarch64.tar.gz"), "-C", str(tmp)], check=True)
    return tmp / "ventriloquist-offline-0.1.0"


def pi_tags(version: str) -> set[Tag]:
    """Every wheel tag CPython `version` accepts on a 64-bit Pi running the release that ships it."""
    py = tuple(int(v) for v in version.split("."))
    platforms = target_platforms("aarch64", GLIBC_MINOR[version])
    return {*cpython_tags(py, platforms=platforms), *compatible_tags(py, platforms=platforms)}


def test_the_kit_names_both_pythons(kit):
    assert (kit / "TARGET").read_text() == "machine=aarch64\npythons=3.11 3.13\nversion=0.1.0\n"


@pytest.mark.parametrize("version", ["3.11", "3.13"])
def test_every_pin_has_a_wheel_for_that_python_on_the_pi(kit, version):
    wheels = [parse_wheel_filename(w.name) for w in (kit / "wheels").glob("*.whl")]
    pins = [line.split("==") for line in (kit / f"requirements-py{version}.txt").read_text().splitlines()
            if line and not line.startswith("#")]
    assert {"numpy", "scipy", "pygame", "soxr", "ai-edge-litert", "pyserial", "tomli-w"} <= {p for p, _ in pins}
    accepted = pi_tags(version)
    for project, pinned in pins:
        fits = [tags for name, v, _, tags in wheels if name == canonicalize_name(project) and str(v) == pinned]
        assert any(tags & accepted for tags in fits), f"no {project}=={pinned} wheel for Python {version} on aarch64"
    assert not any("tensorflow" in str(name) for name, *_ in wheels), "TensorFlow must not reach the device"


def test_the_project_wheel_admits_python_3_13(kit):
    wheel = next((kit / "wheels").glob("ventriloquist-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        meta = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    assert "Requires-Python: >=3.11\n" in meta
