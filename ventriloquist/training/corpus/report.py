"""Checks a person wants on a prepared corpus: a per-clip table (face found, FAP ranges) and a PNG per clip."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np

from ventriloquist.device.errors import VentriloquistError
from ventriloquist.device.fap import FAPS
from ventriloquist.training.corpus import manifest as mf
from ventriloquist.training.corpus.landmarks_to_fap import FEATURE_POINTS, mouth_opening

REPORT = "report.tsv"
LETTER_NAMES_NOT_BILABIAL = ("m",)
"""The letter m is said 'em': its bilabial closure comes last, not first."""
PLOTTED_FAPS = (3, 6, 7, 51, 52)


def bilabial_words(words) -> list[tuple[float, float, str]]:
    """Aligned words that begin with /b/, /p/ or /m/ (by spelling; GRID's letters b and p count)."""
    return [w for w in words if w[2][:1].lower() in "bpm" and w[2].lower() not in LETTER_NAMES_NOT_BILABIAL]


def clip_report(entry: mf.Entry) -> dict:
    """Face found % and each FAP's range over valid frames (video entries), or EMA track ranges."""
    row: dict[str, object] = {"id": entry.id, "status": "ok", "split": entry.split, "speaker": entry.speaker}
    if entry.faps is not None:
        values, mask, _, faps = entry.load_faps()
        row["face_found_pct"] = round(100 * float(mask.mean()), 1)
        row["n_frames"] = int(len(mask))
        valid = values[mask]
        for column, number in enumerate(faps):
            track = valid[:, column]
            row[f"{number}:{FAPS[number].name}"] = f"{track.min():.0f}..{track.max():.0f}" if len(track) else ""
    if entry.ema is not None:
        for name, track in entry.load_ema().items():
            if isinstance(track, np.ndarray):
                row[f"{name}_mm"] = f"{np.nanmin(track):.1f}..{np.nanmax(track):.1f}"
    return row


def write_report(root: str | Path) -> Path:
    """root/report.tsv: one row per clip, prepared or skipped (with the reason)."""
    root = Path(root)
    rows = [clip_report(entry) for entry in mf.load_manifest(root)]
    skipped = root / mf.SKIPPED
    if skipped.exists():
        for line in skipped.read_text().splitlines():
            item = json.loads(line)
            rows.append({"id": item["id"], "status": "skipped", "reason": item["reason"]})
    columns = list(dict.fromkeys(key for row in rows for key in row))
    lines = ["\t".join(columns)] + ["\t".join(str(row.get(c, "")) for c in columns) for row in rows]
    path = root / REPORT
    mf.atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())
    return path


def _video_frame(video: Path, index: int, width: int, height: int) -> np.ndarray | None:
    """One decoded frame (height, width, 3) uint8, or None when the video is not at hand."""
    done = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(video), "-vf", f"select=eq(n\\,{index})", "-vsync", "0",
         "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
    )  # fmt: skip
    if done.returncode != 0 or len(done.stdout) != width * height * 3:
        return None
    return np.frombuffer(done.stdout, np.uint8).reshape(height, width, 3)


def _show_frame(ax, frame, points: np.ndarray, title: str, mouth_only: bool) -> None:
    """A video frame with the mesh (dots) and the MPEG-4 feature points (open circles, labelled)."""
    if frame is not None:
        ax.imshow(frame)
    shown = {k: i for k, i in FEATURE_POINTS.items() if not mouth_only or k[0] in "28"}
    ax.scatter(points[:, 0], points[:, 1], s=0.5 if mouth_only else 1, c="lime", linewidths=0)
    ax.scatter(points[list(shown.values()), 0], points[list(shown.values()), 1], s=40 if mouth_only else 14,
               facecolors="none", edgecolors="red", linewidths=0.8)  # fmt: skip
    for name, i in shown.items():
        ax.annotate(name, points[i, :2], fontsize=5, color="yellow", xytext=(3, 3), textcoords="offset points")
    box = points[[FEATURE_POINTS[k] for k in shown]] if mouth_only else points
    box = box[~np.isnan(box[:, 0])]
    if len(box):
        (x0, y0), (x1, y1) = box[:, :2].min(axis=0), box[:, :2].max(axis=0)
        pad = 0.25 * max(x1 - x0, y1 - y0)
        ax.set_xlim(x0 - pad, x1 + pad)
        ax.set_ylim(y1 + pad, y0 - pad)
    ax.set_title(title, fontsize=8)
    ax.axis("off")


