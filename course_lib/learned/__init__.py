"""Learning to learn by gradient descent by gradient descent (Andrychowicz et al. 2016): a
coordinatewise LSTM optimizer, meta-trained with autograd, and tools to open it up.

    preprocess   the gradient as (log|g|/p, sign g), p = 10
    lstm         the two-layer LSTM m(∇, h; φ), 20 hidden units, shared across coordinates
    optimizer    LearnedOptimizer: the course's optimizer protocol (run, race, unit tests)
    quadratics   the optimizees: 10-D ‖Wθ − y‖², train / tune / test splits
    meta         meta-training: truncated BPTT, autograd, Adam, clipping, checkpoints
    baselines    SGD, Nesterov, RMSprop, Adam with learning rates tuned on the training family
    report       the quadratic experiment measured, and the run that writes the weights
    probe        synthetic gradient sequences: step size, memory, clipping read off

``python -m course_lib.learned train --seed 0 --seconds 120`` meta-trains and writes the
weights; `load("quadratic")` reads the shipped ones (no training).
"""
from .optimizer import SHIPPED, LearnedOptimizer, LearnedState, load, save, shipped_quadratic
from .preprocess import preprocess

__all__ = ["LearnedOptimizer", "LearnedState", "load", "save", "SHIPPED", "preprocess",
           "shipped_quadratic"]
