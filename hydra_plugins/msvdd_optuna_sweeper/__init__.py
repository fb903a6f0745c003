"""msvdd's Hydra sweeper on the current Optuna API (``hydra/sweeper=msvdd_optuna``).

Kept free of heavy imports: Hydra imports every module of every ``hydra_plugins`` package when
it scans for plugins.  See :mod:`hydra_plugins.msvdd_optuna_sweeper.sweeper` for the semantics.
"""

__version__ = "0.1.0"
