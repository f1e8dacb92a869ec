"""`ventriloquist bench cost`: the workloads callgrind counts, run here without it, and the Pi arithmetic.
(The counts themselves come from `ventriloquist bench cost`, which takes minutes under valgrind.)"""

from __future__ import annotations

from conftest import REPO

from ventriloquist.device.bench_cost import PI_CORES, role_figures, run_face, run_live


def test_the_live_workload_runs_the_pipeline_in_20_ms_chunks_into_the_servo_link():
    counters = run_live(1.0, str(REPO / "deploy" / "servos.example.toml"))
    assert counters.chunks == 50 and abs(counters.audio_s - 1.0) < 1e-9
    assert counters.frames > 0 and counters.dropped == 0


def test_the_idle_live_workload_processes_nothing():
    assert run_live(0.0).chunks == 0


def test_the_face_workload_draws_at_the_kiosk_size():
    run_face(2, 800, 480)  # raises on a face that cannot be laid out at that size


def test_roles_are_put_against_their_goals_on_each_board():
    pi4_core = PI_CORES["pi4"][0] * PI_CORES["pi4"][1]
    zero_core = PI_CORES["pi_zero_2w"][0] * PI_CORES["pi_zero_2w"][1]
    figures = role_figures({"kiosk": 0.25 * pi4_core, "puppet": 0.15 * zero_core})
    by = {(f["role"], f["board"]): f for f in figures}
    assert len(figures) == 2 * len(PI_CORES)
    assert by["kiosk", "pi4"]["value"] == 25.0 and by["kiosk", "pi4"]["goal_percent"] == 25.0
    assert by["puppet", "pi_zero_2w"]["value"] == 15.0 and by["puppet", "pi_zero_2w"]["goal_percent"] == 15.0
    assert "goal_percent" not in by["kiosk", "pi5"]
    assert by["kiosk", "pi5"]["value"] < by["kiosk", "pi4"]["value"] < by["kiosk", "pi_zero_2w"]["value"]


def test_the_face_workload_draws_the_photo_face():
    run_face(2, 480, 320, photo=True)  # the cartoon's neutral face as a photo, warped by the FAPs
