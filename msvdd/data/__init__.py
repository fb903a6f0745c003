"""Datasets for one-class anomaly detection: the benchmarks and the user's own data (image folders, arrays,
tables), their readers, preprocessing (GCN-L1 + min-max, or standardisation) and loaders."""

from msvdd.data.arrays import Arrays
from msvdd.data.datasets import CIFAR10, MNIST, Digits, FashionMNIST, OneClassData, OneClassDataset
from msvdd.data.folder import Folder
from msvdd.data.preprocess import apply_min_max, fit_min_max, gcn_l1
from msvdd.data.readers import read_cifar10, read_idx
from msvdd.data.table import Table

__all__ = [
    "Arrays",
    "CIFAR10",
    "MNIST",
    "Digits",
    "FashionMNIST",
    "Folder",
    "OneClassData",
    "OneClassDataset",
    "Table",
    "apply_min_max",
    "fit_min_max",
    "gcn_l1",
    "read_cifar10",
    "read_idx",
]
