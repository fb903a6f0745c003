"""Optimiser settings and the small pieces every training loop here shares."""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from msvdd.errors import ConfigError, TrainingDivergedError

log = logging.getLogger(__name__)
OPTIMIZERS = ("adam", "amsgrad")
DEVICE_ONLY = ("device", "cuda_graphs", "channels_last")  # where and how fast, not what is learned


DEFAULT_WEIGHT_DECAY = {"pretrain": 0.5e-3, "train": 0.5e-6}  # method.md: the autoencoder's is larger


@dataclass
class TrainSettings:
    """One training phase (``pretrain`` or ``train``); ``name`` is the config field, for error messages."""

    name: str = "train"
    optimizer: str = "adam"
    lr: float = 1e-4
    epochs: int = 150
    milestones: list[int] = field(default_factory=lambda: [50])
    batch_size: int = 200
    weight_decay: float | None = None  # None: the phase's default, as its YAML (pretrain 0.5e-3, train 0.5e-6)
    device: str = "auto"
    cuda_graphs: bool = False  # replay full batches from a captured CUDA graph (GPU only; msvdd/steps.py)
    channels_last: bool = False  # train image networks in NHWC layout (CPU: ~2x faster steps; docs/performance.md)

    def __post_init__(self):
        n = self.name
        if self.weight_decay is None:
            self.weight_decay = DEFAULT_WEIGHT_DECAY.get(n, DEFAULT_WEIGHT_DECAY["train"])
        self.milestones = _epochs(f"{n}.milestones", self.milestones)
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"{n}.optimizer", self.optimizer, ", ".join(OPTIMIZERS))
        for key in ("epochs", "batch_size"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ConfigError(f"{n}.{key}", value, "a positive int")
        if not _finite(self.lr) or self.lr <= 0:
            raise ConfigError(f"{n}.lr", self.lr, "a positive number")
        if not _finite(self.weight_decay) or self.weight_decay < 0:
            raise ConfigError(f"{n}.weight_decay", self.weight_decay, "a number >= 0")
        for key in ("cuda_graphs", "channels_last"):
            if not isinstance(getattr(self, key), bool):
                raise ConfigError(f"{n}.{key}", getattr(self, key), "true or false")
        if self.device not in ("auto", "cpu") and not str(self.device).startswith("cuda"):
            raise ConfigError(f"{n}.device", self.device, "auto, cpu, cuda or cuda:N")
        if str(self.device).startswith("cuda") and not _cuda_present(self.device):
            raise ConfigError(f"{n}.device", self.device, f"auto or cpu ({torch.cuda.device_count()} CUDA GPUs here)",
                              "no such CUDA GPU on this machine")

    def optimizer_for(self, params, captured: bool = False):
        """Adam (or AMSGrad) and its MultiStepLR. A step captured in a CUDA graph needs ``capturable``
        optimiser state and a tensor lr: the graph reads the lr from device memory, so the scheduler's
        changes reach every replay."""
        params = list(params)
        lr = torch.tensor(float(self.lr), device=params[0].device) if captured else self.lr
        opt = torch.optim.Adam(params, lr=lr, weight_decay=self.weight_decay,
                               amsgrad=self.optimizer == "amsgrad", capturable=captured)
        return opt, torch.optim.lr_scheduler.MultiStepLR(opt, milestones=self.milestones, gamma=0.1)

    def captures(self, device: torch.device) -> bool:
        """Whether this phase replays CUDA graphs on ``device``."""
        return bool(self.cuda_graphs) and device.type == "cuda"

    @contextmanager
    def layout(self, module: torch.nn.Module, x: torch.Tensor):
        """Yield ``x`` in the layout this phase trains in, with ``module``'s weights laid out to match.

        oneDNN's convolutions with msvdd's few channels run about twice as fast on NHWC (channels-last)
        tensors as on the default NCHW ones; the arithmetic is the same up to the order of additions.
        The weights return to the default layout afterwards, so scoring, checkpoints and the stacked
        trainer see the usual tensors."""
        if not (self.channels_last and x.dim() == 4):
            yield x
            return
        module.to(memory_format=torch.channels_last)
        try:
            yield x.contiguous(memory_format=torch.channels_last)
        finally:
            module.to(memory_format=torch.contiguous_format)

    def torch_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)


def _finite(value) -> bool:
    """A real number, not a bool, NaN or infinite (``nan <= 0`` is false: a comparison alone lets NaN through)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _epochs(field: str, value) -> list[int]:
    """Milestones as a list of positive epoch numbers (null: none; a bare number: a list of one)."""
    if value is None:
        return []
    listed = isinstance(value, Sequence) and not isinstance(value, str)
    items = list(value) if listed else [value]
    epochs = []
    for m in items:
        try:
            number = float(m) if isinstance(m, (int, float, str)) and not isinstance(m, bool) else math.nan
        except ValueError:  # "abc"
            number = math.nan
        if not (math.isfinite(number) and number == int(number) and number >= 1):
            raise ConfigError(field, items if listed else value, "a list of positive epoch numbers, e.g. [50], "
                              "or [] for none", "not a list of epoch numbers")
        epochs.append(int(number))
    return epochs


def _cuda_present(device: str) -> bool:
    try:
        index = torch.device(device).index or 0
    except RuntimeError:  # "cuda:x": not a device name
        return False
    return torch.cuda.is_available() and index < torch.cuda.device_count()


def minibatches(n: int, batch_size: int, generator: torch.Generator, device=None) -> Iterator[torch.Tensor]:
    """Index batches of one shuffled epoch: a permutation over the in-memory tensors, no DataLoader.

    Drawn on the CPU generator (the same order on every device), moved to ``device`` once per epoch
    rather than once per step. A last batch of one item joins the batch before it: BatchNorm cannot train
    on one item (a table of 201 rows, batch 200); every other split is the permutation's own."""
    perm = torch.randperm(n, generator=generator)
    batches = list((perm if device is None else perm.to(device)).split(batch_size))
    if batch_size > 1 and len(batches) > 1 and len(batches[-1]) == 1:
        batches[-2:] = [torch.cat(batches[-2:])]
    yield from batches


def progress(total: int, desc: str, enabled: bool | None = None) -> tqdm:
    """A tqdm bar per phase; off when stderr is not a terminal (logs and CI stay clean)."""
    return tqdm(total=total, desc=desc, disable=not sys.stderr.isatty() if enabled is None else not enabled,
                leave=False, dynamic_ncols=True)


def check_finite(loss: torch.Tensor, phase: str, epoch: int) -> None:
    """Stop at the first epoch whose loss is NaN or infinite: nothing after it would mean anything."""
    if not torch.isfinite(loss):
        raise TrainingDivergedError(f"{phase}: loss became {loss.item()} in epoch {epoch + 1}; "
                                    "lower the learning rate or check the data. No results were written.")


def log_epoch(history: dict, phase: str, epoch: int, epochs: int, loss: torch.Tensor, t0: float, radii=None) -> None:
    """Append one epoch's loss, radii and seconds to ``history`` and log them."""
    history["loss"].append(loss.item())
    history["epoch_s"].append(time.perf_counter() - t0)
    extra = ""
    if radii is not None:
        history["radii"].append(radii.tolist())
        extra = f"  radii {[round(r, 4) for r in history['radii'][-1]]}"
    log.info("%s epoch %d/%d  loss %.6f%s", phase, epoch + 1, epochs, history["loss"][-1], extra)
