"""The wheel installs one import package, `ventriloquist`, so no generic name (`device`, `training`)
lands in site-packages or is shadowed by a folder of that name in the current directory."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import find_python, python_or_skip

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


@pytest.mark.slow  # builds the wheel
def test_the_only_top_level_import_package_is_ventriloquist(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"ventriloquist"}
    assert "ventriloquist/device/default_bundle/model.tflite" in names
    assert "ventriloquist/device/samples/hello.wav" in names


@pytest.mark.slow  # builds the wheel
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


def test_make_setup_on_python_3_13_names_and_uses_a_python_that_training_can_run_on():
    """Debian 13's python3 is 3.13, which tensorflow-cpu 2.21.0 and mediapipe 0.10.21 have no wheels for."""
    python313 = python_or_skip("3.13")
    if find_python("3.11") is None and find_python("3.12") is None:
        pytest.skip("no Python 3.11 or 3.12 here to fall back on")
    planned = subprocess.run(["make", "-n", "-B", ".venv/bin/.installed", ".venv-track/bin/.installed",
                              f"PYTHON={python313}"], capture_output=True, text=True, cwd=REPO)
    assert planned.returncode == 0, planned.stderr
    used = {line.split(" -m venv ")[0] for line in planned.stdout.splitlines() if " -m venv " in line}
    assert len(used) == 1 and python313 not in used
    work_python = used.pop()
    version = subprocess.run([work_python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True).stdout.strip()
    assert version in ("3.11", "3.12")
    for venv in (".venv", ".venv-track"):
        assert f"{python313} is not one of Python 3.11 3.12 (no tensorflow-cpu or mediapipe wheels for it): " \
               f"{venv} uses {work_python}" in planned.stdout
