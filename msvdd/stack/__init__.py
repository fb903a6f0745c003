"""Many models of one architecture trained as one: a sweep's jobs that share network, batch size, epochs and
optimiser settings (``hydra/launcher=stacked``, hydra_plugins/msvdd_stacked_launcher).

``stacked``: the parameters of M networks stacked along a new first dimension and one ``vmap`` of the
network's functional form over them (torch.func), so each optimisation step is one pass of
batched kernels instead of M passes of small ones. ``pretrain`` and ``train``: the two training phases
of Deep SVDD on a stack, step for step as ``msvdd.svdd.pretrain`` and ``msvdd.svdd.train_loop`` run them
alone (each model draws its own batches from its own training set with its own generator). ``fit``: the
phases of ``DeepSVDD.fit`` (msvdd.svdd.fit_steps) for a stack; ``jobs``: a sweep's jobs into stacks.
"""
