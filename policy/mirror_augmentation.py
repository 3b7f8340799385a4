"""Symmetry augmentation for rsl-rl's PPO: every mini-batch also holds the left-right mirror image of each
sample (core.mirror), so one side's experience teaches the other (Mittal et al., ICRA 2024).

rsl-rl repeats a sample's advantage and old log-probability for its mirror image, which holds while the
policy treats both sides alike. A trained policy does not quite: at scratch18's 5.0M snapshot the mirror
images' log-probabilities under the rollout policy differ from their originals' by 1.5 (standard deviation),
so before the first gradient step 79% of the images' PPO ratios are already outside the clip range of 0.8-1.2
(some are clipped from the start, others are weighted up to many times over; benchmarks/mirror_log_prob_gap.py
measures it). Giving every image its own old log-probability instead, under the policy that collected the
batch, diverged (scratch21: surrogate loss 1e7 and NaN weights at 1.2M samples): an image's action need not be
one the policy would take, and where it lies far out in the policy's tail a small step multiplies its ratio,
which PPO's clip leaves unbounded for a negative advantage. The repeated log-probability had silenced those
images (their ratio starts far below 1). So PPOConfig.mirror_rollout_log_prob takes the larger of the two:
an image at least as likely as its original starts at ratio 1, as a real sample does; an unlikely one stays
as rsl-rl leaves it. The mirror image of a sample follows the mirrored reference, which the
policy observes: the clip's two sides differ by 5 degrees per joint angle on average (up to 17 at the
shoulders), so the images teach a neighbouring task, not the same one. The observation normalizer keeps
learning from the real samples only.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import torch
from rsl_rl.extensions import Symmetry
from tensordict import TensorDict

from blender_backflip.core.mirror import BODY_INDEX, DOF_INDEX, DOF_SIGN, OBS_INDEX, OBS_SIGN, mirror_vector

# The privileged (critic-only) observation: one world offset per body, flattened (ImitationEnv.privileged_observations).
PRIVILEGED_INDEX = (3 * BODY_INDEX[:, None] + np.arange(3)).ravel()
PRIVILEGED_SIGN = np.tile(mirror_vector(np.ones(3)), len(BODY_INDEX))


@lru_cache(maxsize=None)
def _maps(device: str) -> tuple[torch.Tensor, ...]:
    return tuple(torch.as_tensor(a, device=device)
                 for a in (OBS_INDEX, OBS_SIGN, DOF_INDEX, DOF_SIGN, PRIVILEGED_INDEX, PRIVILEGED_SIGN))


def _with_mirror(x: torch.Tensor, index: torch.Tensor, sign: torch.Tensor) -> torch.Tensor:
    return torch.cat([x, x[..., index] * sign.to(x.dtype)])


def augment(env: Any = None, obs: TensorDict | None = None, actions: torch.Tensor | None = None
            ) -> tuple[TensorDict | None, torch.Tensor | None]:
    """rsl-rl's data_augmentation_func: (observations, actions) followed by their mirror images (either may be
    None). env is unused: the layouts come from the core."""
    mirrored_obs = mirrored_actions = None
    if obs is not None:
        policy = obs["policy"]
        obs_index, obs_sign, _, _, privileged_index, privileged_sign = _maps(str(policy.device))
        groups = {"policy": _with_mirror(policy, obs_index, obs_sign)}
        if "privileged" in obs.keys():
            groups["privileged"] = _with_mirror(obs["privileged"], privileged_index, privileged_sign)
        mirrored_obs = TensorDict(groups, batch_size=[2 * policy.shape[0]], device=policy.device)
    if actions is not None:
        _, _, dof_index, dof_sign, _, _ = _maps(str(actions.device))
        mirrored_actions = _with_mirror(actions, dof_index, dof_sign)
    return mirrored_obs, mirrored_actions


class AugmentationOnly(Symmetry):
    """rsl-rl's Symmetry for augmentation without the mirror loss. With the loss off, rsl-rl still runs the actor
    once more per mini-batch to log it: about 15% of each update, 7% of a training iteration on 2 cores.

    With rollout_log_prob, a mirror image's old log-probability is the larger of its own under the policy that
    collected the batch and its original's (the module says why). remember_rollout_policy() computes the images'
    own in one pass over the whole batch before the update, while the actor is still that policy; they reach
    each mini-batch as one more entry of the storage's distribution parameters, which rsl-rl's mini-batch
    generator indexes with the rest, and augment_batch() takes them off again. (Until stop 30 a copy of the
    rollout actor ran over the images of every mini-batch of every epoch: ten passes over the batch where one
    does, about 7% of an iteration.)"""

    def __init__(self, *args: Any, rollout_log_prob: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.rollout_log_prob = rollout_log_prob
        self._storage_carries_images = False

    def remember_rollout_policy(self, actor: torch.nn.Module, storage: Any) -> None:
        """Before an update: every mirror image's own log-probability under the actor as it collected the batch,
        appended to the storage's distribution parameters (T, N, 1)."""
        if not self.rollout_log_prob:
            return
        params = tuple(storage.distribution_params)
        if self._storage_carries_images:  # last update's entry: rollouts write only the distribution's own
            params = params[:-1]
        obs, actions = storage.observations.flatten(0, 1), storage.actions.flatten(0, 1)
        both_obs, both_actions = self.data_augmentation_func(env=self.env, obs=obs, actions=actions)
        n = actions.shape[0]
        with torch.no_grad():
            actor(both_obs[n:], stochastic_output=True)
            own = actor.get_output_log_prob(both_actions[n:]).reshape(*storage.actions.shape[:2], 1)
        storage.distribution_params = (*params, own)
        self._storage_carries_images = True

    def augment_batch(self, batch: Any, original_batch_size: int) -> None:
        own = None
        if self._storage_carries_images:
            *params, own = batch.old_distribution_params
            batch.old_distribution_params = tuple(params)
        super().augment_batch(batch, original_batch_size)
        if own is None:  # rollout_log_prob off (this class always augments)
            return
        n, old = original_batch_size, batch.old_actions_log_prob
        batch.old_actions_log_prob = torch.cat([old[:n], torch.maximum(own.reshape(-1, 1).to(old), old[n:])])

    def compute_loss(self, actor: Any, batch: Any, original_batch_size: int) -> torch.Tensor:
        return torch.zeros((), device=batch.actions.device)


def skip_logged_mirror_loss(alg: Any, rollout_log_prob: bool = False) -> None:
    """Swap an rsl-rl PPO's augmentation-only Symmetry for AugmentationOnly (the same augmentation, no extra pass;
    with rollout_log_prob, the images' own old log-probabilities)."""
    symmetry = alg.symmetry
    if symmetry is not None and symmetry.use_data_augmentation and not symmetry.use_mirror_loss:
        alg.symmetry = AugmentationOnly(env=symmetry.env, data_augmentation_func=symmetry.data_augmentation_func,
                                        use_data_augmentation=True, rollout_log_prob=rollout_log_prob)


def remember_rollout_policy(alg: Any) -> None:
    """Before an update: let the mirror augmentation take what it needs of the policy that collected the batch."""
    if isinstance(alg.symmetry, AugmentationOnly):
        alg.symmetry.remember_rollout_policy(alg.actor, alg.storage)
