"""Landmarks -> FAPs: pose removal, FAP signs and FAPU on a known face shape (no tracker needed)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import shared_path

from ventriloquist.device.fap import ANIMATION_SUBSET
from ventriloquist.training.corpus.landmarks_to_fap import (
    FEATURE_POINTS,
    estimate_neutral,
    faps_from_landmarks,
    similarity_align,
    to_mpeg4_axes,
)

pytestmark = pytest.mark.slow  # the face tracker on real video


@pytest.fixture(scope="module")
def face(tmp_path_factory) -> np.ndarray:
    """A real face (478, 3) in MPEG-4 axes: the first frame of a GRID clip, tracked by MediaPipe in .venv-track."""
    from ventriloquist.device.errors import VentriloquistError
    from ventriloquist.training.corpus.tracker import run_tracker, track_python

    video = shared_path("data", "grid_s1", "video", "bbaf2n.mp4")
    try:
        python = track_python()
    except VentriloquistError as e:
        pytest.skip(str(e))
    out = tmp_path_factory.mktemp("face") / "marks.npz"
    assert "error" not in run_tracker([(video, out)], python)[str(video)]
    with np.load(out) as z:
        return to_mpeg4_axes(z["landmarks"][0])


def _rotation(yaw_rad: float, pitch_rad: float, roll_rad: float) -> np.ndarray:
    cy, sy, cp, sp, cr, sr = np.cos(yaw_rad), np.sin(yaw_rad), np.cos(pitch_rad), np.sin(pitch_rad), np.cos(
        roll_rad), np.sin(roll_rad)  # fmt: skip
    yaw = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    pitch = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    roll = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return yaw @ pitch @ roll


def test_similarity_align_undoes_head_pose(face):
    moved = 1.3 * face @ _rotation(0.3, -0.2, 0.15).T + np.array([40.0, -12.0, 7.0])
    aligned, scale = similarity_align(moved[None].astype(np.float32), face)
    assert np.allclose(aligned[0], face, atol=1e-2) and np.isclose(scale[0], 1 / 1.3, rtol=1e-4)


def test_fap_signs_follow_mpeg4(face):
    """Opening the mouth gives negative lower_t_midlip and raise_b_midlip; the pose does not matter."""
    neutral = estimate_neutral(np.repeat(face[None], 8, axis=0), np.ones(8, bool))
    open_mouth = neutral.shape.copy()
    mns = neutral.fapu.mns
    open_mouth[FEATURE_POINTS["2.2"], 1] += 30 * mns  # upper inner lip up 30 MNS
    open_mouth[FEATURE_POINTS["2.3"], 1] -= 200 * mns  # lower inner lip down 200 MNS
    open_mouth[FEATURE_POINTS["2.4"], 0] += 50 * neutral.fapu.mw  # left corner out 50 MW
    open_mouth[FEATURE_POINTS["2.1"], 1] -= 150 * mns  # chin down 150 MNS
    posed = 0.8 * open_mouth @ _rotation(-0.25, 0.1, 0.05).T + 5.0
    track = faps_from_landmarks(np.stack([neutral.shape, posed]), neutral)
    column = {f: ANIMATION_SUBSET.index(f) for f in (3, 4, 5, 6)}
    assert np.allclose(track.values[0], 0, atol=1e-2)
    assert np.allclose(track.values[1, [column[4], column[5], column[6], column[3]]], [-30, -200, 50, 150], atol=1.0)


def test_lost_frames_stay_nan(face):
    neutral = estimate_neutral(np.repeat(face[None], 8, axis=0), np.ones(8, bool))
    frames = np.stack([face, np.full_like(face, np.nan), face])
    track = faps_from_landmarks(frames, neutral)
    assert track.mask.tolist() == [True, False, True] and np.isnan(track.values[1]).all()


def test_left_means_the_face_own_left(face):
    """In MPEG-4 axes the face's left eye (3.5) lies at larger x than its right eye (3.6); +y is up."""
    assert face[FEATURE_POINTS["3.5"], 0] > face[FEATURE_POINTS["3.6"], 0]
    assert face[FEATURE_POINTS["3.5"], 1] > face[FEATURE_POINTS["2.1"], 1]
