"""msvdd's stacked launcher (``hydra/launcher=stacked``): a sweep's Deep SVDD jobs that can train together
are trained as one model per stack, in this process. Kept free of heavy imports (Hydra scans every
plugin module); see :mod:`hydra_plugins.msvdd_stacked_launcher.launcher`."""
