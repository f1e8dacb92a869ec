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
