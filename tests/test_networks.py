"""The reference networks layer for layer, as ``network=NAME`` builds them.

Each expected sequence below is read off Ruff et al.'s Deep-SVDD-PyTorch (``src/networks/mnist_LeNet.py``,
``cifar10_LeNet.py``, ``cifar10_LeNet_elu.py``): every layer the autoencoder applies, in order, with the
shape it outputs for one batch, then the parameter counts of the autoencoder and of phi (the encoder).
"""

import math

import pytest
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate

from msvdd.errors import ConfigError

BATCH = 2


def describe(m: torch.nn.Module) -> str:
    """A layer as the reference writes it: type and every argument that changes what it computes."""
    name = type(m).__name__
    if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
        k, p = m.kernel_size[0], m.padding[0]
        return f"{name}({m.in_channels}->{m.out_channels}, {k}x{k}, pad {p}{', bias' if m.bias is not None else ''})"
    if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
        return f"{name}({m.num_features}, eps {m.eps:g}{', affine' if m.affine else ''})"
    if isinstance(m, torch.nn.Linear):
        return f"Linear({m.in_features}->{m.out_features}{', bias' if m.bias is not None else ''})"
    if isinstance(m, torch.nn.LeakyReLU):
        return f"LeakyReLU({m.negative_slope:g})"
    if isinstance(m, torch.nn.ELU):
        return f"ELU({m.alpha:g})"
    if isinstance(m, torch.nn.MaxPool2d):
        return f"MaxPool2d({m.kernel_size})"
    if isinstance(m, torch.nn.Upsample):
        return f"Upsample(x{m.scale_factor:g}, {m.mode})"
    if isinstance(m, torch.nn.Unflatten):
        return f"Unflatten{tuple(m.unflattened_size)}"
    return name


def trace(net: torch.nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    """(layer, output shape without the batch) for every layer the autoencoder applies to one batch."""
    x = torch.rand(BATCH, *net.input_shape, generator=torch.Generator().manual_seed(0))
    out = []
    for part in (net.encoder, net.decoder):
        for layer in part:
            x = layer(x)
            out.append((describe(layer), tuple(x.shape[1:])))
    return out


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def lrelu_block(conv: str, c: int, shape: tuple[int, ...], act: str = "LeakyReLU(0.01)") -> list:
    """conv -> BN (eps 1e-4, no affine) -> activation, all keeping the shape."""
    return [(conv, shape), (f"BatchNorm2d({c}, eps 0.0001)", shape), (act, shape)]


MNIST = [
    *lrelu_block("Conv2d(1->8, 5x5, pad 2)", 8, (8, 28, 28)), ("MaxPool2d(2)", (8, 14, 14)),
    *lrelu_block("Conv2d(8->4, 5x5, pad 2)", 4, (4, 14, 14)), ("MaxPool2d(2)", (4, 7, 7)),
    ("Flatten", (196,)), ("Linear(196->32)", (32,)),
    # decoder: no dense layer; upsample before each transposed convolution
    ("Unflatten(2, 4, 4)", (2, 4, 4)), ("LeakyReLU(0.01)", (2, 4, 4)), ("Upsample(x2, nearest)", (2, 8, 8)),
    *lrelu_block("ConvTranspose2d(2->4, 5x5, pad 2)", 4, (4, 8, 8)), ("Upsample(x2, nearest)", (4, 16, 16)),
    *lrelu_block("ConvTranspose2d(4->8, 5x5, pad 3)", 8, (8, 14, 14)), ("Upsample(x2, nearest)", (8, 28, 28)),
    ("ConvTranspose2d(8->1, 5x5, pad 2)", (1, 28, 28)), ("Sigmoid", (1, 28, 28)),
]


def cifar10(act: str) -> list:
    return [
        *lrelu_block("Conv2d(3->32, 5x5, pad 2)", 32, (32, 32, 32), act), ("MaxPool2d(2)", (32, 16, 16)),
        *lrelu_block("Conv2d(32->64, 5x5, pad 2)", 64, (64, 16, 16), act), ("MaxPool2d(2)", (64, 8, 8)),
        *lrelu_block("Conv2d(64->128, 5x5, pad 2)", 128, (128, 8, 8), act), ("MaxPool2d(2)", (128, 4, 4)),
        ("Flatten", (2048,)), ("Linear(2048->128)", (128,)),
        # decoder: BatchNorm1d on the code (autoencoder only), upsample after each transposed convolution
        ("BatchNorm1d(128, eps 0.0001)", (128,)), ("Unflatten(8, 4, 4)", (8, 4, 4)), (act, (8, 4, 4)),
        *lrelu_block("ConvTranspose2d(8->128, 5x5, pad 2)", 128, (128, 4, 4), act),
        ("Upsample(x2, nearest)", (128, 8, 8)),
        *lrelu_block("ConvTranspose2d(128->64, 5x5, pad 2)", 64, (64, 8, 8), act),
        ("Upsample(x2, nearest)", (64, 16, 16)),
        *lrelu_block("ConvTranspose2d(64->32, 5x5, pad 2)", 32, (32, 16, 16), act),
        ("Upsample(x2, nearest)", (32, 32, 32)),
        ("ConvTranspose2d(32->3, 5x5, pad 2)", (3, 32, 32)), ("Sigmoid", (3, 32, 32)),
    ]


# network, dataset, layers, parameters of the autoencoder, of the encoder (phi)
# MNIST: convs 1*8*25 + 8*4*25, dense 196*32; decoder 2*4*25 + 4*8*25 + 8*1*25.
# CIFAR-10: convs 3*32*25 + 32*64*25 + 64*128*25, dense 2048*128; decoder 8*128*25 + 128*64*25 + 64*32*25 + 32*3*25.
REFERENCE = [
    ("mnist_lenet", "mnist", MNIST, 8_472, 7_272),
    ("fashion_mnist_lenet", "fashion_mnist", MNIST, 8_472, 7_272),
    ("cifar10_lenet", "cifar10", cifar10("LeakyReLU(0.01)"), 804_544, 520_544),
    ("cifar10_lenet_elu", "cifar10", cifar10("ELU(1)"), 804_544, 520_544),
]


@pytest.mark.parametrize("network,dataset,layers,total,encoder", REFERENCE, ids=[r[0] for r in REFERENCE])
def test_reference_network_layer_for_layer(make_cfg, network, dataset, layers, total, encoder):
    net = instantiate(make_cfg(f"dataset={dataset}", f"network={network}").network)
    assert trace(net) == layers
    assert (n_params(net), n_params(net.encoder)) == (total, encoder)
    assert not [m for m in net.encoder.modules() if isinstance(m, torch.nn.BatchNorm1d)]  # phi has no BN on its code


def _bound(weight: torch.Tensor, gain: float) -> float:
    """The half-width of Xavier-uniform's interval for this weight."""
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(weight)
    return gain * math.sqrt(6.0 / (fan_in + fan_out))


LEAKY_GAIN = math.sqrt(2 / (1 + 0.01 ** 2))  # torch.nn.init.calculate_gain("leaky_relu"), default slope


@pytest.mark.parametrize("network,gain", [("cifar10_lenet", LEAKY_GAIN), ("cifar10_lenet_elu", 1.0)])
def test_cifar10_convolutions_are_xavier_uniform_after_reset(make_cfg, network, gain):
    net = instantiate(make_cfg("dataset=cifar10", f"network={network}").network)
    torch.manual_seed(0)
    net.reset_parameters()  # what DeepSVDD.fit does under its seed: the init scheme must survive it
    convs = [m for m in net.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    assert len(convs) == 7
    for conv in convs:  # thousands of uniform draws: the largest lies within 3 % of the interval's end
        assert 0.97 * _bound(conv.weight, gain) < conv.weight.abs().max().item() <= _bound(conv.weight, gain)
    dense = net.encoder[-1].weight  # the dense layer keeps PyTorch's default, U(+-1/sqrt(fan_in))
    assert 0.97 / math.sqrt(2048) < dense.abs().max().item() <= 1 / math.sqrt(2048)


def test_mnist_layers_keep_pytorch_default_init(make_cfg):
    net = instantiate(make_cfg("dataset=mnist", "network=mnist_lenet").network)
    for m in net.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.Linear)):
            fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(m.weight)
            assert 0.9 / math.sqrt(fan_in) < m.weight.abs().max().item() <= 1 / math.sqrt(fan_in)


