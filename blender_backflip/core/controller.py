"""Run an exported policy: numpy always, torch when it is importable (same numbers either way)."""

from __future__ import annotations

import numpy as np

from .policy_file import PolicyFile


def _elu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0.0, x, np.expm1(np.minimum(x, 0.0)))


class Controller:
    """Deterministic policy: normalized observation -> MLP (ELU) -> action mean."""

    def __init__(self, policy: PolicyFile, backend: str = "auto"):
        self.policy = policy
        self._scale = 1.0 / (policy.obs_std + policy.obs_eps)
        self.backend = "numpy"
        if backend in ("auto", "torch"):
            try:
                import torch

                self._torch = torch
                self._tw = [torch.as_tensor(w, dtype=torch.float32) for w in policy.weights]
                self._tb = [torch.as_tensor(b, dtype=torch.float32) for b in policy.biases]
                self.backend = "torch"
            except ImportError:
                if backend == "torch":
                    raise
        self._w32 = [w.astype(np.float32) for w in policy.weights]
        self._b32 = [b.astype(np.float32) for b in policy.biases]

    def _normalize(self, obs: np.ndarray) -> np.ndarray:
        return ((obs - self.policy.obs_mean) * self._scale).astype(np.float32)

    def act_numpy(self, obs: np.ndarray) -> np.ndarray:
        x = self._normalize(np.atleast_2d(obs))
        last = len(self._w32) - 1
        for i, (w, b) in enumerate(zip(self._w32, self._b32)):
            x = x @ w.T + b
            if i < last:
                x = _elu(x)
        return x

    def act_torch(self, obs: np.ndarray) -> np.ndarray:
        torch = self._torch
        x = torch.from_numpy(self._normalize(np.atleast_2d(obs)))
        last = len(self._tw) - 1
        with torch.no_grad():
            for i, (w, b) in enumerate(zip(self._tw, self._tb)):
                x = torch.nn.functional.linear(x, w, b)
                if i < last:
                    x = torch.nn.functional.elu(x)
        return x.numpy()

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        return self.act_torch(obs) if self.backend == "torch" else self.act_numpy(obs)