def plot_clip(root: str | Path, clip_id: str, png: str | Path) -> Path:
    """A PNG of one clip: tracked feature points on two video frames (mouth most open, bilabial
    closure) and the FAP tracks over time with the aligned words; bilabial words are shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    root, png = Path(root), Path(png)
    entries = {e.id: e for e in mf.load_manifest(root)}
    if clip_id not in entries or entries[clip_id].faps is None:
        raise VentriloquistError(f"{root}: no video clip {clip_id!r} in the manifest")
    entry = entries[clip_id]
    values, mask, times_s, faps = entry.load_faps()
    with np.load(root / entry.extra["landmarks"]) as z:
        landmarks, size = z["landmarks"], (int(z["width"]), int(z["height"]))
    opening = mouth_opening(values, faps)
    outer = -(values[:, faps.index(51)] + values[:, faps.index(52)])
    labials = bilabial_words(entry.words)
    open_index = int(np.nanargmax(np.where(mask, opening, np.nan)))
    if labials:
        start = labials[0][0]
        near = np.flatnonzero(mask & (times_s >= start - 0.06) & (times_s <= start + 0.1))
        closed_index = int(near[np.argmin(opening[near])]) if len(near) else open_index
    else:
        closed_index = int(np.nanargmin(np.where(mask, opening, np.nan)))

    video = Path(entry.extra.get("video", ""))
    frames = {i: _video_frame(video, i, *size) for i in (open_index, closed_index)}
    label = f"/{labials[0][2]}/ onset" if labials else "mouth most closed"
    fig = plt.figure(figsize=(12, 8))
    grid = fig.add_gridspec(2, 3, height_ratios=(1.1, 1))
    most_open = "mouth most open"
    panels = ((open_index, most_open, False), (open_index, most_open, True), (closed_index, label, True))
    for column, (index, what, mouth_only) in enumerate(panels):
        _show_frame(fig.add_subplot(grid[0, column]), frames[index], landmarks[index],
                    f"frame {index} ({times_s[index]:.2f} s): {what}", mouth_only)  # fmt: skip
    ax = fig.add_subplot(grid[1, :])
    ax.plot(times_s, opening, lw=2, color="black", label="inner opening −(FAP4+FAP5)")
    ax.plot(times_s, outer, lw=1.5, color="tab:red", label="outer opening −(FAP51+FAP52)")
    for number in PLOTTED_FAPS[:3]:
        ax.plot(times_s, values[:, faps.index(number)], lw=1, label=f"{number} {FAPS[number].name}")
    for start, end, word in entry.words:
        bilabial = (start, end, word) in labials
        ax.axvspan(start, end, color="tab:blue" if bilabial else "0.9", alpha=0.25 if bilabial else 0.5, lw=0)
        ax.text((start + end) / 2, ax.get_ylim()[1], word, ha="center", va="top", fontsize=8,
                weight="bold" if bilabial else "normal")  # fmt: skip
    for index in np.flatnonzero(~mask).tolist():
        ax.axvline(times_s[index], color="red", alpha=0.3, lw=3)
    ax.axhline(0, color="0.5", lw=0.5)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("FAPU (MNS / MW)")
    ax.legend(fontsize=7, loc="lower right", ncol=2)
    ax.set_title(f"{entry.id} — face found {100 * mask.mean():.0f}%; blue: words that begin with /b p m/", fontsize=9)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    tmp = png.with_name(f".{png.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(png)
    return png
