"""Sweeps and searches as msvdd sees them: the search space, where a study lives, a sweep's failures.

The Hydra sweeper plugins (``hydra_plugins/``) import these modules; msvdd never imports the plugins.
Kept free of heavy imports: Hydra imports every plugin module, and so this package, when it scans.
"""
