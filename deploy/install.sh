#!/usr/bin/env bash
# Install the ventriloquist appliance from an unpacked offline kit (made by build_wheelhouse.py).
# Needs no network: pip reads only the kit's wheels/. Safe to run again (an upgrade is a re-run):
# the venv is reused, the bundle is swapped in whole, an existing config.toml is never overwritten.
#
#   sudo ./install.sh [--enable kiosk|puppet|none] [--prefix /opt/ventriloquist] [--etc /etc/ventriloquist]
#   ./install.sh --no-system --prefix DIR --etc DIR --root DIR     # files only (tests, packaging)
set -euo pipefail

PREFIX=/opt/ventriloquist
ETC=/etc/ventriloquist
ROOT=/
ENABLE=kiosk
SYSTEM=1
PYTHON=python3
SERVICE_USER=ventriloquist
GROUPS_WANTED=(audio video dialout render input)
KIT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

say() { echo "install: $*"; }
die() { echo "install: error: $*" >&2; exit 1; }
usage() { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) PREFIX=$2; shift 2 ;;
        --etc) ETC=$2; shift 2 ;;
        --root) ROOT=$2; shift 2 ;;
        --enable) ENABLE=$2; shift 2 ;;
        --python) PYTHON=$2; shift 2 ;;
        --no-system) SYSTEM=0; shift ;;
        -h|--help) usage 0 ;;
        *) echo "install: unknown option $1" >&2; usage 2 ;;
    esac
done
case "$ENABLE" in kiosk|puppet|none) ;; *) die "--enable takes kiosk, puppet or none, not '$ENABLE'" ;; esac
[ "$ROOT" = / ] || { [ "$SYSTEM" = 0 ] || die "--root needs --no-system (users and services belong to the running system)"; }
[ "$SYSTEM" = 0 ] || [ "$(id -u)" = 0 ] || die "run as root (sudo), or pass --no-system to install files only"

# 1. The kit is whole and meant for this machine.
[ -d "$KIT/wheels" ] && [ -f "$KIT/TARGET" ] \
    || die "$KIT is not an unpacked kit (wheels/, TARGET): build one with deploy/build_wheelhouse.py"
(cd "$KIT" && sha256sum --quiet --strict -c SHA256SUMS) || die "the kit is damaged (SHA256SUMS does not match): copy it again"
want_machine=$(sed -n 's/^machine=//p' "$KIT/TARGET")
kit_pythons=$(sed -n 's/^pythons=//p' "$KIT/TARGET")
[ "$(uname -m)" = "$want_machine" ] || die "this kit is for $want_machine, this machine is $(uname -m)"
command -v "$PYTHON" >/dev/null || die "$PYTHON not found (Raspberry Pi OS has python3: Bookworm 3.11, Trixie 3.13)"
# The kit carries wheels for each Python it lists; the Pi's own Python picks the set.
want_python=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
REQUIREMENTS=$KIT/requirements-py$want_python.txt
[ -f "$REQUIREMENTS" ] || die "this kit carries Python ${kit_pythons// / and }; $PYTHON is $want_python (Bookworm has 3.11, Trixie 3.13)"

# pip sees the kit and nothing else: no index, no user or system pip.conf (piwheels), no cache.
while read -r var; do unset "$var"; done < <(env | sed -n 's/^\(PIP_[A-Z0-9_]*\)=.*/\1/p')
export PIP_CONFIG_FILE=/dev/null PIP_NO_INDEX=1 PIP_FIND_LINKS="$KIT/wheels" PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_PROGRESS_BAR=off

