"""The command line: help for every command, one-line errors with exit 2, no TensorFlow on device."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ventriloquist.device.cli import COMMANDS, main

DEVICE_SIDE = [name for name, module, _ in COMMANDS if module.startswith("device.")]


@pytest.mark.parametrize("name", [c[0] for c in COMMANDS])
def test_every_command_has_help(name, capsys):
    with pytest.raises(SystemExit) as e:
        main([name, "--help"])
    assert e.value.code == 0
    assert "usage: ventriloquist " + name in capsys.readouterr().out


def test_usage_errors_are_one_line_and_exit_2(capsys):
    assert main(["no-such-command"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ventriloquist: error:") and err.count("\n") == 1


def test_a_bad_exaggeration_is_a_one_line_usage_error(capsys):
    assert main(["render", "x.wav", "--out", "x.mp4", "--exaggerate", "lots"]) == 2
    err = capsys.readouterr().err
    assert "--exaggerate: must be a number from 0 to 10, not 'lots'" in err and err.count("\n") == 1


def test_unknown_bench_is_refused(capsys):
    assert main(["bench", "warp-drive"]) == 2
    assert "unknown bench" in capsys.readouterr().err


@pytest.mark.slow
def test_device_code_never_imports_tensorflow():
    """Import every module under ventriloquist/device/ and the device commands' run paths' imports."""
    script = (
        "import importlib, pkgutil, sys, ventriloquist.device as device\n"
        "for m in pkgutil.walk_packages(device.__path__, 'ventriloquist.device.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(k for k in sys.modules if k.split('.')[0] in ('tensorflow', 'keras'))\n"
        "print('LOADED', bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert "LOADED []" in out


def test_the_program_pins_blas_threads_and_importing_the_package_does_not(monkeypatch):
    """One BLAS thread is set where the program starts (before numpy loads), not by `import ventriloquist.device`."""
    import os
    import subprocess
    import sys

    from ventriloquist.device import cli

    env = {k: v for k, v in os.environ.items() if k not in cli.BLAS_THREAD_VARIABLES}
    probe = "import os, ventriloquist.device; print(os.environ.get('OPENBLAS_NUM_THREADS'))"
    assert subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True).stdout == "None\n"
    for name in cli.BLAS_THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "4")  # the user's own choice stands
    assert cli.main(["verify", "no-such-bundle"]) == 2
    assert (os.environ["OPENBLAS_NUM_THREADS"], os.environ["OMP_NUM_THREADS"], os.environ["MKL_NUM_THREADS"]) == (
        "1", "1", "4")
