"""`corpus prepare`: sources -> tracked, FAP-coded, manifest-listed corpus entries; resumable and parallel.

Three phases: (1) per clip, in parallel: probe, extract audio, track landmarks (cached files);
(2) per speaker: the neutral face and its FAPU (kept in corpus.json and reused on resume);
(3) per clip: FAP track written, then its manifest line appended. Bad clips are reported and skipped.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ventriloquist.device.bundle import load_bundle
from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.fap import ANIMATION_SUBSET, Fapu
from ventriloquist.training.corpus import manifest as mf
from ventriloquist.training.corpus.ema import ema_id, find_ema, read_ema
from ventriloquist.training.corpus.engines import check_engine, run_tasks
from ventriloquist.training.corpus.grid import GRID_LICENCE, find_grid
from ventriloquist.training.corpus.landmarks_to_fap import (
    FEATURE_POINTS,
    Neutral,
    estimate_neutral,
    faps_from_landmarks,
    to_mpeg4_axes,
)
from ventriloquist.training.corpus.sync import SpeechSignal, bundle_opening, estimate_offset, speech_envelope
from ventriloquist.training.corpus.tracker import run_tracker, track_python
from ventriloquist.training.corpus.videos import SPLIT_RULE, USER_LICENCE, Clip, extract_audio, find_videos, probe_video

SOURCE_FORM = re.compile(r"^(grid|video|ema)(?:@(sentence|train|heldout|eval))?:(.+)$")
DEFAULT_SPLIT = {"grid": None, "video": "sentence", "ema": "eval"}
"""None: the importer decides (GRID: a named speaker's folder is split by sentence, other speakers are eval)."""
SILENCE_MARGIN_S = 0.1
"""Frames this close to an aligned word are not taken as silent."""
ENERGY_WINDOW_S = 0.04
SILENT_FRACTION = 0.25
"""Energy-based silence: below noise floor + this share of the floor-to-speech range (dB)."""
MAX_CHUNK_CLIPS = 20
"""Clips per tracker worker start (MediaPipe start-up is paid once per chunk)."""
CORPUS_FORMAT = 1


@dataclass(frozen=True)
class PrepareSettings:
    """How to prepare a corpus."""

    out: Path
    jobs: int = os.cpu_count() or 1
    engine: str = "local"
    min_face_found: float = 0.5
    """Clips with a face in fewer frames than this fraction are skipped."""
    max_neutral_clips: int = 100
    """At most this many clips of a speaker feed the neutral-face estimate."""
    speaker: str | None = None
    """Speaker name for plain video sources (default: the folder name)."""
    licence: str = USER_LICENCE
    """Licence recorded for plain video sources."""
    sync_bundle: Path | None = None
    """Match each training-split clip's mouth against this bundle's predicted lip opening, not the speech band's
    loudness, to find its audio offset (sync.bundle_opening); held-out and eval clips keep the speech band, so a
    bundle never picks the offsets of the clips that score it."""


@dataclass
class Summary:
    """What one run did."""

    added: list[str] = field(default_factory=list)
    already: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    wall_s: float = 0.0


def parse_source(text: str, settings: PrepareSettings) -> tuple[list[Clip], list[Path]]:
    """Clips and EMA files named by one SOURCE: PATH, grid:PATH, video:PATH, ema:PATH (optionally IMPORTER@SPLIT:)."""
    match = SOURCE_FORM.match(text)
    importer, split, path = match.groups() if match else ("video", None, text)
    path = Path(path)
    split = split or DEFAULT_SPLIT[importer]
    if importer == "grid":
        return find_grid(path, split), []
    if importer == "ema":
        return [], find_ema(path)
    assert split is not None  # DEFAULT_SPLIT["video"]
    return find_videos(path, settings.speaker, split, settings.licence), []


def track_task(task: dict) -> list[dict]:
    """One engine task: audio + landmarks for a few clips; returns {"id", "error"?} per clip."""
    root, python = Path(task["root"]), Path(task["python"])
    results, jobs = {}, {}
    for clip in task["clips"]:
        paths = mf.entry_paths(clip["id"])
        wav, marks = root / paths["audio"], root / paths["landmarks"]
        try:
            info = probe_video(Path(clip["video"]))
            if not info.has_video:
                raise VentriloquistError("no video stream")
            if not info.has_audio:
                raise VentriloquistError("no audio track")
            if not wav.exists():
                extract_audio(Path(clip["video"]), wav)
        except VentriloquistError as e:
            results[clip["id"]] = {"id": clip["id"], "error": str(e)}
            continue
        if marks.exists():
            results[clip["id"]] = {"id": clip["id"]}
        else:
            jobs[clip["video"]] = (clip["id"], marks)
    if jobs:
        tracked = run_tracker([(Path(v), out) for v, (_, out) in jobs.items()], python)
        for video, (clip_id, _) in jobs.items():
            error = tracked[video].get("error")
            results[clip_id] = {"id": clip_id, **({"error": f"tracking failed: {error}"} if error else {})}
    return list(results.values())


def silent_frames(samples: np.ndarray, rate_hz: int, times_s: np.ndarray, words) -> np.ndarray:
    """Frames without speech: away from aligned words when there are any, else by audio energy."""
    if words:
        speech = np.zeros(len(times_s), bool)
        for start, end, _ in words:
            speech |= (times_s >= start - SILENCE_MARGIN_S) & (times_s <= end + SILENCE_MARGIN_S)
        return ~speech
    half = max(1, int(ENERGY_WINDOW_S * rate_hz / 2))
    centres = np.clip((times_s * rate_hz).astype(int), 0, max(len(samples) - 1, 0))
    power = np.array([np.mean(samples[max(c - half, 0) : c + half] ** 2) if len(samples) else 0.0 for c in centres])
    db = 10 * np.log10(power + 1e-12)
    floor, peak = np.percentile(db, 10), np.percentile(db, 95)
    return db < floor + SILENT_FRACTION * (peak - floor)


def _load_landmarks(path: Path) -> tuple[np.ndarray, float, np.ndarray]:
    """(shapes, nominal fps, each frame's time): the decoder's timestamps, else frame index / fps."""
    with np.load(path) as z:
        shapes, fps = to_mpeg4_axes(z["landmarks"]), float(z["fps"])
        times_s = z["times_s"] if "times_s" in z.files else _frame_times(len(shapes), fps)
    if len(times_s) != len(shapes) or not np.all(np.diff(times_s) > 0):
        times_s = _frame_times(len(shapes), fps)  # timestamps missing or not increasing: trust the nominal rate
    return shapes, fps, np.asarray(times_s, np.float64)


def _frame_times(n: int, fps: float) -> np.ndarray:
    return np.arange(n) / fps if fps > 0 else np.zeros(n)


def _neutral_for(speaker: str, clips: list[Clip], root: Path, settings: PrepareSettings) -> Neutral:
    """The speaker's neutral face: from corpus.json's record if there is one, else estimated now."""
    path = root / "neutral" / f"{speaker}.npz"
    if path.exists():
        with np.load(path) as z:
            return Neutral(z["shape"], Fapu(*(float(v) for v in z["fapu"])), int(z["n_frames"]))
    chosen = clips[:: max(1, -(-len(clips) // settings.max_neutral_clips))]
    shapes, silent = [], []
    for clip in chosen:
        paths = mf.entry_paths(clip.id)
        shape, _, times_s = _load_landmarks(root / paths["landmarks"])
        samples, rate_hz = mf.read_wav(root / paths["audio"])
        shapes.append(shape)
        silent.append(silent_frames(samples, rate_hz, times_s, clip.words))
    neutral = estimate_neutral(np.concatenate(shapes), np.concatenate(silent))
    mf.save_npz(path, shape=neutral.shape, fapu=np.array(list(neutral.fapu.as_dict().values())),
                n_frames=np.int64(neutral.n_frames))  # fmt: skip
    return neutral


def _no_face(face_found: float, settings: PrepareSettings) -> str:
    if face_found == 0:
        return "no face found in any frame"
    return f"a face in only {100 * face_found:.0f}% of frames (need {100 * settings.min_face_found:.0f}%)"


def _write_clip(clip: Clip, neutral: Neutral, root: Path, settings: PrepareSettings,
                bundle_signal: tuple[SpeechSignal, str] | None) -> dict:
    """The FAP track of one tracked clip, written; returns its manifest row (or raises for a bad clip)."""
    paths = mf.entry_paths(clip.id)
    shapes, fps, times_s = _load_landmarks(root / paths["landmarks"])
    if fps <= 0:
        raise VentriloquistError("the video does not say its frame rate")
    track = faps_from_landmarks(shapes, neutral)
    face_found = float(track.mask.mean())
    if face_found < settings.min_face_found:
        raise VentriloquistError(_no_face(face_found, settings))
    samples, rate_hz = mf.read_wav(root / paths["audio"])
    opening = -(track.values[:, track.faps.index(4)] + track.values[:, track.faps.index(5)])
    # a bundle syncs training clips only: it never picks the offsets of the clips that score it
    speech, synced_by = bundle_signal if bundle_signal and clip.split == "train" else (speech_envelope, "speech band")
    sync = estimate_offset(samples, rate_hz, np.where(track.mask, opening, np.nan), times_s, speech)
    times_s = times_s + sync.offset_s  # the mouth track on the audio's clock
    mf.save_npz(root / paths["faps"], values=track.values, mask=track.mask, times_s=times_s,
                faps=np.array(track.faps, np.int32), fapu=np.array(list(neutral.fapu.as_dict().values())),
                feature_points=track.feature_points, feature_point_names=np.array(list(FEATURE_POINTS)),
                scale=track.scale)  # fmt: skip
    return {
        "id": clip.id, "speaker": clip.speaker, "source": clip.source, "licence": clip.licence, "split": clip.split,
        "audio": paths["audio"], "faps": paths["faps"], "landmarks": paths["landmarks"], "video": str(clip.video),
        "fps": fps, "n_frames": len(shapes), "face_found": round(face_found, 4),
        "duration_s": round(len(samples) / rate_hz, 4), "words": [list(w) for w in clip.words], "phones": [],
        "ema": None, **sync.as_row(), "av_sync_by": synced_by,
    }  # fmt: skip


def _write_ema(path: Path, root: Path) -> dict:
    rec = read_ema(path)
    paths = mf.entry_paths(rec.id)
    mf.atomic_write_bytes(root / paths["audio"], mf.wav_bytes(rec.samples, mf.AUDIO_RATE_HZ))
    mf.save_npz(root / paths["ema"], rate_hz=np.float64(rec.rate_hz), **rec.tracks)
    return {
        "id": rec.id, "speaker": rec.speaker, "source": rec.source, "licence": rec.licence, "split": "eval",
        "audio": paths["audio"], "faps": None, "ema": paths["ema"], "fps": None, "n_frames": None,
        "face_found": None, "duration_s": round(len(rec.samples) / mf.AUDIO_RATE_HZ, 4),
        "words": [list(w) for w in rec.words], "phones": [list(p) for p in rec.phones], "ema_rate_hz": rec.rate_hz,
        "recording": str(path.resolve()),
    }  # fmt: skip


def _options(settings: PrepareSettings, sync_name: str | None) -> dict:
    """The options a source is prepared with, as corpus.json records them (None: the option was not given)."""
    return {"licence": settings.licence if settings.licence != USER_LICENCE else None,
            "speaker": settings.speaker, "sync_bundle": sync_name}


def option_flags(options: dict) -> str:
    """Recorded options as the `corpus prepare` flags that give them ("" for none)."""
    return " ".join(f"--{k.replace('_', '-')} {shlex.quote(v)}" for k, v in options.items() if v is not None)


def _check_resumed_options(root: Path, found: dict[str, list[str]], done: set[str], options: dict) -> None:
    """A source whose clips are already in the corpus keeps the options they were made with: a resumed run skips
    those clips, so other options would leave corpus.json (and a model card's reproduce lines) telling a lie."""
    recorded = mf.load_corpus_info(root).get("source_options", {})
    for source, ids in found.items():
        was = recorded.get(source)
        if was is not None and was != options and done.intersection(ids):
            raise VentriloquistError(
                f"{source}: already prepared in {root} with {option_flags(was) or 'no options'}, "
                f"not {option_flags(options) or 'no options'}; "
                "prepare it into a new --out to change that"
            )


def _write_info(root: Path, settings: PrepareSettings, sources: list[str], neutrals: dict[str, Neutral],
                sync_name: str | None) -> None:
    """corpus.json: split definition and membership, speakers' FAPU, settings, credits, and the options each
    source was prepared with (a model card's reproduce lines need them)."""
    info = mf.load_corpus_info(root)
    options = _options(settings, sync_name)
    source_options = {**info.get("source_options", {}), **{src: options for src in sources}}
    rows = mf.read_manifest_lines(root)
    speakers = info.get("speakers", {})
    for speaker, neutral in neutrals.items():
        speakers[speaker] = {"fapu": neutral.fapu.as_dict(), "fapu_unit": "video pixels at the neutral face's scale",
                             "neutral": f"neutral/{speaker}.npz", "neutral_frames": neutral.n_frames}  # fmt: skip
    info.update({
        "format": CORPUS_FORMAT,
        "faps": list(ANIMATION_SUBSET),
        "audio_rate_hz": mf.AUDIO_RATE_HZ,
        "tracker": "MediaPipe FaceMesh, 478 landmarks (refine_landmarks); versions in constraints-track.txt",
        "split": {"rule": SPLIT_RULE, "grid_speakers_and_ema": "eval",
                  **{s: sorted(r["id"] for r in rows if r["split"] == s) for s in mf.SPLITS}},
        "speakers": speakers,
        "sources": sorted(set(info.get("sources", [])) | set(sources)),
        "source_options": dict(sorted(source_options.items())),
        "settings": {k: str(v) for k, v in asdict(settings).items() if k not in ("out",)},
        "licences": sorted({r["licence"] for r in rows}),
        "credit": GRID_LICENCE if any(r["source"] == "grid" for r in rows) else None,
    })  # fmt: skip
    mf.write_json(root / mf.CORPUS_INFO, info)


def prepare(sources: list[str], settings: PrepareSettings) -> Summary:
    """Prepare (or resume) a corpus in settings.out from the named sources."""
    started = time.monotonic()
    check_engine(settings.engine)
    bundle = load_bundle(settings.sync_bundle) if settings.sync_bundle else None
    sync_name = bundle.name if bundle else None
    bundle_signal = (bundle_opening(bundle), f"bundle {sync_name}") if bundle else None
    root = Path(settings.out)
    clips, ema_files, found = [], [], {}
    for source in sources:
        found_clips, found_ema = parse_source(source, settings)
        clips += found_clips
        ema_files += found_ema
        found[source] = [c.id for c in found_clips] + [ema_id(p) for p in found_ema]
    done = {row["id"] for row in mf.read_manifest_lines(root)}
    _check_resumed_options(root, found, done, _options(settings, sync_name))
    root.mkdir(parents=True, exist_ok=True)
    summary = Summary(already=sum(c.id in done for c in clips))
    todo = [c for c in clips if c.id not in done]
    if todo:
        python = track_python()
        size = max(1, min(MAX_CHUNK_CLIPS, -(-len(todo) // max(1, settings.jobs))))
        tasks = [{"root": str(root), "python": str(python),
                  "clips": [{"id": c.id, "video": str(c.video)} for c in todo[i : i + size]]}
                 for i in range(0, len(todo), size)]  # fmt: skip
        with tqdm(total=len(todo), desc="track", unit="clip") as bar:
            for results in run_tasks(settings.engine, track_task, tasks, settings.jobs):
                summary.skipped.update({r["id"]: r["error"] for r in results if "error" in r})
                bar.update(len(results))
    for clip in todo:
        if clip.id not in summary.skipped:
            with np.load(root / mf.entry_paths(clip.id)["landmarks"]) as z:
                face_found = float(z["found"].mean())
            if face_found < settings.min_face_found:
                summary.skipped[clip.id] = _no_face(face_found, settings)
    tracked = [c for c in todo if c.id not in summary.skipped]
    by_speaker: dict[str, list[Clip]] = {}
    for clip in clips:  # every clip of a speaker with landmarks may inform its neutral face
        if clip.id not in summary.skipped and (root / mf.entry_paths(clip.id)["landmarks"]).exists():
            by_speaker.setdefault(clip.speaker, []).append(clip)
    neutrals = {}
    for speaker in sorted({c.speaker for c in tracked}):
        try:
            neutrals[speaker] = _neutral_for(speaker, by_speaker[speaker], root, settings)
        except VentriloquistError as e:
            summary.skipped.update({c.id: f"speaker {speaker}: {e}" for c in tracked if c.speaker == speaker})
    _write_info(root, settings, sources, neutrals, sync_name)
    for clip in tqdm([c for c in tracked if c.speaker in neutrals], desc="faps", unit="clip"):
        try:
            mf.append_manifest(root, _write_clip(clip, neutrals[clip.speaker], root, settings, bundle_signal))
            summary.added.append(clip.id)
        except (VentriloquistError, OSError, ValueError) as e:
            summary.skipped[clip.id] = str(e)
    for path in ema_files:
        if ema_id(path) in done:
            summary.already += 1
            continue
        try:
            mf.append_manifest(root, _write_ema(path, root))
            summary.added.append(ema_id(path))
        except VentriloquistError as e:
            summary.skipped[ema_id(path)] = str(e)
    _write_info(root, settings, sources, neutrals, sync_name)
    skipped = "".join(json.dumps({"id": k, "reason": v}) + "\n" for k, v in sorted(summary.skipped.items()))
    mf.atomic_write_bytes(root / mf.SKIPPED, skipped.encode())
    summary.wall_s = time.monotonic() - started
    return summary
