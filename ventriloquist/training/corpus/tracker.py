"""Face tracking worker (MediaPipe FaceMesh, offline) that runs in its own venv, .venv-track.

MediaPipe needs numpy<2 and protobuf<5, which clash with the training venv, so the main
process starts `.venv-track/bin/python -m ventriloquist.training.corpus.tracker` and talks JSON lines:
one job {"video": PATH, "out": PATH} per stdin line, one result per stdout line. Each result
file is an .npz of raw landmarks (n_frames, 478, 3) float32 in pixels (x right, y down,
z = MediaPipe depth x width; NaN where no face), `found` (n,) bool, fps, `times_s` (n,) (each
frame's decoder timestamp: phone and web videos are often variable-rate), width, height,
written to a temporary name and renamed into place.

Inside the worker only numpy, OpenCV, MediaPipe and the standard library are imported.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

N_LANDMARKS = 478
"""FaceMesh with refined eyes/irises."""
TRACK_VENV_ENV = "VENTRILOQUIST_TRACK_VENV"
"""Environment variable naming the tracker venv, overriding <repo>/.venv-track."""
MIN_DETECTION_CONFIDENCE = 0.5
MIN_TRACKING_CONFIDENCE = 0.5
WORKER_ENV = {"GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "2", "OMP_NUM_THREADS": "1"}
"""Quiet MediaPipe's logging; one thread per worker (the pool gives the parallelism)."""


def track_video(video: Path) -> dict[str, Any]:
    """Landmarks of the (single) face in every frame of `video`; raises ValueError when it cannot be decoded."""
    import cv2
    import mediapipe as mp

    capture = cv2.VideoCapture(str(video))
    if not capture.isOpened():
        raise ValueError("OpenCV cannot open the video (corrupt file or unsupported codec)")
    fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
    frames, found, times_s = [], [], []
    width = height = 0
    with mp.solutions.face_mesh.FaceMesh(
        static_image_mode=False,
        max_num_faces=1,
        refine_landmarks=True,
        min_detection_confidence=MIN_DETECTION_CONFIDENCE,
        min_tracking_confidence=MIN_TRACKING_CONFIDENCE,
    ) as mesh:
        while True:
            ok, bgr = capture.read()
            if not ok:
                break
            height, width = bgr.shape[:2]
            times_s.append(capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0)  # the frame's own timestamp (VFR video)
            result = mesh.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            points = np.full((N_LANDMARKS, 3), np.nan, np.float32)
            if result.multi_face_landmarks:
                marks = result.multi_face_landmarks[0].landmark
                points[:] = [(p.x * width, p.y * height, p.z * width) for p in marks[:N_LANDMARKS]]
            frames.append(points)
            found.append(bool(result.multi_face_landmarks))
    capture.release()
    if not frames:
        raise ValueError("no video frame could be decoded (corrupt file or unsupported codec)")
    return {
        "landmarks": np.stack(frames),
        "found": np.array(found, bool),
        "fps": np.float64(fps),
        "times_s": np.array(times_s, np.float64),
        "width": np.int32(width),
        "height": np.int32(height),
    }


def _save_atomic(path: Path, arrays: dict) -> None:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(buffer.getvalue())
    os.replace(tmp, path)


def worker_main(stdin=sys.stdin, stdout=sys.stdout) -> int:
    """Serve jobs from stdin until it closes; one JSON result line per job."""
    for line in stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        try:
            arrays = track_video(Path(job["video"]))
            _save_atomic(Path(job["out"]), arrays)
            result: dict[str, object] = {"n_frames": int(len(arrays["found"])), "n_found": int(arrays["found"].sum())}
        except Exception as e:  # noqa: BLE001 - a bad clip is reported, the worker goes on
            result = {"error": f"{type(e).__name__}: {e}"}
        stdout.write(json.dumps({"video": job["video"], **result}) + "\n")
        stdout.flush()
    return 0


def track_python() -> Path:
    """The tracker venv's python: $VENTRILOQUIST_TRACK_VENV or <repo>/.venv-track."""
    from ventriloquist.device.errors import VentriloquistError

    venv = Path(os.environ.get(TRACK_VENV_ENV) or Path(__file__).resolve().parents[3] / ".venv-track")
    python = venv / "bin" / "python"
    if not python.exists():
        raise VentriloquistError(f"face tracker venv {venv} is missing: run `make setup` (builds .venv-track)")
    return python


def run_tracker(jobs: list[tuple[Path, Path]], python: Path | None = None) -> dict[str, dict]:
    """Track each (video, out.npz) in one worker process; results by video path (an "error" key on failure)."""
    python = python or track_python()
    repo = Path(__file__).resolve().parents[3]
    payload = "".join(json.dumps({"video": str(v), "out": str(o)}) + "\n" for v, o in jobs)
    env = {**os.environ, **WORKER_ENV, "PYTHONPATH": str(repo)}
    done = subprocess.run(
        [str(python), "-m", "ventriloquist.training.corpus.tracker"],
        input=payload, capture_output=True, text=True, env=env, cwd=repo,
    )
    results = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            results[row.pop("video")] = row
    last_words = (done.stderr.strip().splitlines() or ["no message"])[-1]
    for video, _ in jobs:
        results.setdefault(str(video), {"error": f"tracker worker exited with {done.returncode}: {last_words}"})
    return results


if __name__ == "__main__":
    sys.exit(worker_main())
