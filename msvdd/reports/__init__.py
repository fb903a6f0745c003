"""Reading finished runs back: results.json, the AUROC table, clustering comparisons, the sweep-end callback."""
