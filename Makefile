# Two set-up commands for a person: `make demo` and `make test`. Both call `make setup`.
PYTHON ?= python3
# tensorflow-cpu 2.21.0 and mediapipe 0.10.21 have wheels for CPython 3.11 and 3.12, not 3.13 (Debian 13's):
# .venv and .venv-track use $(PYTHON) when it is one of those, else the first such Python here (PATH, pyenv).
WORK_PYTHONS := 3.11 3.12
WORK_PYTHON := $(shell for p in $(PYTHON) $(foreach v,$(WORK_PYTHONS),python$(v) \
  $(wildcard $(HOME)/.pyenv/versions/$(v).*/bin/python$(v))); do $$p -c 'import sys, ensurepip; \
  sys.exit("%d.%d" % sys.version_info[:2] not in "$(WORK_PYTHONS)".split())' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
VENV_TRACK := .venv-track
BIN := $(VENV)/bin
APT_PACKAGES := ffmpeg portaudio19-dev libportaudio2 alsa-utils libasound2-plugins pulseaudio sox espeak-ng systemd gcc
APT_OPTIONAL := gcc-avr avr-libc simavr

.PHONY: setup setup-apt setup-track demo test check lint bench pi-check clean

setup: setup-apt $(BIN)/.installed setup-track

# Debian packages: installed only when missing (needs root or sudo).
setup-apt:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi; \
	opt=$$(for p in $(APT_OPTIONAL); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$opt" ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$opt >/dev/null 2>&1 || echo "optional packages not installed: $$opt"; \
	fi

# One line when $(PYTHON) cannot carry the workstation venvs, and which Python does instead.
define check_work_python
	@[ -n "$(WORK_PYTHON)" ] || { echo "make: error: no Python $(WORK_PYTHONS) with venv here, which tensorflow-cpu \
	and mediapipe need: apt install python3.11-venv, or pyenv install 3.11" >&2; exit 2; }
	@[ "$(WORK_PYTHON)" = "$(PYTHON)" ] || echo "$(PYTHON) is not one of Python $(WORK_PYTHONS) (no tensorflow-cpu or \
	mediapipe wheels for it): $1 uses $(WORK_PYTHON)"
endef

$(BIN)/.installed: pyproject.toml constraints.txt
	$(call check_work_python,$(VENV))
	$(WORK_PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q -c constraints.txt -e '.[device,train,cluster,test]'
	touch $@

# The face tracker needs numpy<2 and protobuf<5: its own venv, used by `corpus prepare`.
setup-track: $(VENV_TRACK)/bin/.installed
$(VENV_TRACK)/bin/.installed: pyproject.toml constraints-track.txt
	$(call check_work_python,$(VENV_TRACK))
	$(WORK_PYTHON) -m venv $(VENV_TRACK)
	$(VENV_TRACK)/bin/pip install -q -U pip
	$(VENV_TRACK)/bin/pip install -q -c constraints-track.txt -e '.[track,tflite]'
	touch $@

demo: setup
	$(BIN)/ventriloquist demo

# Every test. pytest's own exit status stands: 5 (no test collected) fails the target too.
test: setup lint
	$(BIN)/python -m pytest -q

# The fast tier (under a minute): every test not marked slow, hardware or network (pyproject.toml says which
# is which). An extra for working on the code; `make test` runs these and the rest.
check: lint
	$(BIN)/python -m pytest -q -m "not slow and not hardware and not network"

# Style and types: ruff on the code, tests and deploy scripts; mypy on the package ([tool.mypy] in pyproject.toml).
lint: $(BIN)/.installed
	$(BIN)/ruff check ventriloquist deploy tests
	$(BIN)/mypy

bench: setup
	$(BIN)/ventriloquist bench

# The kit on arm64 Debian 12 and 13 under qemu, network cut (needs root; slow, so not part of `make test`).
pi-check: APT_PACKAGES += debootstrap qemu-user-static
pi-check: setup
	$(BIN)/python deploy/pi_check.py

clean:
	rm -rf $(VENV) $(VENV_TRACK) out
