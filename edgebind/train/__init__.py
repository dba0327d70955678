"""Training: teacher -> student distillation and ImageBind's InfoNCE alignment; one process or torchrun (DDP).

Modules:
    data        Recordings -> windows through the input contracts, segment-wise held-out splits.
    augment     sensor-matched augmentations; view ``v`` of window ``i`` is a pure function of (seed, i, v).
    embeddings  frozen teacher/anchor embeddings, computed once (sharded over ranks) and cached.
    losses      distillation (cosine + MSE, relational, contrastive) and symmetric InfoNCE.
    loop        the optimisation loop: DDP, gradient accumulation, bf16 autocast on CUDA, checkpoints, resume.
    evaluate    held-out teacher agreement and label accuracy.
    distill     ``distill(...)``, behind ``edgebind distill``.
    align       ``train_aligned(...)``, behind ``edgebind train``; anchors: text models and paired frames.

Nothing here is imported by ``import edgebind``; import the submodules
(``from edgebind.train.distill import distill``).
"""

