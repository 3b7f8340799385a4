"""The imitation task: many characters of varied bodies imitating the reference at once.

The reference is the clip retargeted to each body with its flight made physically possible (core.flight).
Reference state initialization, early termination (a body other than the feet on the ground, a body
drifting far from the reference, optionally a foot sunk too deep), DeepMimic rewards plus world body
positions, an episode that runs past the clip while the reference holds its last pose where it landed.
Observations and actions come from blender_backflip.core.observation, the same code the add-on runs.

The task is written once over a stepping backend (policy/backends): MuJoCo's CPU batch with numpy float64
arrays, or MuJoCo Warp with torch tensors on the GPU (float32). Per-world state, references, observations and
rewards stay on the backend's device; only the bookkeeping of finished episodes (a few numbers per episode,
for the start-time sampler and the logs) is read back to the host.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from blender_backflip.core import rates
from blender_backflip.core.character import Character, build_character
from blender_backflip.core.contacts import GroundProbe
from blender_backflip.core.motion import Motion
from blender_backflip.core.observation import NUM_ACTIONS, OBS_DIM, VELOCITY_LEAD, RefTarget, observe, pd_targets
from blender_backflip.core.reference import ReferenceTrack, make_track
from blender_backflip.core.skeleton import BODIES, END_EFFECTORS

from . import rewards
from .backends import Backend, make_backend
from .bodies import BodyVariant, canonical_variant, random_variant

_EE = np.array([BODIES.index(b) for b in END_EFFECTORS])
ADAPTIVE_SCALE_BOUNDS = (10.0, 1000.0)  # body-position sharpness: 30 cm to 3 cm rms
ADAPTIVE_SCALE_RATE = 0.002  # per control step: a time constant of 500 steps (about 16 iterations of 256 worlds)


class TorchRandom:
    """The few numpy Generator methods the task draws from, on a torch device (so resets never leave it)."""

    def __init__(self, seed: int, device: Any):
        import torch

        self.torch = torch
        self.device = device
        self.generator = torch.Generator(device=device)
        self.generator.manual_seed(seed)

    def integers(self, low: int, high: int, size: int) -> Any:
        return self.torch.randint(low, high, (size,), generator=self.generator, device=self.device)

    def random(self, size: int) -> Any:
        return self.torch.rand(size, generator=self.generator, device=self.device)

    def uniform(self, low: float, high: float, size: tuple[int, ...]) -> Any:
        return low + (high - low) * self.torch.rand(size, generator=self.generator, device=self.device)

    def normal(self, size: tuple[int, ...]) -> Any:
        return self.torch.randn(size, generator=self.generator, device=self.device)

    def choice(self, n: int, size: int, p: np.ndarray) -> Any:
        weights = self.torch.as_tensor(p, dtype=self.torch.float32, device=self.device)
        return self.torch.multinomial(weights, size, replacement=True, generator=self.generator)


@dataclass
class EnvConfig:
    num_envs: int = 256
    """Simulated characters stepped together."""
    num_variants: int = 128
    """Bodies in the pool; each episode draws one. 48 until flip19: with 256 characters on 48 bodies nearly every
    body is in use at any moment, so refresh_variants() (which replaces only unused ones) found about one free
    body in 200 rounds, and the policy saw a few hundred bodies in 30M samples. With 128, about 15 are free per
    round."""
    canonical_fraction: float = 0.25
    """Share of the pool that has the canonical proportions (friction still varies)."""
    variants_refreshed_per_reset_round: int = 4
    """Pool bodies replaced by fresh random ones each time refresh_variants() runs (2 until flip19)."""
    start_from_standing: float = 0.5
    """Probability that an episode starts at the clip's first frame (the evaluation's start). 0.25 until scratch28.
    0.5 from the first sample against 0.25, same seeds, canonical / variants cm (selection seeds): seed 3
    (scratch26 against scratch24) 6.24 / 7.29 against 6.88 / 8.09 at 3.5M samples, 5.01 / 6.00 against 5.44 /
    6.44 at 5.0M; seed 2 (scratch27 against scratch23) 5.93 / 6.77 against 7.79 / 8.92, 5.03 / 5.70 against
    6.03 / 6.99. The rest of the starts are adaptive, and half of those go to bins the policy's own flips never
    pass through (the take-off's state lacks the flight's spin)."""
    start_bin_frames: int = 6
    """Width (control frames) of the bins of start times whose failure rates steer where episodes start."""
    start_floor: float = 0.05
    """Share of the start-time sampling weight every bin keeps however well it goes."""
    joint_noise: float = 0.05
    """Uniform perturbation of each joint angle at the start (radians)."""
    max_body_error: float = 0.8
    """Terminate when a body is this far (m) from its reference position."""
    hold_where_landed: bool = True
    """After the clip, hold the final pose where the character was when the clip ended, not where the clip
    ended: a landing 20 cm off the clip's spot is still a landing, and pulling the body there topples it."""
    max_foot_depth: float | None = 0.016
    """Terminate when a foot sinks this far (m) into the floor (None: never; None until scratch8), checked at
    the evaluator's record rate (rates.RECORD_HZ), between the physics substeps of a control step: checked at
    the control rate alone it mostly missed a landing's few-ms peak (tried at 0.018 on the 0.005 s floor)."""
    push_probability: float = 0.0
    """Chance per control step of a random push on the pelvis (robustness option)."""
    push_force: float = 150.0
    """Magnitude (N) of a push, held for one control step."""
    reference_flight: str = "ballistic"
    """"ballistic": the clip's flight made physically possible for each body (core.flight: conserved pitch
    momentum, a ballistic centre of mass); "clip": as captured, which no body can follow in the air."""
    reference_feet: str = "planted"
    """"planted": after the landing the reference's feet stay where the clip's end (core.planted_feet); "clip":
    as captured, sliding 10-17 cm over the floor while they bear weight. "clip" until flip18.
    "stance_and_landing": the toes also stay on their spot from the start to take-off, where the clip's slide
    17 cm forward and back through the crouch."""
    reward_weights: dict[str, float] = field(default_factory=lambda: dict(rewards.WEIGHTS))
    """Weight of each reward term (policy/rewards.py); they sum to 1, so a perfect step scores 1."""
    body_position_scale: float = 300.0
    """Sharpness of the world body-position term: exp(-scale * mean squared distance). 100 until flip16."""
    adaptive_body_position_scale: bool = True
    """Let the body-position sharpness follow the policy (the idea of PBHC's adaptive tracking sigma; False
    until scratch8): scale = 1 / (running mean of the mean squared body distance), within
    ADAPTIVE_SCALE_BOUNDS. exp(-s e) is steepest at e = 1/s, so the term pays for progress at every stage; a
    fixed 300 scores ~0 while a young policy is 15 cm off. Starts at body_position_scale."""
    nthread: int = 0
    """MuJoCo threads of the CPU batch backend; 0 = all cores."""


