"""Classic anomaly detectors to compare Deep SVDD with, on the same data and with the same API."""

from msvdd.baselines.ae_recon import AEReconstruction
from msvdd.baselines.base import Baseline
from msvdd.baselines.detectors import IForestDetector, KNNDetector, LOFDetector, OCSVMDetector
from msvdd.baselines.features import PCAFeatures, PixelFeatures

__all__ = ["AEReconstruction", "Baseline", "IForestDetector", "KNNDetector", "LOFDetector", "OCSVMDetector",
           "PCAFeatures", "PixelFeatures"]
