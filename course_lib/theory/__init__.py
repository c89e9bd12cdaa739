"""The derivations behind the lectures, in SymPy, one module per lecture.

Each lecture notebook shows its derivation as SymPy steps a student reads and changes; the
module of the same lecture holds the same results, lambdified where widgets, benchmarks and
tests need numbers, and a test keeps the notebook's steps and the module's results equal.

- `gradient_descent` — lecture 02: GD, momentum and Nesterov on a quadratic (iteration
  matrices, stability regions, optimal hyperparameters, torch's Nesterov form).
- `rates` — rates measured from runs, to print next to the predicted ones.
"""
from . import gradient_descent
from .rates import measured_rate, trace_rate

__all__ = ["gradient_descent", "measured_rate", "trace_rate"]
