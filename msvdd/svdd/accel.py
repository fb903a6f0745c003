"""Process-wide GPU settings: TF32 matrix units, cuDNN autotuning, determinism.

They live apart from the training settings because torch keeps them per process, not per model.
On the CPU they change nothing.

What is bit-identical where (see docs/gpu.md): on the CPU the same seed gives the same model.
On a GPU, ``deterministic: false`` (the default, fastest) lets cuDNN pick algorithms per run and
index_add_/scatter use atomics, so two runs of one seed agree to about 1e-6 relative, not bit for
bit; ``deterministic: true`` asks torch for deterministic kernels (slower) and turns off TF32 and
autotuning, so repeated runs of one seed on the same GPU and software match.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from msvdd.errors import ConfigError


@dataclass
class AccelSettings:
    tf32: bool = True              # float32 matmuls/convolutions on the tensor cores (~1e-3 relative error)
    cudnn_benchmark: bool = True   # time cuDNN's algorithms once per shape and keep the fastest
    deterministic: bool = False    # deterministic kernels; implies tf32 and cudnn_benchmark off

    def __post_init__(self):
        for key in ("tf32", "cudnn_benchmark", "deterministic"):
            if not isinstance(getattr(self, key), bool):
                raise ConfigError(f"accel.{key}", getattr(self, key), "true or false")

    def apply(self) -> None:
        fast = not self.deterministic
        torch.backends.cuda.matmul.allow_tf32 = self.tf32 and fast
        torch.backends.cudnn.allow_tf32 = self.tf32 and fast
        torch.backends.cudnn.benchmark = self.cudnn_benchmark and fast
        torch.backends.cudnn.deterministic = self.deterministic
        if self.deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(self.deterministic, warn_only=True)
