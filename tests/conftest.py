"""Shared fixtures: a tiny real int8 bundle (built with TensorFlow in a subprocess) and paths.

The tests run with one BLAS thread, as the program does (cli.pin_blas_threads), set here before numpy loads.
"""

from __future__ import annotations

from ventriloquist.device.cli import pin_blas_threads

pin_blas_threads()

import glob
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from ventriloquist.device.errors import VentriloquistError

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

_TINY_MODEL_SCRIPT = r"""
import sys, numpy as np, keras
from ventriloquist.training.export import to_int8_tflite
input_dim, n_out, activation, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((input_dim,)), keras.layers.Dense(8, activation="tanh"),
                          keras.layers.Dense(n_out, activation=activation)])
x = np.random.default_rng(0).normal(size=(256, input_dim)).astype(np.float32)
open(out, "wb").write(to_int8_tflite(model, x))
"""


def tiny_model_bytes(input_dim: int, n_out: int, activation: str = "softmax") -> bytes:
    """A real int8 TFLite model made by the training exporter (TensorFlow stays out of this process)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "model.tflite"
        subprocess.run(
            [sys.executable, "-c", _TINY_MODEL_SCRIPT, str(input_dim), str(n_out), activation, str(out)],
            capture_output=True, check=True, cwd=REPO,
        )
        return out.read_bytes()


def find_python(version: str) -> str | None:
    """An interpreter of `version` that can make venvs: Debian's first (Raspberry Pi OS's is Debian's), then
    PATH, then pyenv's (its shims answer only for the global version)."""
    candidates = [f"/usr/bin/python{version}", shutil.which(f"python{version}"),
                  *sorted(glob.glob(str(Path.home() / f".pyenv/versions/{version}.*/bin/python{version}")))]
    for candidate in filter(None, candidates):
        probe = [candidate, "-c", "import ensurepip, venv"]
        if Path(candidate).exists() and subprocess.run(probe, capture_output=True).returncode == 0:
            return candidate
    return None


def python_or_skip(version: str) -> str:
    found = find_python(version)
    if found is None:
        pytest.skip(f"no Python {version} with venv on this machine (pyenv install {version} adds one)")
    return found


def shared_path(*parts: str) -> Path:
    """A path under ../shared, skipping the test with a reason where it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared holds the real data; a fresh clone has none)")
    return path


def need_tracker() -> None:
    """Skip, with the reason, where the face tracker venv (.venv-track) is missing."""
    from ventriloquist.training.corpus.tracker import track_python

    try:
        track_python()
    except VentriloquistError as e:
        pytest.skip(str(e))


def grid_subset(dest: Path, clips: tuple[str, ...]) -> Path:
    """A GRID s1 folder (video/ + align/) at dest/s1 holding only `clips`, as links to ../shared."""
    grid = shared_path("data", "grid_s1")
    s1 = dest / "s1"
    for sub, suffix in (("video", ".mp4"), ("align", ".align")):
        (s1 / sub).mkdir(parents=True)
        for clip in clips:
            (s1 / sub / f"{clip}{suffix}").symlink_to(grid / sub / f"{clip}{suffix}")
    return s1


@pytest.fixture(scope="session")
def tiny_bundle_obj():
    """A small but real Bundle (softmax over 4 patterns) on the default front-end preset."""
    from ventriloquist.device.bundle import Bundle
    from ventriloquist.device.fap import ANIMATION_SUBSET
    from ventriloquist.device.frontend import PRESETS

    settings = PRESETS["default"]
    rng = np.random.default_rng(1)
    patterns = rng.normal(0, 100, size=(4, len(ANIMATION_SUBSET))).astype(np.float32)
    return Bundle(
        name="tiny-test",
        features=settings.to_dict(),
        norm_mean=np.zeros(settings.dim, np.float32),
        norm_std=np.ones(settings.dim, np.float32),
        coding="softmax",
        patterns=patterns,
        faps=ANIMATION_SUBSET,
        model_bytes=tiny_model_bytes(settings.input_dim, 4),
        provenance={"corpus": "random test data", "licence": "none"},
    )


@pytest.fixture
def tiny_bundle(tmp_path, tiny_bundle_obj) -> Path:
    """The tiny bundle written to a fresh folder."""
    from ventriloquist.device.bundle import write_bundle

    return write_bundle(tmp_path / "bundle", tiny_bundle_obj, {"MODEL_CARD.md": "# tiny\n"})


def rewrite_checksums(folder: Path) -> None:
    """Re-sign a bundle after editing it, so a test reaches the check behind the checksum."""
    import hashlib

    lines = [
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n"
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name != "SHA256SUMS"
    ]
    (folder / "SHA256SUMS").write_text("".join(lines))


def edit_json(path: Path, **changes) -> None:
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


@pytest.fixture(scope="module")
def talk(tmp_path_factory) -> Path:
    """One second of the sample speech (issue 15's reliability tests)."""
    import soundfile

    from ventriloquist.device.commands.demo import SAMPLE

    samples, rate_hz = soundfile.read(SAMPLE, dtype="float32")
    path = tmp_path_factory.mktemp("audio") / "talk.wav"
    soundfile.write(path, samples[:rate_hz], rate_hz)
    return path


@pytest.fixture
def bundle(tmp_path) -> Path:
    """A copy of the shipped bundle to tamper with (and re-sign, as an attacker can)."""
    import shutil

    from ventriloquist.device.bundle import SHIPPED_BUNDLE

    return Path(shutil.copytree(SHIPPED_BUNDLE, tmp_path / "bundle"))


def one_line_error(capsys, *words: str) -> str:
    """The captured stderr: exactly one `ventriloquist: error:` line, holding each of `words`."""
    err = capsys.readouterr().err
    assert err.startswith("ventriloquist: error: ") and err.count("\n") == 1, err
    for word in words:
        assert word in err, err
    return err


def leftovers(folder: Path) -> list[str]:
    """Hidden (temporary) files left in `folder`."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))
