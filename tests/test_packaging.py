"""The wheel installs one import package, `ventriloquist`, so no generic name (`device`, `training`)
lands in site-packages or is shadowed by a folder of that name in the current directory."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)],
                           capture_output=True, text=True)
    if build.returncode != 0 and ("NewConnectionError" in build.stderr or "Could not fetch" in build.stderr):
        pytest.skip(f"PyPI cannot be reached for the build backend: {build.stderr.strip()[-200:]}")
    assert build.returncode == 0, build.stderr
    return next(out.glob("ventriloquist-*.whl"))


def test_the_only_top_level_import_package_is_ventriloquist(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"ventriloquist"}
    assert "ventriloquist/device/default_bundle/model.tflite" in names
    assert "ventriloquist/device/samples/hello.wav" in names


def test_the_entry_point_names_the_package(wheel):
    with zipfile.ZipFile(wheel) as z:
        entry = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert "ventriloquist = ventriloquist.device.cli:main" in entry


def test_a_device_folder_in_the_working_directory_does_not_shadow_it(tmp_path):
    """What deploy/install.sh meets when it runs `python -c` from a folder that holds a `device/`."""
    (tmp_path / "device").mkdir()
    (tmp_path / "device" / "__init__.py").write_text("raise SystemExit('the wrong device package')\n")
    done = subprocess.run([sys.executable, "-c", "import ventriloquist.device.config as c; print(c.__file__)"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(REPO / "ventriloquist")
