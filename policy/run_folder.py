"""What process 0 writes into a run folder while it trains: the CSV log, TensorBoard scalars, the progress
bar, numbered snapshots, a checkpoint every few minutes and the learning-curve PNG."""

from __future__ import annotations

import csv
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .train import Trainer

CSV_FIELDS = ["iteration", "samples", "wall_s", "samples_per_s", "mean_reward", "mean_episode_length",
              "success_from_standing", "standing_survival_s", "standing_episodes", "mean_body_error_m",
              "value_loss", "surrogate_loss", "learning_rate", "action_std", "body_position_scale"]



def write_curve(csv_path: Path, png_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(csv_path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return
    x = np.array([float(r["samples"]) for r in rows]) / 1e6
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.6))
    keys = ("success_from_standing", "mean_reward", "mean_episode_length", "mean_body_error_m")
    labels = ("standing starts that survive clip + 2 s", "mean reward per step", "episode length (steps)",
              "mean body distance from the reference (m)")
    for ax, key, label in zip(axes, keys, labels):
        ax.plot(x, [float(r[key]) for r in rows])
        ax.set_xlabel("samples (M)")
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3)
    wall = float(rows[-1]["wall_s"]) / 60
    fig.suptitle(f"backflip training: {x[-1]:.1f}M samples, {wall:.0f} min", fontsize=10)
    fig.tight_layout()
    tmp = png_path.with_name(png_path.stem + ".tmp.png")
    fig.savefig(tmp, dpi=80)
    plt.close(fig)
    os.replace(tmp, png_path)


def _drop_rows_after(csv_path: Path, iteration: int) -> None:
    """Keep the rows up to `iteration`, under today's header (a column added since is left empty in old rows)."""
    with open(csv_path, newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        header = reader.fieldnames
    kept = [r for r in rows if int(r["iteration"]) <= iteration]
    if len(kept) < len(rows) or header != CSV_FIELDS:
        with open(csv_path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(kept)


class RunFolder:
    """Records each iteration's row of a run; append continues an existing log (rows after the trainer's
    checkpoint are dropped first: they are about to be learned again)."""

    def __init__(self, out: Path, trainer: "Trainer", append: bool, iterations: int | None, quiet: bool):
        from torch.utils.tensorboard import SummaryWriter
        from tqdm import tqdm

        self.out, self.trainer = out, trainer
        self.csv_path = out / "log.csv"
        self.checkpoint = out / "checkpoint.pt"
        new_csv = not self.csv_path.exists() or not append
        if not new_csv:
            _drop_rows_after(self.csv_path, trainer.iteration)
        self._handle = open(self.csv_path, "w" if new_csv else "a", newline="")
        self._writer = csv.DictWriter(self._handle, fieldnames=CSV_FIELDS)
        if new_csv:
            self._writer.writeheader()
        self._board = SummaryWriter(str(out / "tensorboard"))
        self._bar = tqdm(total=iterations, disable=quiet, unit="it", dynamic_ncols=True)
        self._last_save = time.time()

    def record(self, row: dict) -> None:
        trainer, cfg = self.trainer, self.trainer.cfg
        self._writer.writerow(row)
        self._handle.flush()
        for key, value in row.items():
            if key not in ("iteration", "samples"):
                self._board.add_scalar(f"train/{key}", value, row["samples"])
        self._bar.update(1)
        self._bar.set_postfix(sps=row["samples_per_s"], len=row["mean_episode_length"],
                              success=row["success_from_standing"], rew=row["mean_reward"])
        if trainer.samples >= trainer.next_snapshot:
            trainer.save(self.out / "snapshots" / f"model_{trainer.samples // 1000:07d}k.pt")
            trainer.next_snapshot += cfg.snapshot_every_samples
        if time.time() - self._last_save > cfg.checkpoint_minutes * 60:
            trainer.save(self.checkpoint)
            write_curve(self.csv_path, self.out / "learning_curve.png")
            self._last_save = time.time()

    def close(self) -> None:
        """Save the checkpoint and the curve, close the log (also after Ctrl-C or an error)."""
        self.trainer.save(self.checkpoint)
        self._handle.close()
        self._board.close()
        self._bar.close()
        write_curve(self.csv_path, self.out / "learning_curve.png")
