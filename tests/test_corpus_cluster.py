"""`corpus prepare` on real clusters: a Dask LocalCluster and a local Ray instance, workers in their own processes.

Each run must give the corpus the local engine gives, lose nothing when a worker is killed mid-task, and a
re-run must find everything done.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
from conftest import grid_subset, need_tracker, shared_path

pytestmark = pytest.mark.slow  # Dask and Ray clusters running the face tracker

GRID_CLIPS = ("bbaf2n", "pbac2p", "lbbe2p", "bgaa6n")
JOBS = 2
MID_TASK_S = 0.5
"""How long a task has run when its worker is killed (a task takes seconds: ffmpeg, then the tracker starts)."""
KILL_DEADLINE_S = 60.0


def prepare_grid(out: Path, source: str, engine: str):
    from ventriloquist.training.corpus.prepare import PrepareSettings, prepare

    return prepare([source], PrepareSettings(out=out, jobs=JOBS, engine=engine))


def corpus_contents(root: Path) -> dict:
    """Everything a corpus holds per clip: its manifest row, audio bytes, landmarks and FAP arrays."""
    from ventriloquist.training.corpus import manifest as mf

    out = {}
    for row in mf.read_manifest_lines(root):
        arrays = {}
        for part in ("landmarks", "faps"):
            with np.load(root / row[part]) as z:
                arrays.update({f"{part}/{k}": z[k] for k in z.files})
        out[row["id"]] = (row, (root / row["audio"]).read_bytes(), arrays)
    return out


def assert_same_corpus(got: dict, want: dict) -> None:
    assert got.keys() == want.keys() and len(want) == len(GRID_CLIPS)
    for clip, (row, audio, arrays) in want.items():
        got_row, got_audio, got_arrays = got[clip]
        assert got_row == row and got_audio == audio and got_arrays.keys() == arrays.keys()
        assert all(np.array_equal(got_arrays[k], v) for k, v in arrays.items()), clip


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """The GRID source and the corpus the local engine makes of it."""
    shared_path("data", "grid_s1")
    need_tracker()
    tmp = tmp_path_factory.mktemp("cluster")
    source = f"grid:{grid_subset(tmp, GRID_CLIPS)}"
    summary = prepare_grid(tmp / "local", source, "local")
    assert not summary.skipped
    return source, corpus_contents(tmp / "local")


class Killer(threading.Thread):
    """Kills one worker process (SIGKILL) once it has run a task for MID_TASK_S; `victim` says which."""

    def __init__(self, find_busy_pid) -> None:
        super().__init__(daemon=True)
        self.find_busy_pid = find_busy_pid
        self.victim: int | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + KILL_DEADLINE_S
        while self.victim is None and not self.stop.is_set() and time.monotonic() < deadline:
            pid = self.find_busy_pid()
            if pid is not None and not self.stop.wait(MID_TASK_S) and pid == self.find_busy_pid():
                os.kill(pid, signal.SIGKILL)
                self.victim = pid
            self.stop.wait(0.1)


def run_with_a_killed_worker(find_busy_pid, prepare_run):
    killer = Killer(find_busy_pid)
    killer.start()
    try:
        summary = prepare_run()
    finally:
        killer.stop.set()
        killer.join()
    assert killer.victim is not None, "no worker was seen running a task"
    assert not psutil.pid_exists(killer.victim) or psutil.Process(killer.victim).status() == psutil.STATUS_ZOMBIE
    return summary


def test_dask_cluster_matches_local_survives_a_killed_worker_and_resumes(grid, tmp_path, monkeypatch):
    from dask.distributed import Client, LocalCluster

    from ventriloquist.training.corpus.engines import DASK_ADDRESS_ENV

    source, want = grid
    with LocalCluster(n_workers=JOBS, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        monkeypatch.setenv(DASK_ADDRESS_ENV, cluster.scheduler_address)  # an existing cluster, as a user has
        with Client(cluster) as watcher:
            pids = watcher.run(os.getpid)
            assert len(set(pids.values()) | {os.getpid()}) == JOBS + 1  # workers are separate processes

            def busy_worker_pid() -> int | None:
                busy = [addr for addr, keys in watcher.processing().items() if keys]
                return pids.get(busy[0]) if busy else None

            summary = run_with_a_killed_worker(busy_worker_pid, lambda: prepare_grid(tmp_path, source, "dask"))
            assert not summary.skipped and sorted(summary.added) == sorted(want)
            assert_same_corpus(corpus_contents(tmp_path), want)
            rerun = prepare_grid(tmp_path, source, "dask")
    assert (rerun.already, rerun.added, rerun.skipped) == (len(GRID_CLIPS), [], {})
    assert_same_corpus(corpus_contents(tmp_path), want)


def ray_task_pid() -> int | None:
    """A worker of this test's own Ray (a descendant of this process) running track_task ('ray::track_task')."""
    for proc in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if (proc.cmdline() or [""])[0].startswith("ray::track_task"):
                return proc.pid
    return None


def test_ray_matches_local_survives_a_killed_worker_and_resumes(grid, tmp_path, monkeypatch):
    from ventriloquist.training.corpus.engines import RAY_ADDRESS_ENV

    monkeypatch.delenv(RAY_ADDRESS_ENV, raising=False)
    source, want = grid
    summary = run_with_a_killed_worker(ray_task_pid, lambda: prepare_grid(tmp_path, source, "ray"))
    assert not summary.skipped and sorted(summary.added) == sorted(want)
    assert_same_corpus(corpus_contents(tmp_path), want)
    rerun = prepare_grid(tmp_path, source, "ray")
    assert (rerun.already, rerun.added, rerun.skipped) == (len(GRID_CLIPS), [], {})
