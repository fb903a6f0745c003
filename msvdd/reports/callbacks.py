"""Hydra callbacks: the table sweeps aggregate themselves when they end.

Configured under ``hydra.callbacks`` in the table experiments (conf/experiment/table_*.yaml), so
``python -m msvdd -m experiment=table_mnist_quick`` alone prints the table. ``python -m msvdd.table``
stays for tables over several sweeps.
"""

from __future__ import annotations

import logging
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from msvdd.reports.table import MixedSettingsError, collect_runs, write_table

log = logging.getLogger(__name__)


class TableCallback(Callback):
    """At the end of a multirun, write the sweep folder's table to ``out_dir`` and print it.

    A table problem (no complete run, mixed settings in the folder) is reported in one line and
    does not fail the sweep: its runs are complete either way, and the table step can be rerun.
    """

    def __init__(self, out_dir: str, ensemble=()):
        self.out_dir, self.ensemble = out_dir, list(ensemble)  # methods that also get a seed-ensemble column

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            runs, failed = collect_runs([sweep_dir])
            if runs.empty:
                raise FileNotFoundError(f"no complete results.json under {sweep_dir}")
            md = write_table(runs, failed, self.out_dir, ensemble=[m for m in self.ensemble if m in set(runs.method)])
        except (FileNotFoundError, MixedSettingsError) as err:
            log.error("table not written: %s", err)
            print(f"msvdd-table: {err}")
            return
        print(md)
        print(f"table written to {self.out_dir}")
