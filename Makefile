# Two set-up commands for a person: `make demo` and `make test`. Both call `make setup`.
PYTHON ?= python3.11
VENV := .venv
VENV_TRACK := .venv-track
BIN := $(VENV)/bin
APT_PACKAGES := ffmpeg portaudio19-dev libportaudio2 alsa-utils libasound2-plugins pulseaudio sox espeak-ng systemd gcc
APT_OPTIONAL := gcc-avr avr-libc simavr

.PHONY: setup setup-apt setup-track demo test lint bench clean

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

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q -c constraints.txt -e '.[device,train,cluster,test]'
	touch $@

# The face tracker needs numpy<2 and protobuf<5: its own venv, used by `corpus prepare`.
setup-track: $(VENV_TRACK)/bin/.installed
$(VENV_TRACK)/bin/.installed: pyproject.toml constraints-track.txt
	$(PYTHON) -m venv $(VENV_TRACK)
	$(VENV_TRACK)/bin/pip install -q -U pip
	$(VENV_TRACK)/bin/pip install -q -c constraints-track.txt -e '.[track,tflite]'
	touch $@

demo: setup
	$(BIN)/ventriloquist demo

test: setup lint
	$(BIN)/python -m pytest -q

lint: $(BIN)/.installed
	$(BIN)/ruff check ventriloquist deploy tests

bench: setup
	$(BIN)/ventriloquist bench

clean:
	rm -rf $(VENV) $(VENV_TRACK) out
