"""Datasets for one-class anomaly detection: readers, preprocessing (GCN-L1 + min-max) and loaders."""

from msvdd.data.datasets import CIFAR10, MNIST, Digits, FashionMNIST, OneClassData, OneClassDataset
from msvdd.data.preprocess import apply_min_max, fit_min_max, gcn_l1
from msvdd.data.readers import read_cifar10, read_idx

__all__ = [
    "CIFAR10",
    "MNIST",
    "Digits",
    "FashionMNIST",
    "OneClassData",
    "OneClassDataset",
    "apply_min_max",
    "fit_min_max",
    "gcn_l1",
    "read_cifar10",
    "read_idx",
]
