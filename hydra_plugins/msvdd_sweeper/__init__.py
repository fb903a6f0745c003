"""msvdd's grid sweeper (``hydra/sweeper=msvdd``, the default): Hydra's basic sweeper, except that
one failed job does not stop the sweep. Kept free of heavy imports (Hydra scans every plugin module)."""
