"""Array namespaces, so the observation, reward, contact and quaternion code is written once for numpy and torch.

The add-on, the evaluator and the CPU trainer pass numpy arrays; the GPU trainer passes torch tensors that live
on the GPU (views of MuJoCo Warp's state). `namespace(*arrays)` picks the functions for the arrays given. The
names are the Array API standard's (concat, atan2, vector_norm, ...), so `array_api_compat` could replace this
module; it is not used because the add-on ships to Blender with only the simulator's wheel, and the dozen
functions needed here keep numpy's exact arithmetic (results bit for bit as before) without a wrapper layer.
torch is imported only when a tensor is passed, never by the add-on.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class NumpyNamespace:
    name = "numpy"
    float32 = np.float32
    float64 = np.float64
    int64 = np.int64
    bool = np.bool_

    concat = staticmethod(np.concatenate)
    stack = staticmethod(np.stack)
    where = staticmethod(np.where)
    exp = staticmethod(np.exp)
    sqrt = staticmethod(np.sqrt)
    abs = staticmethod(np.abs)
    atan2 = staticmethod(np.arctan2)
    sum = staticmethod(np.sum)
    mean = staticmethod(np.mean)
    max = staticmethod(np.max)
    min = staticmethod(np.min)
    any = staticmethod(np.any)
    all = staticmethod(np.all)
    clip = staticmethod(np.clip)
    maximum = staticmethod(np.maximum)
    minimum = staticmethod(np.minimum)
    isfinite = staticmethod(np.isfinite)
    nan_to_num = staticmethod(np.nan_to_num)
    reshape = staticmethod(np.reshape)
    zeros = staticmethod(np.zeros)
    ones = staticmethod(np.ones)
    full = staticmethod(np.full)
    arange = staticmethod(np.arange)

    @staticmethod
    def vector_norm(x: Any, axis: int = -1, keepdims: bool = False) -> Any:
        return np.linalg.norm(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def as_float(x: Any) -> np.ndarray:
        """x as a float array: float64 for numpy (the add-on's precision)."""
        return np.asarray(x, dtype=np.float64)

    @staticmethod
    def astype(x: Any, dtype: Any) -> np.ndarray:
        return x.astype(dtype)

    @staticmethod
    def copy(x: Any) -> np.ndarray:
        return x.copy()

    @staticmethod
    def nonzero(x: Any) -> np.ndarray:
        return np.flatnonzero(x)

    @staticmethod
    def to_numpy(x: Any) -> np.ndarray:
        return np.asarray(x)

    @staticmethod
    def asarray(x: Any, like: Any = None, dtype: Any = None) -> np.ndarray:
        return np.asarray(x, dtype=dtype)


class TorchNamespace:
    """The same names over torch (any device); float math keeps the tensors' own dtype (float32 on the GPU)."""

    name = "torch"

    def __init__(self) -> None:
        import torch

        self.torch = torch
        self.float32, self.float64, self.int64, self.bool = torch.float32, torch.float64, torch.int64, torch.bool
        self.exp, self.sqrt, self.abs, self.atan2 = torch.exp, torch.sqrt, torch.abs, torch.atan2
        self.isfinite, self.nan_to_num, self.reshape = torch.isfinite, torch.nan_to_num, torch.reshape

    def concat(self, arrays: Any, axis: int = 0) -> Any:
        return self.torch.cat(list(arrays), dim=axis)

    def stack(self, arrays: Any, axis: int = 0) -> Any:
        return self.torch.stack(list(arrays), dim=axis)

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        return self.torch.where(cond, a, b)

    def sum(self, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self.torch.sum(x) if axis is None else self.torch.sum(x, dim=axis, keepdim=keepdims)

    def mean(self, x: Any, axis: Any = None) -> Any:
        return self.torch.mean(x) if axis is None else self.torch.mean(x, dim=axis)

    def max(self, x: Any, axis: Any = None) -> Any:
        return self.torch.amax(x) if axis is None else self.torch.amax(x, dim=axis)

    def min(self, x: Any, axis: Any = None) -> Any:
        return self.torch.amin(x) if axis is None else self.torch.amin(x, dim=axis)

    def any(self, x: Any, axis: Any = None) -> Any:
        return self.torch.any(x) if axis is None else self.torch.any(x, dim=axis)

    def all(self, x: Any, axis: Any = None) -> Any:
        return self.torch.all(x) if axis is None else self.torch.all(x, dim=axis)

    def clip(self, x: Any, lo: Any = None, hi: Any = None) -> Any:
        return self.torch.clamp(x, lo, hi)

    def maximum(self, x: Any, y: Any) -> Any:
        return self.torch.clamp_min(x, y) if not self.torch.is_tensor(y) else self.torch.maximum(x, y)

    def minimum(self, x: Any, y: Any) -> Any:
        return self.torch.clamp_max(x, y) if not self.torch.is_tensor(y) else self.torch.minimum(x, y)

    def vector_norm(self, x: Any, axis: int = -1, keepdims: bool = False) -> Any:
        return self.torch.linalg.vector_norm(x, dim=axis, keepdim=keepdims)

    def as_float(self, x: Any) -> Any:
        return x if x.is_floating_point() else x.float()

    def astype(self, x: Any, dtype: Any) -> Any:
        return x.to(dtype)

    def copy(self, x: Any) -> Any:
        return x.clone()

    def nonzero(self, x: Any) -> Any:
        return self.torch.nonzero(x).flatten()

    def to_numpy(self, x: Any) -> np.ndarray:
        return x.detach().cpu().numpy()

    def asarray(self, x: Any, like: Any = None, dtype: Any = None) -> Any:
        """x as a tensor on the device of `like` (and, for floats, of its dtype unless dtype is given)."""
        device = like.device if like is not None else None
        if dtype is None and like is not None and like.is_floating_point() and np.asarray(x).dtype.kind == "f":
            dtype = like.dtype
        return self.torch.as_tensor(x, dtype=dtype, device=device)

    def zeros(self, shape: Any, dtype: Any = None, device: Any = None) -> Any:
        return self.torch.zeros(shape, dtype=dtype, device=device)

    def ones(self, shape: Any, dtype: Any = None, device: Any = None) -> Any:
        return self.torch.ones(shape, dtype=dtype, device=device)

    def full(self, shape: Any, value: Any, dtype: Any = None, device: Any = None) -> Any:
        return self.torch.full(shape, value, dtype=dtype, device=device)

    def arange(self, n: int, device: Any = None) -> Any:
        return self.torch.arange(n, device=device)


NUMPY = NumpyNamespace()
_TORCH: TorchNamespace | None = None


def torch_namespace() -> TorchNamespace:
    global _TORCH
    if _TORCH is None:
        _TORCH = TorchNamespace()
    return _TORCH


def is_torch(x: Any) -> bool:
    return type(x).__module__.startswith("torch")


def namespace(*arrays: Any) -> Any:
    """torch's functions if any argument is a torch tensor, else numpy's (lists and scalars count as numpy)."""
    for a in arrays:
        if is_torch(a):
            return torch_namespace()
    return NUMPY
