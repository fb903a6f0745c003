"""Experiment tracking (``logger=mlflow``): each run, sweep table and Optuna trial in a tracking store.

callback.py is the Hydra callback conf/logger/ wires in; record.py reads what a run wrote; mlflow.py
writes it to MLflow. Nothing in msvdd.run knows about trackers. Guide: docs/tracking.md.
"""
