"""ventriloquist.device.config: the example file loads to the defaults, and every kind of bad file names its key."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ventriloquist.device.config import Config, ModelConfig, config_from_dict, load_config
from ventriloquist.device.errors import VentriloquistError

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "deploy" / "config.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_example_config_documents_the_defaults(tmp_path):
    (tmp_path / "bundle").mkdir()
    path = write(tmp_path, EXAMPLE.read_text().replace("/opt/ventriloquist/bundle", "bundle"))
    config = load_config(path)
    assert config.model.bundle == (tmp_path / "bundle").resolve()
    assert replace(config, path=None, model=replace(config.model, bundle=None)) == Config()


def test_empty_file_is_all_defaults(tmp_path):
    assert replace(load_config(write(tmp_path, "")), path=None) == Config()


def test_values_and_relative_paths(tmp_path):
    (tmp_path / "talk.wav").write_bytes(b"RIFF")
    (tmp_path / "servos.toml").write_text("")
    (tmp_path / "b").mkdir()
    config = load_config(write(tmp_path, """
[audio]
source = "talk.wav"
device = 2
rate_hz = 48000
volume = 0.5
[model]
bundle = "b"
smoothing_s = 0
[face]
enabled = false
style = "night"
fullscreen = false
width_px = 320
height_px = 240
fps = 25
[servos]
config = "servos.toml"
[idle]
blink_per_min = 0
motion = 1
[stream]
target = "127.0.0.1:5005"
"""))
    assert config.audio.source == str(tmp_path / "talk.wav")
    assert (config.audio.device, config.audio.rate_hz, config.audio.volume) == (2, 48000, 0.5)
    assert config.model == ModelConfig(bundle=tmp_path / "b", smoothing_s=0.0)
    assert (config.face.enabled, config.face.style, config.face.width_px, config.face.fps) == (False, "night", 320, 25)
    assert config.servos.config == tmp_path / "servos.toml"
    assert (config.idle.blink_per_min, config.idle.motion) == (0.0, 1.0)
    assert (config.stream.host, config.stream.port) == ("127.0.0.1", 5005)


def test_device_by_name_and_empty_means_default():
    assert config_from_dict({"audio": {"device": "USB"}}).audio.device == "USB"
    assert config_from_dict({"audio": {"device": ""}}).audio.device is None
    assert config_from_dict({"audio": {"source": "-"}}).audio.source == "-"


BAD = [
    ('[audio]\nsorce = "mic"\n', "audio.sorce: unknown key (did you mean 'source'?)"),
    ("[audoi]\n", "audoi: unknown key (did you mean 'audio'?)"),
    ("[face]\nflavour = 1\n", "face.flavour: unknown key"),
    ("audio = 3\n", "audio: must be a table"),
    ("[audio]\nvolume = 3\n", "audio.volume: must be a number from 0 to 1, not 3"),
    ("[audio]\nvolume = true\n", "audio.volume: must be a number"),
    ('[audio]\nsource = "missing.wav"\n', "audio.source:"),
    ("[audio]\ndevice = 1.5\n", "audio.device: must be a device index"),
    ("[audio]\ndevice = -1\n", "audio.device:"),
    ("[audio]\nrate_hz = 100\n", "audio.rate_hz: must be a whole number from 8000"),
    ("[audio]\nrate_hz = 16000.5\n", "audio.rate_hz:"),
    ('[model]\nbundle = "nowhere"\n', "model.bundle:"),
    ("[model]\nsmoothing_s = -1\n", "model.smoothing_s:"),
    ('[face]\nstyle = "fancy"\n', "face.style: unknown style 'fancy'"),
    ('[face]\nstyle = "mine.toml"\n', "face.style:"),
    ('[face]\nenabled = "yes"\n', "face.enabled: must be true or false"),
    ("[face]\nfps = 0\n", "face.fps:"),
    ("[face]\nwidth_px = 10.5\n", "face.width_px:"),
    ("[face]\nexaggerate = 11\n", "face.exaggerate: must be a number from 0 to 10"),
    ('[servos]\nconfig = "."\n', "servos.config:"),
    ("[servos]\nconfig = 7\n", "servos.config: must be a quoted string"),
    ("[idle]\nmotion = 2\n", "idle.motion:"),
    ('[stream]\ntarget = "localhost"\n', "stream.target: stream target 'localhost': expected HOST:PORT"),
    ('[stream]\ntarget = "localhost:70000"\n', "stream.target:"),
    ("[audio\n", "not valid TOML"),
]


@pytest.mark.parametrize(("text", "expected"), BAD, ids=[e for _, e in BAD])
def test_bad_config_names_file_and_key(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(VentriloquistError) as e:
        load_config(path)
    message = str(e.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message


def test_servos_config_must_be_a_file_not_a_folder(tmp_path):
    (tmp_path / "dir").mkdir()
    with pytest.raises(VentriloquistError, match=r"servos\.config: .* must be a file"):
        load_config(write(tmp_path, '[servos]\nconfig = "dir"\n'))


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(VentriloquistError, match="no such config file"):
        load_config(tmp_path / "absent.toml")
    (tmp_path / "config.toml").write_bytes(b"\xff\xfe[audio]")
    with pytest.raises(VentriloquistError, match="cannot read"):
        load_config(tmp_path / "config.toml")
