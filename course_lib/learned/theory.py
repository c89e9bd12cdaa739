"""The chain rule of meta-training through two unrolled steps (Andrychowicz et al. 2016, §2.1),
for one coordinate and a stateless rule m(∇, φ) (the LSTM's hidden state adds terms of the
same kind). With ∇ₜ = f′(θₜ):

    θ₁ = θ₀ + m(∇₀, φ),   θ₂ = θ₁ + m(∇₁, φ),   L(φ) = f(θ₁) + f(θ₂)

    dL/dφ = f′(θ₁) θ₁′ + f′(θ₂) θ₂′,    θ₁′ = m_φ(∇₀, φ),
    θ₂′ = θ₁′ + m_φ(∇₁, φ) + m_∇(∇₁, φ) · f″(θ₁) · θ₁′.

The last term is the one meta-training drops: it needs the optimizee's second derivative. The
notebook derives both with SymPy; these are the results, for the tests and the library check.
f, f′ and f″ are SymPy functions that know their derivatives (f's is f′, f′'s is f″), so the
results print as the formulas above.
"""
from __future__ import annotations

import sympy as sp

__all__ = ["f", "df", "d2f", "m", "m_grad", "m_phi", "symbols", "two_step_meta_gradient",
           "dropped_term",
           "concrete"]


class d2f(sp.Function):
    """f″, the optimizee's second derivative."""
    _latex_name = "f''"

    def _latex(self, printer):
        return rf"f''\left({printer._print(self.args[0])}\right)"


class df(sp.Function):
    """f′, the optimizee's gradient (one coordinate)."""

    def fdiff(self, argindex=1):
        return d2f(self.args[0])

    def _latex(self, printer):
        return rf"f'\left({printer._print(self.args[0])}\right)"


class f(sp.Function):
    """The optimizee's loss."""

    def fdiff(self, argindex=1):
        return df(self.args[0])


class m_grad(sp.Function):
    """∂m/∂∇: how the step changes with the gradient it is given."""

    def _latex(self, printer):
        return rf"m_{{\nabla}}\left({', '.join(printer._print(a) for a in self.args)}\right)"


class m_phi(sp.Function):
    """∂m/∂φ: how the step changes with the optimizer's parameter."""

    def _latex(self, printer):
        return rf"m_{{\phi}}\left({', '.join(printer._print(a) for a in self.args)}\right)"


class m(sp.Function):
    """The update rule m(∇, φ): a step computed from the gradient and the optimizer's
    parameter; its partial derivatives are `m_grad` and `m_phi`."""

    def fdiff(self, argindex=1):
        return (m_grad if argindex == 1 else m_phi)(*self.args)


def symbols():
    """θ₀, φ and ∇₀ = f′(θ₀) (a constant: θ₀ does not depend on φ)."""
    return (sp.Symbol("theta_0", real=True), sp.Symbol("phi", real=True),
            sp.Symbol(r"\nabla_0", real=True))


def two_step_meta_gradient(dropped: bool = False):
    """dL/dφ for L = f(θ₁) + f(θ₂); ``dropped``: ∇₁ treated as a constant, as in the paper."""
    theta0, phi, nabla0 = symbols()
    theta1 = theta0 + m(nabla0, phi)
    nabla1 = sp.Symbol(r"\nabla_1", real=True) if dropped else df(theta1)
    theta2 = theta1 + m(nabla1, phi)
    grad = sp.diff(f(theta1) + f(theta2), phi)
    return grad.subs(nabla1, df(theta1)) if dropped else grad


def dropped_term():
    """What dropping the second derivatives leaves out: f′(θ₂) m_∇(∇₁, φ) f″(θ₁) m_φ(∇₀, φ)."""
    return sp.simplify(two_step_meta_gradient(False) - two_step_meta_gradient(True))


def concrete(expr, w, y, rule):
    """``expr`` for the 1-D optimizee f(θ) = (wθ − y)² and the update rule ``rule(∇, φ)`` (a
    SymPy expression builder), with ∇₀ = f′(θ₀): a function of θ₀ and φ only."""
    theta0, phi, nabla0 = symbols()
    x = sp.Dummy("x")
    out = expr.subs(nabla0, 2 * w * (w * theta0 - y))
    g, p = sp.symbols("g p")
    step = rule(g, p)
    for fn, body in ((m, step), (m_grad, sp.diff(step, g)), (m_phi, sp.diff(step, p))):
        out = out.replace(fn, sp.Lambda((g, p), body))
    out = out.replace(d2f, sp.Lambda(x, 2 * w ** 2))
    out = out.replace(df, sp.Lambda(x, 2 * w * (w * x - y)))
    return out.replace(f, sp.Lambda(x, (w * x - y) ** 2)).doit()
