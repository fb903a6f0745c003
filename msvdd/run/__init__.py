"""One run, from its composed config to results.json, model.pt and plots (``msvdd.run.job.run``)."""
