"""The derivations behind the lectures, in SymPy, one module per topic, named by lecture below.

Each lecture notebook shows its derivation as SymPy steps a student reads and changes; the
module holds the same results, lambdified where widgets, benchmarks and tests need numbers,
and the notebook (executed by nbval) and tests keep the two equal.

Lecture 02
- `gradient_descent` — GD, momentum and Nesterov on a quadratic (iteration matrices, stability
  regions, optimal hyperparameters, torch's Nesterov form).
- `ripples` — where GD stops on a bowl with bumps, and when heavy ball rolls on.
- `stale_gradients` — the largest stable step when gradients arrive τ steps late.
- `noise_floor` — the stationary excess loss of SGD, momentum and Nesterov under gradient noise.

Lecture 03
- `adaptive` — Adam's bias correction, Adagrad's 1/√t rate, how updates scale when θ → cθ
  (Adadelta like θ, SGD like 1/θ), Adam's invariance to the gradient's scale.

Lecture 04
- `second_order` — the Taylor model and Newton step, one step on a PD quadratic, the BFGS
  inverse update (secant equation, symmetry), Hessian-vector products as directional
  derivatives, linear CG's α and β and the slide's climbing first step.

All lectures
- `rates` — rates measured from runs, to print next to the predicted ones.
"""
from . import adaptive, gradient_descent, noise_floor, ripples, second_order, stale_gradients
from .rates import measured_rate, trace_rate

__all__ = ["gradient_descent", "ripples", "stale_gradients", "noise_floor", "adaptive", "second_order",
           "measured_rate", "trace_rate"]