@pytest.mark.parametrize("network,dataset", [("mnist_lenet", "mnist"), ("cifar10_lenet_elu", "cifar10"),
                                             ("digits_lenet", "digits"), ("mnist_lenet_mirrored", "mnist")])
def test_saved_hparams_rebuild_the_same_network(make_cfg, network, dataset):
    from msvdd.networks import build_network

    net = instantiate(make_cfg(f"dataset={dataset}", f"network={network}").network)
    again = build_network(net.hparams)
    assert type(again) is type(net) and trace(again) == trace(net)


@pytest.mark.parametrize("network,rep_dim", [("mnist_lenet", 24), ("cifar10_lenet", 0)])
def test_reference_rep_dim_must_fill_4x4_maps(make_cfg, network, rep_dim):
    with pytest.raises(InstantiationException) as err:
        instantiate(make_cfg(f"network={network}", f"network.rep_dim={rep_dim}").network)
    cause = err.value.__cause__  # run() unwraps Hydra's wrapper and prints this one line
    assert isinstance(cause, ConfigError)
    assert str(cause).startswith(f"network.rep_dim={rep_dim} ") and "multiple of 16" in str(cause)


def test_the_wide_digits_network_is_the_digits_lenet_with_more_channels(make_cfg):
    """network=digits_lenet_wide only widens: same layer kinds and kernels, 64 / 32 channels, a 128-d code."""
    narrow = instantiate(make_cfg("dataset=digits", "network=digits_lenet").network)
    wide = instantiate(make_cfg("dataset=digits", "network=digits_lenet_wide").network)
    assert wide.hparams == {**narrow.hparams, "channels": [64, 32], "rep_dim": 128}
    assert wide.encoder(torch.rand(5, 1, 8, 8)).shape == (5, 128)
    assert all(m.bias is None for m in wide.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)))


def test_the_wide_mnist_network_is_the_mirrored_lenet_with_more_channels(make_cfg):
    """network=mnist_lenet_wide: Ruff's 5x5 blocks at 16 / 8 channels, a 64-d code, his LeakyReLU slope 0.01."""
    mirrored = instantiate(make_cfg("dataset=mnist", "network=mnist_lenet_mirrored").network)
    wide = instantiate(make_cfg("dataset=mnist", "network=mnist_lenet_wide").network)
    assert wide.hparams == {**mirrored.hparams, "channels": [16, 8], "rep_dim": 64, "negative_slope": 0.01}
    x = torch.rand(3, 1, 28, 28)
    assert wide.encoder(x).shape == (3, 64) and wide(x).shape == x.shape
    assert all(m.bias is None for m in wide.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)))
