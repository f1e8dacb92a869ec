"""Face tracking worker (MediaPipe FaceMesh, offline) that runs in its own venv, .venv-track.

MediaPipe needs numpy<2 and protobuf<5, which clash with the training venv, so the main
process starts `.venv-track/bin/python -m ventriloquist.training.corpus.tracker` and talks JSON lines:
one job per stdin line, one result per stdout line. A video job {"video": PATH, "out": PATH}
writes an .npz of raw landmarks (n_frames, 478, 3) float32 in pixels (x right, y down,
z = MediaPipe depth x width; NaN where no face), `found` (n,) bool, fps, `times_s` (n,) (each
frame's decoder timestamp: phone and web videos are often variable-rate), width, height,
written to a temporary name and renamed into place. An image job {"image": PATH} answers on its
line: the image's size, every face the detector found (boxes in pixels) and, when there is
exactly one, its landmarks (478, 3) as above (see `find_faces`).

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
FULL_RANGE_DETECTOR = 1
"""MediaPipe's face detector for faces up to 5 m away, so a small face in a large photo is still found."""
CROP_MARGIN = 0.5
"""A found face is meshed in its detector box grown by this share of its size on each side."""
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


def find_faces(image: Path) -> dict:
    """Faces in a still image: {"width", "height", "faces": [[x, y, w, h, score], ...] (pixels),
    "landmarks": (478, 3) as a list, or None unless exactly one face was found and meshed}.

    The pixels are read as stored (EXIF orientation ignored), as pygame shows them; raises ValueError
    when the file is not an image.
    """
    import cv2
    import mediapipe as mp

    bgr = cv2.imread(str(image), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if bgr is None:
        raise ValueError("OpenCV cannot read it as an image (missing, corrupt or an unsupported format)")
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    height, width = rgb.shape[:2]
    with mp.solutions.face_detection.FaceDetection(
        model_selection=FULL_RANGE_DETECTOR, min_detection_confidence=MIN_DETECTION_CONFIDENCE
    ) as detector:
        detections = detector.process(rgb).detections or []
    faces = []
    for d in detections:
        box = d.location_data.relative_bounding_box
        faces.append([box.xmin * width, box.ymin * height, box.width * width, box.height * height, d.score[0]])
    landmarks = None
    if len(faces) == 1:
        x, y, w, h, _ = faces[0]
        x0, y0 = max(0, int(x - CROP_MARGIN * w)), max(0, int(y - CROP_MARGIN * h))
        x1, y1 = min(width, int(x + (1 + CROP_MARGIN) * w)), min(height, int(y + (1 + CROP_MARGIN) * h))
        with mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True, max_num_faces=1, refine_landmarks=True,
            min_detection_confidence=MIN_DETECTION_CONFIDENCE,
        ) as mesh:
            result = mesh.process(np.ascontiguousarray(rgb[y0:y1, x0:x1]))
        if result.multi_face_landmarks:
            marks = result.multi_face_landmarks[0].landmark[:N_LANDMARKS]
            landmarks = [(p.x * (x1 - x0) + x0, p.y * (y1 - y0) + y0, p.z * (x1 - x0)) for p in marks]
    return {"width": width, "height": height, "faces": faces, "landmarks": landmarks}


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
        key = "image" if "image" in job else "video"
        try:
            result: dict[str, object]
            if key == "image":
                result = find_faces(Path(job["image"]))
            else:
                arrays = track_video(Path(job["video"]))
                _save_atomic(Path(job["out"]), arrays)
                result = {"n_frames": int(len(arrays["found"])), "n_found": int(arrays["found"].sum())}
        except Exception as e:  # noqa: BLE001 - a bad clip is reported, the worker goes on
            result = {"error": f"{type(e).__name__}: {e}"}
        stdout.write(json.dumps({key: job[key], **result}) + "\n")
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


def run_worker(jobs: list[dict], key: str, python: Path | None = None) -> dict[str, dict]:
    """Send `jobs` to one worker process; its results by each job's `key` path ("video" or "image"),
    an "error" key where a job failed or the worker died before answering it."""
    python = python or track_python()
    repo = Path(__file__).resolve().parents[3]
    env = {**os.environ, **WORKER_ENV, "PYTHONPATH": str(repo)}
    done = subprocess.run(
        [str(python), "-m", "ventriloquist.training.corpus.tracker"],
        input="".join(json.dumps(job) + "\n" for job in jobs), capture_output=True, text=True, env=env, cwd=repo,
    )
    results = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            results[row.pop(key)] = row
    last_words = (done.stderr.strip().splitlines() or ["no message"])[-1]
    for job in jobs:
        results.setdefault(job[key], {"error": f"tracker worker exited with {done.returncode}: {last_words}"})
    return results


def run_tracker(jobs: list[tuple[Path, Path]], python: Path | None = None) -> dict[str, dict]:
    """Track each (video, out.npz) in one worker process; results by video path (an "error" key on failure)."""
    return run_worker([{"video": str(v), "out": str(o)} for v, o in jobs], "video", python)


if __name__ == "__main__":
    sys.exit(worker_main())
