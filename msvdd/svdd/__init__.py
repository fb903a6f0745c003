"""Deep SVDD: the estimator (one sphere or one per cluster) and everything its training needs."""

from msvdd.svdd.estimator import DeepSVDD

__all__ = ["DeepSVDD"]