# 2. PyAudio (the microphone): Debian's package, from the local apt cache or the kit's debs/.
if ! "$PYTHON" -c 'import pyaudio' 2>/dev/null && [ "$SYSTEM" = 1 ] && command -v apt-get >/dev/null; then
    debs=()
    [ -d "$KIT/debs" ] && debs=("$KIT"/debs/*.deb)
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-download python3-pyaudio "${debs[@]}" >/dev/null 2>&1 \
        && say "installed python3-pyaudio from local packages" \
        || say "python3-pyaudio is not in the local apt cache; will try to build PyAudio (see README)"
fi

# 3. The venv: reused when its Python matches, so a re-run only adds what changed.
VENV=$PREFIX/venv
if [ -x "$VENV/bin/python" ] && [ "$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "$want_python" ]; then
    say "the venv's Python differs from $PYTHON ($want_python); making a new one"
    rm -rf "$VENV"
fi
mkdir -p "$PREFIX"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv --system-site-packages "$VENV"
"$VENV/bin/python" -m pip install -q -r "$REQUIREMENTS"
"$VENV/bin/python" -m pip install -q --no-deps --force-reinstall "$KIT"/wheels/ventriloquist-*.whl
if ! "$VENV/bin/python" -c 'import pyaudio' 2>/dev/null; then
    if ls "$KIT"/wheels/[Pp]y[Aa]udio-*.tar.gz >/dev/null 2>&1 && [ -f /usr/include/portaudio.h ] \
        && "$VENV/bin/python" -m pip install -q pyaudio >/dev/null 2>&1; then
        say "built PyAudio against portaudio19-dev"
    else
        say "warning: no PyAudio, so no microphone (file sources still work): apt install python3-pyaudio"
    fi
fi

# 4. The bundle, swapped in whole; the README the units point to.
if [ -d "$KIT/bundle" ]; then
    rm -rf "$PREFIX/.bundle.new" "$PREFIX/.bundle.old"
    cp -a "$KIT/bundle" "$PREFIX/.bundle.new"
    [ ! -e "$PREFIX/bundle" ] || mv "$PREFIX/bundle" "$PREFIX/.bundle.old"
    mv "$PREFIX/.bundle.new" "$PREFIX/bundle"
    rm -rf "$PREFIX/.bundle.old"
    "$VENV/bin/ventriloquist" verify "$PREFIX/bundle" >/dev/null || die "the installed bundle does not verify"
fi
install -m 644 "$KIT/README.md" "$PREFIX/README.md"

# 5. Config: the examples are refreshed, the live files are made once and then left to the owner.
relocate() { sed -e "s#/opt/ventriloquist#$PREFIX#g" -e "s#/etc/ventriloquist#$ETC#g" "$1"; }
put() {  # put SRC DEST MODE: relocated copy, written to a temporary name and renamed into place
    mkdir -p "$(dirname "$2")"
    relocate "$1" > "$2.tmp.$$" && chmod "$3" "$2.tmp.$$" && mv -f "$2.tmp.$$" "$2"
}
for example in config servos; do
    [ -f "$KIT/$example.example.toml" ] || continue
    put "$KIT/$example.example.toml" "$ETC/$example.toml.example" 644
    [ -e "$ETC/$example.toml" ] || { put "$KIT/$example.example.toml" "$ETC/$example.toml" 644; say "wrote $ETC/$example.toml"; }
done
"$VENV/bin/python" -c 'import sys; from ventriloquist.device.config import load_config; load_config(sys.argv[1])' "$ETC/config.toml" \
    || die "fix $ETC/config.toml (the line above names the key), then run install.sh again"

# 6. Units and the udev rule, pointed at this prefix.
for unit in "$KIT"/systemd/*.service; do put "$unit" "$ROOT/etc/systemd/system/$(basename "$unit")" 644; done
for rule in "$KIT"/udev/*.rules; do put "$rule" "$ROOT/etc/udev/rules.d/$(basename "$rule")" 644; done

# 7. The service user and the services (skipped with --no-system).
if [ "$SYSTEM" = 1 ]; then
    getent group "$SERVICE_USER" >/dev/null || groupadd --system "$SERVICE_USER"
    id -u "$SERVICE_USER" >/dev/null 2>&1 || useradd --system --gid "$SERVICE_USER" --home-dir /var/lib/ventriloquist \
        --no-create-home --shell /usr/sbin/nologin --comment "ventriloquist appliance" "$SERVICE_USER"
    for g in "${GROUPS_WANTED[@]}"; do
        ! getent group "$g" >/dev/null || usermod -a -G "$g" "$SERVICE_USER"
    done
    if command -v udevadm >/dev/null; then
        udevadm control --reload-rules || true
        udevadm trigger --subsystem-match=tty || true
    fi
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload
        for role in kiosk puppet; do
            [ "$role" = "$ENABLE" ] || systemctl disable --now "ventriloquist-$role.service" 2>/dev/null || true
        done
        if [ "$ENABLE" != none ]; then
            systemctl enable "ventriloquist-$ENABLE.service"
            systemctl restart "ventriloquist-$ENABLE.service"
            say "started ventriloquist-$ENABLE (journalctl -u ventriloquist-$ENABLE -f to watch)"
        fi
    elif [ "$ENABLE" != none ]; then
        say "systemd is not running here: enable the service on the Pi with systemctl enable ventriloquist-$ENABLE"
    fi
fi
say "done: $VENV/bin/ventriloquist doctor --config $ETC/config.toml checks the whole box"
