"""The run's CPU thread count (the ``threads`` field), held for every phase of the run.

torch, the BLAS/OpenMP libraries of numpy and scikit-learn, and numba each keep their own count.
Setting them once at the start is not enough: a library imported later brings its own thread pools
at the machine's core count, and numba's OpenMP layer, when it first starts (umap calls
``numba.set_num_threads`` in every fit), sets the OpenMP thread count of the process, which is the
one torch reads. After a UMAP clustering space, a ``threads=1`` run trained Deep SVDD on every core
(two joblib workers then oversubscribed two cores: Deep SVDD took 2.9 s instead of 0.03 s on wine).

``pin(n)`` sets all of them; ``kept()`` puts the count in force on entry back when its block ends,
whatever the block imported or ran. The clustering stage runs inside ``kept()``
(msvdd.clustering.pseudo_labels).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

import torch
from threadpoolctl import threadpool_limits


def pin(n: int) -> None:
    """torch, every BLAS/OpenMP pool loaded now and numba (when imported) to ``n`` threads.

    numba first: starting its threading layer resets the process's OpenMP count, which torch reads.
    """
    n = max(1, int(n))
    numba = sys.modules.get("numba")
    if numba is not None:
        numba.set_num_threads(min(n, int(numba.config.NUMBA_NUM_THREADS)))
    threadpool_limits(n)  # the pools of libraries loaded since the last call too
    torch.set_num_threads(n)


@contextlib.contextmanager
def kept() -> Iterator[int]:
    """Run a block (that may import numba, umap, ...) and put torch's count on entry back in force after it."""
    n = torch.get_num_threads()
    try:
        yield n
    finally:
        pin(n)