class ImitationEnv:
    """Vectorized environment over a stepping backend: numpy arrays on "batch", torch tensors on "warp".

    The trainer converts its torch actions with actions_in() and the outputs with as_torch().
    """

    def __init__(self, motion: Motion, cfg: EnvConfig, seed: int = 0, variants: list[BodyVariant] | None = None,
                 backend: str = "batch", device: str = "cpu"):
        rewards.check_weights(cfg.reward_weights)
        self.cfg = cfg
        self.motion = motion
        self.rng = np.random.default_rng(seed)  # bodies of the pool (built on the host)
        self.num_envs = cfg.num_envs
        self.num_obs = OBS_DIM
        self.num_actions = NUM_ACTIONS
        self.n_canonical = round(cfg.canonical_fraction * cfg.num_variants)  # the pool's first bodies
        pool = variants or [canonical_variant(self.rng) if i < self.n_canonical else random_variant(self.rng)
                            for i in range(cfg.num_variants)]
        self.fixed_pool = variants is not None
        self.variants: list[BodyVariant] = []
        self.characters: list[Character] = []
        self.tracks: list[ReferenceTrack] = []
        for v in pool:
            self._append_variant(v)
        first = self.characters[0]
        self.backend: Backend = make_backend(backend, first.model, self.num_envs, device=device, nthread=cfg.nthread)
        self.xp = xp = self.backend.xp
        self.device = self.backend.device
        self.sampler = self.rng if xp.name == "numpy" else TorchRandom(seed, self.device)  # per-world draws
        self._like = self.backend.qpos  # arrays of the task take this one's kind, device and float dtype
        self._stack_tracks()
        self.dof_qpos, self.dof_qvel = self._index(first.dof_qpos), self._index(first.dof_qvel)
        self.body_ids = self._index(first.body_ids)
        self.root_body = int(first.body_ids[0])
        self._ee = self._index(_EE)
        self.probe = GroundProbe(first)
        self.num_frames = self.tracks[0].num_frames
        self.clip_frames = self.tracks[0].clip_frames
        self.max_episode_length = self.num_frames - 1
        self._push_scale = self._float(np.array([1.0, 1.0, 0.2]))
        self._velocity_lead = self._float(VELOCITY_LEAD)
        self.body_position_scale = self._float(np.array(cfg.body_position_scale))  # 0-d; moves when adaptive

        self.variant = self._index(np.zeros(self.num_envs, dtype=np.int64))
        self.frame = self._index(np.zeros(self.num_envs, dtype=np.int64))
        self.start_frame = self._index(np.zeros(self.num_envs, dtype=np.int64))
        self.episode_return = self._float(np.zeros(self.num_envs))
        self.com_prev = self._float(np.zeros((self.num_envs, 3)))
        self.hold_shift = self._float(np.zeros((self.num_envs, 2)))  # where the final pose is held (hold_where_landed)
        self.body_params = self._float(np.ones((self.num_envs, 5)))
        self.start_bins = (self.num_frames - 10 + cfg.start_bin_frames - 1) // cfg.start_bin_frames
        self.bin_failure = np.full(self.start_bins, 0.5)  # host: updated per finished episode, read per reset
        self.reset(self._index(np.arange(self.num_envs)))

    # -- arrays of the backend's kind ------------------------------------------------------------------------
    def _float(self, a: np.ndarray) -> Any:
        return a if self.xp.name == "numpy" else self.xp.asarray(a, like=self._like)

    def _index(self, a: np.ndarray) -> Any:
        return a if self.xp.name == "numpy" else self.xp.asarray(np.asarray(a, dtype=np.int64), like=self._like)

    def actions_in(self, actions: Any) -> Any:
        """The policy's torch actions as the backend's arrays (numpy float64 on the CPU batch; no copy on warp)."""
        if self.xp.name == "numpy":
            return actions.cpu().numpy().astype(np.float64)
        return actions.to(self.backend.qpos.dtype)

    def as_torch(self, x: Any, device: str) -> Any:
        """An output of step() or observations() as a torch tensor on `device`."""
        import torch

        return (torch.from_numpy(np.asarray(x)) if self.xp.name == "numpy" else x).to(device)

    # The CPU batch's live arrays, as before the backends existed (benchmarks and debugging read them).
    @property
    def qpos(self) -> Any:
        return self.backend.qpos

    @property
    def qvel(self) -> Any:
        return self.backend.qvel

    @property
    def ctrl(self) -> Any:
        return self.backend.ctrl

    # -- body pool -------------------------------------------------------------------------------------------
    def _append_variant(self, v: BodyVariant) -> None:
        character = build_character(v.proportions, friction=v.friction)
        self.variants.append(v)
        self.characters.append(character)
        self.tracks.append(self._track(character))

    def _track(self, character: Character) -> ReferenceTrack:
        return make_track(self.motion, character, flight=self.cfg.reference_flight, feet=self.cfg.reference_feet)

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
        if self.xp.name != "numpy":
            for name in ("ref_qpos", "ref_qvel", "ref_root_pos", "ref_root_quat", "ref_dof_pos", "ref_dof_vel",
                         "ref_body_pos", "ref_com", "ref_com_vel", "variant_params"):
                setattr(self, name, self._float(getattr(self, name)))
        self.backend.set_pool(self.variant_models)

    def refresh_variants(self) -> None:
        """Replace a few random bodies of the pool (never the canonical ones) so training sees many bodies."""
        if self.fixed_pool:
            return
        candidates = np.arange(self.n_canonical, len(self.variants))
        in_use = set(self.variant.tolist())
        free = [i for i in candidates if i not in in_use]
        for i in self.rng.permutation(free)[: self.cfg.variants_refreshed_per_reset_round]:
            v = random_variant(self.rng)
            character = build_character(v.proportions, friction=v.friction)
            self.variants[i], self.characters[i] = v, character
            self.tracks[i] = self._track(character)
        self._stack_tracks()

    # -- episode logic ---------------------------------------------------------------------------------------
    def reset(self, ids: Any) -> None:
        n = len(ids)
        if n == 0:
            return
        xp, rng = self.xp, self.sampler
        v = rng.integers(0, len(self.variants), size=n)
        standing = rng.random(n) < self.cfg.start_from_standing
        start = xp.where(standing, 0, self._sample_starts(n))
        qpos = self.ref_qpos[v, start]  # advanced indexing: a copy
        qpos[:, self.dof_qpos] += rng.uniform(-self.cfg.joint_noise, self.cfg.joint_noise, (n, NUM_ACTIONS))
        self.place(ids, v, start, qpos, self.ref_qvel[v, start])

    def place(self, ids: Any, variant: Any, frame: Any, qpos: Any, qvel: Any) -> None:
        """Start episodes in worlds `ids`: pool bodies `variant`, at reference frames `frame`, in state qpos, qvel."""
        self.variant[ids] = variant
        self.frame[ids] = frame
        self.start_frame[ids] = frame
        self.backend.set_variants(ids, variant)
        self.backend.reset(ids, qpos, qvel)
        # Joint noise can push a foot into the floor; start with every geom on or above it instead.
        qpos[:, 2] += self.probe.lift_clear(self.probe.lowest(self.backend.geom_xpos[ids], self.backend.geom_xmat[ids]))
        self.backend.reset(ids, qpos, qvel)
        self.com_prev[ids] = self.ref_com[variant, frame]
        self.hold_shift[ids] = 0.0
        self.episode_return[ids] = 0.0
        self.body_params[ids] = self.variant_params[variant]

    def _sample_starts(self, n: int) -> Any:
        """Adaptive reference-state initialization: start more often where episodes fail (mjlab's idea)."""
        weight = self.bin_failure + self.cfg.start_floor
        bins = self.sampler.choice(self.start_bins, size=n, p=weight / weight.sum())
        frames = bins * self.cfg.start_bin_frames + self.sampler.integers(0, self.cfg.start_bin_frames, size=n)
        return self.xp.minimum(frames, self.num_frames - 11)

    def _record_outcomes(self, ids: Any, failed: Any) -> None:
        bins = self.xp.to_numpy(self.start_frame[ids] // self.cfg.start_bin_frames)
        for b, f in zip(bins, self.xp.to_numpy(failed)):
            self.bin_failure[b] += 0.05 * (float(f) - self.bin_failure[b])

    def _ref_target(self) -> RefTarget:
        v, f = self.variant, self.frame
        nxt = self.xp.minimum(f + 1, self.num_frames - 1)
        return RefTarget(self.ref_root_pos[v, f], self.ref_root_pos[v, nxt], self.ref_root_quat[v, nxt],
                         self.ref_dof_pos[v, nxt])

    def observations(self) -> Any:
        return observe(self.backend.qpos, self.backend.qvel, self.dof_qpos, self.dof_qvel, self._ref_target(),
                       self.frame * rates.CONTROL_DT, self.tracks[0].clip_duration, rates.HOLD_SECONDS,
                       self.body_params)

    def _advance_physics(self) -> Any:
        """Step one control period. With max_foot_depth set, returns the deepest foot seen at the evaluator's
        record rate along the way (B,), else None."""
        b = self.backend
        if self.cfg.max_foot_depth is None:
            b.step(rates.SUBSTEPS)
            return None
        chunk = rates.PHYSICS_HZ // rates.RECORD_HZ
        deepest = None
        for _ in range(rates.SUBSTEPS // chunk):
            b.step(chunk)
            depth = self.probe.foot_penetration(self.probe.lowest(b.geom_xpos, b.geom_xmat))
            deepest = depth if deepest is None else self.xp.maximum(deepest, depth)
        return deepest

    def _reference_root_and_bodies(self) -> tuple[Any, Any]:
        """The reference root (B, 3) and body positions (B, bodies, 3) at each world's frame, moved where the
        character landed during the hold (hold_where_landed)."""
        xp, v, f = self.xp, self.variant, self.frame
        ref_root, ref_body = self.ref_root_pos[v, f], self.ref_body_pos[v, f]
        if not self.cfg.hold_where_landed:
            return ref_root, ref_body
        shift = self.hold_shift * xp.astype(f >= self.clip_frames, ref_root.dtype)[:, None]
        shift = xp.concat([shift, 0.0 * shift[:, :1]], axis=-1)
        return ref_root + shift, ref_body + shift[:, None, :]

    def privileged_observations(self) -> Any:
        """(B, bodies * 3) float32: each body's offset from its reference position (world axes: the flip's frame),
        what the body-position reward and the tracking bar measure. The critic's alone (PPOConfig.
        privileged_critic): the exported policy never sees it, as the add-on could not supply it. Computed afresh
        rather than kept from rewards_and_termination: step() resets finished worlds in between."""
        _, ref_body = self._reference_root_and_bodies()
        offsets = self.backend.xpos[:, self.body_ids] - ref_body
        return self.xp.astype(self.xp.reshape(offsets, (offsets.shape[0], -1)), self.xp.float32)

    def rewards_and_termination(self, deepest_foot: Any = None) -> tuple[dict[str, Any], Any, Any, Any]:
        """Reward terms, total reward, termination and body-position error of the current state (frame = the
        reference frame the state is compared with). deepest_foot (B,): the deepest foot during the step that
        led here, for max_foot_depth (default: the current state's)."""
        xp, b = self.xp, self.backend
        v, nxt = self.variant, self.frame
        qpos, qvel = b.qpos, b.qvel
        body_pos = b.xpos[:, self.body_ids]
        com = b.subtree_com[:, self.root_body]
        com_vel = (com - self.com_prev) / rates.CONTROL_DT
        self.com_prev = xp.copy(com)
        if self.cfg.hold_where_landed:
            # The offset from the clip's end spot is taken once, as the hold begins; moving on from there counts.
            begins = (nxt == self.clip_frames)[:, None]
            self.hold_shift = xp.where(begins, qpos[:, 0:2] - self.ref_root_pos[v, nxt, 0:2], self.hold_shift)
        ref_root, ref_body = self._reference_root_and_bodies()
        terms = {
            "pose": rewards.pose_reward(qpos[:, self.dof_qpos], self.ref_dof_pos[v, nxt]),
            "velocity": rewards.velocity_reward(qvel[:, self.dof_qvel], self.ref_dof_vel[v, nxt]),
            "end_effector": rewards.end_effector_reward(body_pos[:, self._ee] - body_pos[:, :1],
                                                        ref_body[:, self._ee] - ref_body[:, :1]),
            "root": rewards.root_reward(qpos[:, 0:3], ref_root, qpos[:, 3:7],
                                        self.ref_root_quat[v, nxt]),
            "com": rewards.com_reward(com_vel, self.ref_com_vel[v, nxt]),
            "body_position": rewards.body_position_reward(body_pos, ref_body, self.body_position_scale),
        }
        reward = rewards.total_reward(terms, self.cfg.reward_weights)

        lowest = self.probe.lowest(b.geom_xpos, b.geom_xmat)
        body_error = xp.vector_norm(body_pos - ref_body, axis=-1)
        broken = ~xp.all(xp.isfinite(qpos), axis=-1) | ~xp.all(xp.isfinite(qvel), axis=-1)
        terminated = (self.probe.non_foot_touch(lowest) | (xp.max(body_error, axis=-1) > self.cfg.max_body_error)
                      | broken)
        if self.cfg.max_foot_depth is not None:
            depth = self.probe.foot_penetration(lowest) if deepest_foot is None else deepest_foot
            terminated = terminated | (depth > self.cfg.max_foot_depth)
        return terms, reward, terminated, body_error

    def _adapt_body_position_scale(self, body_error: Any, terminated: Any) -> None:
        """Move the sharpness toward 1 / (mean squared body distance of the worlds still going); body_error (B,
        bodies) as rewards_and_termination returns it."""
        xp = self.xp
        alive = xp.astype(~terminated, body_error.dtype)
        distance = xp.nan_to_num(xp.mean(body_error**2, axis=-1), nan=0.0, posinf=0.0)
        mean = xp.sum(distance * alive) / xp.maximum(xp.sum(alive), 1.0)
        low, high = ADAPTIVE_SCALE_BOUNDS
        current = 1.0 / self.body_position_scale
        target = xp.clip(current + ADAPTIVE_SCALE_RATE * (mean - current), 1.0 / high, 1.0 / low)
        self.body_position_scale = 1.0 / target

    def step(self, action: Any) -> tuple[Any, Any, Any, Any, dict]:
        """Advance one control step. Returns obs, reward, terminated, timed_out, info (finished episodes)."""
        xp, b = self.xp, self.backend
        v = self.variant
        nxt = xp.minimum(self.frame + 1, self.num_frames - 1)
        b.ctrl[:] = pd_targets(self.ref_dof_pos[v, nxt], self.ref_dof_vel[v, nxt], action, self._velocity_lead)
        if self.cfg.push_probability > 0.0:
            b.xfrc_applied[:] = 0.0
            push = self.sampler.random(self.num_envs) < self.cfg.push_probability
            direction = self.sampler.normal(size=(self.num_envs, 3)) * self._push_scale
            direction /= xp.vector_norm(direction, axis=-1, keepdims=True)
            b.xfrc_applied[push, self.root_body, :3] = self.cfg.push_force * direction[push]
        deepest_foot = self._advance_physics()
        self.frame = nxt

        terms, reward, terminated, body_error = self.rewards_and_termination(deepest_foot)
        if self.cfg.adaptive_body_position_scale:
            self._adapt_body_position_scale(body_error, terminated)
        timed_out = (self.frame >= self.num_frames - 1) & ~terminated
        reward = xp.where(terminated, 0.0, reward)
        reward = xp.nan_to_num(reward)
        self.episode_return += reward

        done = terminated | timed_out
        ids = xp.nonzero(done)
        info = {
            "terms": {k: xp.mean(xp.nan_to_num(x)) for k, x in terms.items()},
            "done_start": xp.copy(self.start_frame[ids]),
            "done_frame": xp.copy(self.frame[ids]),
            "done_timeout": xp.copy(timed_out[ids]),
            "done_variant_canonical": (self.variant[ids] < self.n_canonical),
            "done_return": xp.copy(self.episode_return[ids]),
            "mean_body_error": xp.mean(xp.nan_to_num(body_error, nan=1.0)),
        }
        self._record_outcomes(ids, terminated[ids])
        self.reset(ids)
        return self.observations(), reward, terminated, timed_out, info
