"""Continue a trained policy in wider networks without changing what it does (Net2Net's function-preserving
widening): every old unit keeps its weights and ignores the new ones, and the new units' outgoing weights
start at zero, so the actor's actions and the critic's values are those of the parent until training moves them.
"""

from __future__ import annotations

import torch

from blender_backflip.core.errors import BackflipError


def mlp_layers(state: dict) -> list[int]:
    """Indices of the Linear layers in an rsl-rl MLP's state dict (mlp.0, mlp.2, ...), in order."""
    return sorted(int(k.split(".")[1]) for k in state if k.startswith("mlp.") and k.endswith(".weight"))


def widen_model(parent: dict, fresh: dict) -> dict:
    """A model state dict shaped like `fresh` (a freshly built, wider network's), holding `parent`'s function.

    Each Linear layer's parent block goes in the top-left corner; a parent unit's weights from new units are
    zero; new units keep their fresh initialization, except that the output layer reads them with zero weights.
    Everything that is not an MLP weight (normalizers, the action noise) is the parent's.
    """
    out = {k: v.clone() for k, v in fresh.items()}
    layers = mlp_layers(fresh)
    if mlp_layers(parent) != layers:
        raise BackflipError(f"cannot widen: the parent has layers {mlp_layers(parent)}, this run {layers}; "
                            "widening keeps the number of layers")
    for i in layers:
        w_old, w_new = parent[f"mlp.{i}.weight"], out[f"mlp.{i}.weight"]
        rows, cols = w_old.shape
        if rows > w_new.shape[0] or cols > w_new.shape[1]:
            raise BackflipError(f"cannot widen: layer {i} of the parent is {tuple(w_old.shape)}, wider than this "
                                f"run's {tuple(w_new.shape)}; choose hidden sizes at least the parent's")
        w_new[:rows, :cols] = w_old
        w_new[:rows, cols:] = 0.0
        if i == layers[-1]:
            w_new[:, cols:] = 0.0
        out[f"mlp.{i}.bias"][:rows] = parent[f"mlp.{i}.bias"]
    for k, v in parent.items():
        if not k.startswith("mlp."):
            out[k] = v.clone()
    return out


def widened_checkpoint(parent: dict, fresh: dict) -> dict:
    """The parent checkpoint's actor and critic widened to the fresh algorithm state's shapes (alg.save()); its
    optimizer state cannot be reshaped, so the fresh one is kept."""
    with torch.no_grad():
        return {**parent,
                "actor_state_dict": widen_model(parent["actor_state_dict"], fresh["actor_state_dict"]),
                "critic_state_dict": widen_model(parent["critic_state_dict"], fresh["critic_state_dict"]),
                "optimizer_state_dict": fresh["optimizer_state_dict"]}
