"""deploy/systemd and deploy/udev: `systemd-analyze verify` passes, the promised settings are there,
and each unit's command line is one the CLI accepts."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
UNITS = sorted((REPO / "deploy" / "systemd").glob("*.service"))
RULES = sorted((REPO / "deploy" / "udev").glob("*.rules"))
VENV_BIN = Path(sys.executable).parent
INSTALLED_BIN = "/opt/ventriloquist/venv/bin/ventriloquist"


def settings(unit: Path) -> dict[str, list[str]]:
    """KEY -> every value it is given in the unit file."""
    out: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def verify(unit_text: str, name: str, folder: Path) -> subprocess.CompletedProcess:
    """systemd-analyze verify on a copy whose ExecStart points at this venv's real entry point."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is absent (Debian package: systemd)")
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(unit_text.replace(INSTALLED_BIN, str(VENV_BIN / "ventriloquist")))
    return subprocess.run(["systemd-analyze", "verify", "--man=no", str(path)], capture_output=True, text=True)


def test_both_units_exist():
    assert [u.name for u in UNITS] == ["ventriloquist-kiosk.service", "ventriloquist-puppet.service"]


@pytest.mark.hardware  # systemd-analyze
@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_systemd_analyze_verify_is_clean(unit, tmp_path):
    result = verify(unit.read_text(), unit.name, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "" and result.stderr.strip() == "", result.stderr


@pytest.mark.hardware  # systemd-analyze
def test_verify_does_catch_a_typo(tmp_path):
    text = UNITS[0].read_text().replace("ProtectSystem=strict", "ProtectSytem=strict")
    result = verify(text, UNITS[0].name, tmp_path)
    assert "Unknown key" in result.stderr and "ProtectSytem" in result.stderr


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_unit_promises(unit):
    s = settings(unit)
    for key, value in {"Type": "notify", "Restart": "on-failure", "WatchdogSec": "10", "User": "ventriloquist",
                       "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
                       "NoNewPrivileges": "yes", "DevicePolicy": "closed", "StandardError": "journal",
                       "WantedBy": "multi-user.target"}.items():
        assert s.get(key) == [value], key
    allowed = {v.split()[0] for v in s["DeviceAllow"]}
    assert {"char-alsa", "char-ttyACM", "char-ttyUSB"} <= allowed
    assert "/etc/ventriloquist/config.toml" in s["ExecStart"][0]
    groups = set(s["SupplementaryGroups"][0].split())
    assert {"audio", "dialout"} <= groups
    if "kiosk" in unit.name:
        assert {"char-drm", "char-fb"} <= allowed and "video" in groups
        assert "SDL_VIDEODRIVER=kmsdrm" in s["Environment"]
    else:
        assert "char-drm" not in allowed


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_exec_start_is_accepted_by_the_cli(unit):
    from ventriloquist.device.cli import COMMANDS, build_parser

    argv = shlex.split(settings(unit)["ExecStart"][0])
    assert argv[0] == INSTALLED_BIN and argv[1] in {name for name, _, _ in COMMANDS}
    args = build_parser().parse_args(argv[1:])
    assert str(args.config) == "/etc/ventriloquist/config.toml"


_RULE_ITEM = re.compile(r'^(?P<key>[A-Z_]+)(\{[^}]+\})?(?P<op>==|!=|\+=|-=|:=|=)"(?P<value>[^"]*)"$')
_MATCH_KEYS = {"ACTION", "SUBSYSTEM", "KERNEL", "ENV", "ATTRS", "ATTR", "DRIVERS", "TAG"}
_ASSIGN_KEYS = {"SYMLINK", "GROUP", "MODE", "OPTIONS", "TAG", "IMPORT", "GOTO", "LABEL", "ENV", "OWNER"}


def rules(path: Path) -> list[list[re.Match]]:
    """Each rule (continuation lines joined) as its parsed KEY OP "value" items; fails on anything else."""
    text = re.sub(r"\\\n\s*", "", path.read_text())
    out = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        items = [item.strip() for item in line.split(",")]
        parsed = [_RULE_ITEM.match(item) for item in items]
        assert all(parsed), f"{path.name}: cannot parse {line!r}"
        for m in parsed:
            assert m["key"] in (_MATCH_KEYS if m["op"] in ("==", "!=") else _ASSIGN_KEYS), line
        out.append(parsed)
    return out


def test_udev_rule_names_the_maestro_and_arduino_boards():
    assert RULES, "no udev rule in deploy/udev"
    parsed = [r for path in RULES for r in rules(path)]
    servo_rules = [r for r in parsed if any(m["key"] == "SYMLINK" for m in r)]
    assert all(any(m["value"] == "ventriloquist-servo" for m in r if m["key"] == "SYMLINK") for r in servo_rules)
    vendors = {m["value"] for r in servo_rules for m in r if m.group(0).startswith("ENV{ID_VENDOR_ID}==")}
    assert "1ffb" in vendors and any("2341" in v for v in vendors)
    maestro = next(r for r in servo_rules if any(m["value"] == "1ffb" for m in r))
    assert any(m.group(0) == 'ENV{ID_USB_INTERFACE_NUM}=="00"' for m in maestro), "Maestro: the Command Port only"
    labels = {m["value"] for r in parsed for m in r if m["key"] == "LABEL"}
    assert {m["value"] for r in parsed for m in r if m["key"] == "GOTO"} <= labels
