"""Symmetry augmentation for rsl-rl's PPO: every mini-batch also holds the left-right mirror image of each
sample (core.mirror), so one side's experience teaches the other (Mittal et al., ICRA 2024).

rsl-rl repeats a sample's advantage and old log-probability for its mirror image, which holds while the
policy treats both sides alike. The mirror image of a sample follows the mirrored reference, which the policy
observes: the clip's two sides differ by 5 degrees per joint angle on average (up to 17 at the shoulders), so
the images teach a neighbouring task, not the same one. The observation normalizer keeps learning from the
real samples only.
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
    once more per mini-batch to log it: about 15% of each update, 7% of a training iteration on 2 cores."""

    def compute_loss(self, actor: Any, batch: Any, original_batch_size: int) -> torch.Tensor:
        return torch.zeros((), device=batch.actions.device)


def skip_logged_mirror_loss(alg: Any) -> None:
    """Swap an rsl-rl PPO's augmentation-only Symmetry for AugmentationOnly (the same augmentation, no extra pass)."""
    symmetry = alg.symmetry
    if symmetry is not None and symmetry.use_data_augmentation and not symmetry.use_mirror_loss:
        alg.symmetry = AugmentationOnly(env=symmetry.env, data_augmentation_func=symmetry.data_augmentation_func,
                                        use_data_augmentation=True)
