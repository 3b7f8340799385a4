"""The imitation task on MuJoCo's CPU batch: many characters of varied bodies imitating the reference at once.

Reference state initialization, early termination (a body other than the feet on the ground, or drifting
far from the reference), DeepMimic rewards, an episode that runs past the clip while the reference holds
its last pose. Observations and actions come from blender_backflip.core.observation, the same code the
add-on runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import mujoco
import mujoco.batch
import numpy as np

from blender_backflip.core import rates
from blender_backflip.core.character import Character, build_character
from blender_backflip.core.contacts import GroundProbe
from blender_backflip.core.motion import Motion
from blender_backflip.core.observation import NUM_ACTIONS, OBS_DIM, RefTarget, observe, pd_targets
from blender_backflip.core.reference import ReferenceTrack, make_track
from blender_backflip.core.skeleton import BODIES, END_EFFECTORS

from . import rewards
from .bodies import BodyVariant, canonical_variant, random_variant

_EE = np.array([BODIES.index(b) for b in END_EFFECTORS])


@dataclass
class EnvConfig:
    num_envs: int = 256
    """Simulated characters stepped together."""
    num_variants: int = 48
    """Bodies in the pool; each episode draws one."""
    canonical_fraction: float = 0.25
    """Share of the pool that has the canonical proportions (friction still varies)."""
    variants_refreshed_per_reset_round: int = 2
    """Pool bodies replaced by fresh random ones each time refresh_variants() runs."""
    start_from_standing: float = 0.25
    """Probability that an episode starts at the clip's first frame (the evaluation's start)."""
    start_bin_frames: int = 6
    """Width (control frames) of the bins of start times whose failure rates steer where episodes start."""
    start_floor: float = 0.05
    """Share of the start-time sampling weight every bin keeps however well it goes."""
    joint_noise: float = 0.05
    """Uniform perturbation of each joint angle at the start (radians)."""
    max_body_error: float = 0.8
    """Terminate when a body is this far (m) from its reference position."""
    push_probability: float = 0.0
    """Chance per control step of a random push on the pelvis (robustness option)."""
    push_force: float = 150.0
    """Magnitude (N) of a push, held for one control step."""
    nthread: int = 0
    """MuJoCo threads; 0 = all cores."""


class ImitationEnv:
    """numpy-level vectorized environment; policy.vecenv adapts it to rsl-rl's VecEnv."""

    def __init__(self, motion: Motion, cfg: EnvConfig, seed: int = 0, variants: list[BodyVariant] | None = None):
        self.cfg = cfg
        self.motion = motion
        self.rng = np.random.default_rng(seed)
        self.num_envs = cfg.num_envs
        self.num_obs = OBS_DIM
        self.num_actions = NUM_ACTIONS
        pool = variants or [
            canonical_variant(self.rng) if i < round(cfg.canonical_fraction * cfg.num_variants) else random_variant(self.rng)
            for i in range(cfg.num_variants)
        ]
        self.fixed_pool = variants is not None
        self.variants: list[BodyVariant] = []
        self.characters: list[Character] = []
        self.tracks: list[ReferenceTrack] = []
        for v in pool:
            self._append_variant(v)
        self._stack_tracks()
        first = self.characters[0]
        self.dof_qpos, self.dof_qvel = first.dof_qpos, first.dof_qvel
        self.body_ids = first.body_ids
        self.probe = GroundProbe(first)
        self.num_frames = self.tracks[0].num_frames
        self.clip_frames = self.tracks[0].clip_frames
        self.max_episode_length = self.num_frames - 1

        nthread = cfg.nthread or os.cpu_count() or 1
        self.batch = mujoco.batch.Batch(first.model, self.num_envs, nthread=nthread, persistent=True)
        self.qpos = self.batch.bind("qpos")
        self.qvel = self.batch.bind("qvel")
        self.ctrl = self.batch.bind("ctrl")
        self.xfrc = self.batch.bind("xfrc_applied")
        self._xpos = self.batch.bind("xpos")
        self._geom_xpos = self.batch.bind("geom_xpos")
        self._geom_xmat = self.batch.bind("geom_xmat")
        self._subtree_com = self.batch.bind("subtree_com")

        self.variant = np.zeros(self.num_envs, dtype=np.int64)
        self.frame = np.zeros(self.num_envs, dtype=np.int64)
        self.start_frame = np.zeros(self.num_envs, dtype=np.int64)
        self.episode_return = np.zeros(self.num_envs)
        self.com_prev = np.zeros((self.num_envs, 3))
        self.body_params = np.ones((self.num_envs, 5))
        self.start_bins = (self.num_frames - 10 + cfg.start_bin_frames - 1) // cfg.start_bin_frames
        self.bin_failure = np.full(self.start_bins, 0.5)
        self.reset(np.arange(self.num_envs))

    # -- body pool -------------------------------------------------------------------------------------------
    def _append_variant(self, v: BodyVariant) -> None:
        character = build_character(v.proportions, friction=v.friction)
        self.variants.append(v)
        self.characters.append(character)
        self.tracks.append(make_track(self.motion, character))

    def _stack_tracks(self) -> None:
        t = self.tracks
        self.ref_qpos = np.stack([x.qpos for x in t])
        self.ref_qvel = np.stack([x.qvel for x in t])
        self.ref_root_pos = np.stack([x.root_pos for x in t])
        self.ref_root_quat = np.stack([x.root_quat for x in t])
        self.ref_dof_pos = np.stack([x.dof_pos for x in t])
        self.ref_dof_vel = np.stack([x.dof_vel for x in t])
        self.ref_body_pos = np.stack([x.body_pos for x in t])
        self.ref_com = np.stack([x.com for x in t])
        self.ref_com_vel = np.stack([x.com_vel for x in t])
        self.variant_params = np.array([v.proportions.scale_factors() for v in self.variants])
        self.variant_models = [c.model for c in self.characters]

    def refresh_variants(self) -> None:
        """Replace a few random bodies of the pool (never the canonical ones) so training sees many bodies."""
        if self.fixed_pool:
            return
        n_canon = round(self.cfg.canonical_fraction * self.cfg.num_variants)
        candidates = np.arange(n_canon, len(self.variants))
        in_use = set(self.variant.tolist())
        free = [i for i in candidates if i not in in_use]
        for i in self.rng.permutation(free)[: self.cfg.variants_refreshed_per_reset_round]:
            v = random_variant(self.rng)
            character = build_character(v.proportions, friction=v.friction)
            self.variants[i], self.characters[i] = v, character
            self.tracks[i] = make_track(self.motion, character)
        self._stack_tracks()

    # -- episode logic ---------------------------------------------------------------------------------------
    def reset(self, ids: np.ndarray) -> None:
        if len(ids) == 0:
            return
        n = len(ids)
        self.variant[ids] = self.rng.integers(0, len(self.variants), size=n)
        standing = self.rng.random(n) < self.cfg.start_from_standing
        start = np.where(standing, 0, self._sample_starts(n))
        self.frame[ids] = start
        self.start_frame[ids] = start
        v = self.variant[ids]
        qpos = self.ref_qpos[v, start].copy()
        qpos[:, self.dof_qpos] += self.rng.uniform(-self.cfg.joint_noise, self.cfg.joint_noise, (n, NUM_ACTIONS))
        self.batch.set_models([self.variant_models[i] for i in self.variant])
        self.batch.reset(ids=ids, stage=mujoco.mjtStage.mjSTAGE_NONE)
        self.qpos[ids] = qpos
        self.qvel[ids] = self.ref_qvel[v, start]
        self.batch.forward(ids=ids, stage=mujoco.mjtStage.mjSTAGE_POS)
        self.com_prev[ids] = self.ref_com[v, start]
        self.episode_return[ids] = 0.0
        self.body_params[ids] = self.variant_params[v]

    def _sample_starts(self, n: int) -> np.ndarray:
        """Adaptive reference-state initialization: start more often where episodes fail (mjlab's idea)."""
        weight = self.bin_failure + self.cfg.start_floor
        bins = self.rng.choice(self.start_bins, size=n, p=weight / weight.sum())
        frames = bins * self.cfg.start_bin_frames + self.rng.integers(0, self.cfg.start_bin_frames, size=n)
        return np.minimum(frames, self.num_frames - 11)

    def _record_outcomes(self, ids: np.ndarray, failed: np.ndarray) -> None:
        bins = self.start_frame[ids] // self.cfg.start_bin_frames
        for b, f in zip(bins, failed):
            self.bin_failure[b] += 0.05 * (float(f) - self.bin_failure[b])

    def _ref_target(self) -> RefTarget:
        v, f = self.variant, self.frame
        nxt = np.minimum(f + 1, self.num_frames - 1)
        return RefTarget(self.ref_root_pos[v, f], self.ref_root_pos[v, nxt], self.ref_root_quat[v, nxt],
                         self.ref_dof_pos[v, nxt])

    def observations(self) -> np.ndarray:
        return observe(self.qpos, self.qvel, self.dof_qpos, self.dof_qvel, self._ref_target(),
                       self.frame * rates.CONTROL_DT, self.tracks[0].clip_duration, rates.HOLD_SECONDS,
                       self.body_params)

    def step(self, action: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        """Advance one control step. Returns obs, reward, terminated, timed_out, info (finished episodes)."""
        v = self.variant
        nxt = np.minimum(self.frame + 1, self.num_frames - 1)
        self.ctrl[:] = pd_targets(self.ref_dof_pos[v, nxt], action)
        if self.cfg.push_probability > 0.0:
            self.xfrc[:] = 0.0
            push = self.rng.random(self.num_envs) < self.cfg.push_probability
            direction = self.rng.normal(size=(self.num_envs, 3)) * [1.0, 1.0, 0.2]
            direction /= np.linalg.norm(direction, axis=-1, keepdims=True)
            self.xfrc[push, self.body_ids[0], :3] = self.cfg.push_force * direction[push]
        self.batch.step(nstep=rates.SUBSTEPS, stage=mujoco.mjtStage.mjSTAGE_POS)
        self.frame = nxt

        qpos, qvel = self.qpos, self.qvel
        body_pos = self._xpos[:, self.body_ids]
        com = self._subtree_com[:, self.body_ids[0]]
        com_vel = (com - self.com_prev) / rates.CONTROL_DT
        self.com_prev = com.copy()
        ref_body = self.ref_body_pos[v, nxt]
        terms = {
            "pose": rewards.pose_reward(qpos[:, self.dof_qpos], self.ref_dof_pos[v, nxt]),
            "velocity": rewards.velocity_reward(qvel[:, self.dof_qvel], self.ref_dof_vel[v, nxt]),
            "end_effector": rewards.end_effector_reward(body_pos[:, _EE] - body_pos[:, :1],
                                                        ref_body[:, _EE] - ref_body[:, :1]),
            "root": rewards.root_reward(qpos[:, 0:3], self.ref_root_pos[v, nxt], qpos[:, 3:7],
                                        self.ref_root_quat[v, nxt]),
            "com": rewards.com_reward(com_vel, self.ref_com_vel[v, nxt]),
        }
        reward = rewards.total_reward(terms)

        lowest = self.probe.lowest(self._geom_xpos, self._geom_xmat)
        body_error = np.linalg.norm(body_pos - ref_body, axis=-1)
        broken = ~np.all(np.isfinite(qpos), axis=-1) | ~np.all(np.isfinite(qvel), axis=-1)
        terminated = self.probe.non_foot_touch(lowest) | (body_error.max(axis=-1) > self.cfg.max_body_error) | broken
        timed_out = (self.frame >= self.num_frames - 1) & ~terminated
        reward = np.where(terminated, 0.0, reward)
        reward = np.nan_to_num(reward)
        self.episode_return += reward

        done = terminated | timed_out
        ids = np.flatnonzero(done)
        info = {
            "terms": {k: float(np.mean(np.nan_to_num(x))) for k, x in terms.items()},
            "done_start": self.start_frame[ids].copy(),
            "done_frame": self.frame[ids].copy(),
            "done_timeout": timed_out[ids].copy(),
            "done_variant_canonical": (self.variant[ids] < round(self.cfg.canonical_fraction * self.cfg.num_variants)),
            "done_return": self.episode_return[ids].copy(),
            "mean_body_error": float(np.mean(np.nan_to_num(body_error, nan=1.0))),
        }
        self._record_outcomes(ids, terminated[ids])
        self.reset(ids)
        return self.observations(), reward, terminated, timed_out, info
