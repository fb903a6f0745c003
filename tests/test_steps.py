"""Optimisation steps (msvdd/steps.py) and process-wide GPU settings (msvdd/accel.py)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from msvdd.errors import ConfigError
from msvdd.svdd.accel import AccelSettings
from msvdd.svdd.steps import Stepper
from msvdd.svdd.training import TrainSettings, minibatches

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _train(device: str, captured: bool, epochs: int = 3) -> tuple[list[float], dict]:
    """A bias-free conv + BN + linear net trained by Stepper on random data (110 = 2 full batches + a tail)."""
    torch.manual_seed(0)
    x = torch.rand(110, 1, 8, 8, device=device)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, bias=False), nn.BatchNorm2d(4, affine=False), nn.LeakyReLU(),
                        nn.Flatten(), nn.Linear(144, 3, bias=False)).to(device)
    settings = TrainSettings(lr=1e-2, epochs=epochs, milestones=[2], batch_size=50, device=device)
    opt, sched = settings.optimizer_for(net.parameters(), captured)
    step = Stepper(lambda idx: (((net(x[idx]) - 1) ** 2).sum(1).mean(),), net, opt, 50,
                   torch.device(device), captured)
    gen, losses = torch.Generator().manual_seed(0), []
    for _ in range(epochs):
        total = torch.zeros((), device=device)
        for idx in minibatches(len(x), settings.batch_size, gen, device):
            total += step(idx)[0].detach() * len(idx)
        sched.step()
        losses.append((total / len(x)).item())
    return losses, {k: v.detach().cpu() for k, v in net.state_dict().items()}


def test_eager_stepper_is_a_plain_training_loop():
    """Stepper's eager path changes nothing about the maths: the same weights as zero_grad/backward/step."""
    losses, state = _train("cpu", captured=False)
    torch.manual_seed(0)
    x = torch.rand(110, 1, 8, 8)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, bias=False), nn.BatchNorm2d(4, affine=False), nn.LeakyReLU(),
                        nn.Flatten(), nn.Linear(144, 3, bias=False))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2, weight_decay=0.5e-6)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [2], 0.1)
    gen = torch.Generator().manual_seed(0)
    for _ in range(3):
        for idx in torch.randperm(110, generator=gen).split(50):
            loss = ((net(x[idx]) - 1) ** 2).sum(1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    for key, value in net.state_dict().items():
        assert torch.equal(value, state[key]), key
    assert losses[-1] < losses[0]


@needs_cuda
def test_captured_steps_follow_the_eager_trajectory():
    eager_losses, eager = _train("cuda", captured=False)
    graph_losses, graph = _train("cuda", captured=True)
    assert graph_losses == pytest.approx(eager_losses, rel=1e-4)
    for key in eager:
        assert torch.allclose(eager[key].float(), graph[key].float(), rtol=1e-3, atol=1e-5), key


def test_graphs_only_on_cuda_and_settings_are_checked():
    assert not TrainSettings(cuda_graphs=True).captures(torch.device("cpu"))
    assert TrainSettings(cuda_graphs=True).captures(torch.device("cuda"))
    assert not TrainSettings(cuda_graphs=False).captures(torch.device("cuda"))
    with pytest.raises(ConfigError, match="train.cuda_graphs"):
        TrainSettings(cuda_graphs="yes")
    with pytest.raises(ConfigError, match="accel.tf32"):
        AccelSettings(tf32=1)


def test_deterministic_mode_turns_off_tf32_and_autotuning():
    try:
        AccelSettings(tf32=True, cudnn_benchmark=True, deterministic=True).apply()
        assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.benchmark
        assert torch.are_deterministic_algorithms_enabled()
        AccelSettings().apply()
        assert torch.backends.cudnn.benchmark and not torch.are_deterministic_algorithms_enabled()
    finally:
        AccelSettings(tf32=False, cudnn_benchmark=False).apply()
