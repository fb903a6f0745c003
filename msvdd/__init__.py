"""msvdd: Multi-Radius Deep SVDD for deep one-class anomaly detection."""

__version__ = "0.1.0"
