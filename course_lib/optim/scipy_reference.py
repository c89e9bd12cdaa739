"""The course's second-order methods against scipy.optimize, run and counted alike.

Lecture 04's table (and the benchmark, and the oracle test) compares `LBFGS` with scipy's
L-BFGS-B, and `HessianFree` with scipy's Newton-CG and trust-ncg, on the same problems, all
run until ‖∇L‖∞ ≤ gtol (1e-5): L-BFGS-B by its own test (``gtol``, with ``ftol=0`` so that it
does not stop earlier on a small decrease of L), the others by a callback that stops them
once the gradient at the new iterate passes the same test. Evaluations are counted on both
sides by what the method asked of the problem: calls of L and ∇L (scipy evaluates them
together, as `LBFGS`'s line search does), and curvature–vector products.
"""
from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np

__all__ = ["Outcome", "scipy_outcome", "course_outcome", "table_problems", "SCIPY_METHODS",
           "table", "table_markdown", "TABLE_METHODS", "RESULT", "main"]

SCIPY_METHODS = ("L-BFGS-B", "Newton-CG", "trust-ncg")


class Outcome(NamedTuple):
    """One method on one problem, run to ‖∇L‖∞ ≤ gtol (or until it stopped)."""
    method: str
    problem: str
    iterations: int
    n_f: int         # evaluations of L (for scipy and LBFGS: of L and ∇L together)
    n_grad: int      # evaluations of ∇L
    n_curvature: int  # Hessian- or Gauss–Newton–vector products
    loss: float      # L at the last iterate
    grad_norm: float  # ‖∇L‖∞ there
    theta: np.ndarray
    seconds: float   # wall time of this one run (a single sample; benchmarks time properly)


def scipy_outcome(problem, method: str = "L-BFGS-B", *, gtol: float = 1e-5, m: int = 10,
                  max_iter: int = 100_000, x0=None) -> Outcome:
    """Run ``scipy.optimize.minimize(method=...)`` on a course problem from its x0.

    L and ∇L are passed as one function (``jac=True``): each call is one evaluation of both.
    Newton-CG and trust-ncg get ``hessp=problem.hvp``. ``m`` is L-BFGS-B's ``maxcor``.
    """
    from scipy.optimize import minimize
    if method not in SCIPY_METHODS:
        raise ValueError(f"scipy_outcome(method={method!r}): use one of {SCIPY_METHODS}.")
    x0 = np.asarray(problem.x0 if x0 is None else x0, dtype=float)
    counts = {"fg": 0, "hvp": 0}
    last = {}  # ∇L at the points evaluated last, for the callback's test

    def fg(t):
        counts["fg"] += 1
        value, g = problem.value_and_grad(t)
        g = np.asarray(g, dtype=float)
        last[t.tobytes()] = g
        if len(last) > 8:
            last.pop(next(iter(last)))
        return float(value), g

    def hessp(t, v):
        counts["hvp"] += 1
        return np.asarray(problem.hvp(t, v), dtype=float)

    def stop_at_gtol(intermediate_result):
        g = last.get(intermediate_result.x.tobytes())
        if g is None:  # not evaluated there yet: scipy evaluates it first thing next iteration
            return
        if np.max(np.abs(g)) <= gtol:
            raise StopIteration

    kwargs = {}
    if method == "L-BFGS-B":
        options = {"gtol": gtol, "ftol": 0.0, "maxcor": m, "maxiter": max_iter,
                   "maxfun": 10 * max_iter}
    else:
        kwargs = {"hessp": hessp, "callback": stop_at_gtol}
        options = {"maxiter": max_iter}
        if method == "Newton-CG":
            options["xtol"] = 1e-30  # never stop on the step: stop on the gradient only
        else:
            options["gtol"] = 1e-30
    start = time.perf_counter()
    with np.errstate(all="ignore"):
        result = minimize(fg, x0, jac=True, method=method, options=options, **kwargs)
    seconds = time.perf_counter() - start
    g = np.asarray(problem.grad(result.x), dtype=float)
    return Outcome(method, problem.name, int(result.nit), counts["fg"], counts["fg"],
                   counts["hvp"], float(problem.f(result.x)), float(np.max(np.abs(g))),
                   result.x, seconds)


def course_outcome(opt, problem, *, max_steps: int = 20_000, x0=None) -> Outcome:
    """Run a course optimizer with ``run()`` until it stops (its own gtol) or ``max_steps``."""
    from .run import run
    x0 = problem.x0 if x0 is None else x0
    start = time.perf_counter()
    trace = run(opt, problem, x0, max_steps, keep_thetas=False)
    seconds = time.perf_counter() - start
    stopped = trace.stopped_at
    iterations = int(stopped) if stopped is not None and int(stopped) >= 0 else trace.steps
    g = np.asarray(problem.grad(trace.theta), dtype=float)
    return Outcome(type(opt).__name__, problem.name, iterations, trace.n_f, trace.n_grad,
                   trace.n_hvp + trace.n_gnvp, float(problem.f(trace.theta)),
                   float(np.max(np.abs(g))), trace.theta, seconds)


def table_problems(size: str = "full") -> list:
    """The problems of lecture 04's table: Rosenbrock 2-D, extended (independent pairs) and
    chained (scipy.optimize.rosen) Rosenbrock, Beale, logistic regression of the digits 3 vs 8
    (l2 = 1e-3), and Moré–Garbow–Hillstrom functions at their standard starts.

    ``size="full"``: extended n = 100, 1000, 10⁴ and chained n = 100, 1000 (the table);
    ``"small"``: only the small instances (seconds, for tests)."""
    from .. import problems as P
    from ..data import load_digits, logistic_regression
    if size not in ("full", "small"):
        raise ValueError(f"table_problems(size={size!r}): use 'full' or 'small'.")
    digits = load_digits(classes=(3, 8))
    logistic = logistic_regression(digits.X_train, (digits.y_train == 8).astype(int), l2=1e-3)
    logistic.name = "logistic regression (digits 3 vs 8, l2 = 1e-3)"
    out = [P.rosenbrock(2), P.rosenbrock(100, "extended")]
    if size == "full":
        out += [P.rosenbrock(1000, "extended"), P.rosenbrock(10_000, "extended"),
                P.rosenbrock(100), P.rosenbrock(1000)]
    out += [P.beale(), logistic, P.powell_singular(), P.wood(), P.brown_badly_scaled(),
            P.helical_valley(), P.box_3d(), P.trigonometric(10), P.variably_dimensioned(10),
            P.broyden_tridiagonal(10), P.penalty_1(10)]
    if size == "full":
        out += [P.powell_singular(1000), P.trigonometric(100), P.variably_dimensioned(100),
                P.broyden_tridiagonal(1000), P.penalty_1(100)]
    return out


#: the table's columns: a name → a function problem ↦ Outcome
TABLE_METHODS = {
    "LBFGS": lambda p: course_outcome(_lbfgs(), p),
    "L-BFGS-B": lambda p: scipy_outcome(p, "L-BFGS-B"),
    "HessianFree": lambda p: course_outcome(_hessian_free(), p),
    "Newton-CG": lambda p: scipy_outcome(p, "Newton-CG"),
    "trust-ncg": lambda p: scipy_outcome(p, "trust-ncg"),
}

#: the shipped full table (`python -m course_lib.optim.scipy_reference`)
RESULT = "second_order_scipy_table.json"


def _lbfgs():
    from .quasi_newton import LBFGS
    return LBFGS(m=10)


def _hessian_free():
    from .hessian_free import HessianFree
    return HessianFree(curvature="hessian")  # exact H v, as scipy's methods get (hessp)


def table(problems, progress: bool = False) -> list:
    """One row per problem: for each of `TABLE_METHODS`, its iterations, evaluations of L and
    of ∇L, curvature products, final L and ‖∇L‖∞ (all run to ‖∇L‖∞ ≤ 1e-5), as plain dicts."""
    from tqdm.auto import tqdm
    rows = []
    for p in tqdm(problems, desc="second-order table", disable=not progress):
        row = {"problem": p.name, "d": int(np.shape(p.x0)[-1])}
        for name, method in TABLE_METHODS.items():
            o = method(p)
            row[name] = {"iterations": o.iterations, "n_f": o.n_f, "n_grad": o.n_grad,
                         "n_curvature": o.n_curvature, "loss": o.loss,
                         "grad_norm": o.grad_norm, "seconds": o.seconds}
        rows.append(row)
    return rows


def table_markdown(rows) -> str:
    """`table`'s rows as two Markdown tables: LBFGS against L-BFGS-B (iterations, evaluations
    of L and ∇L together, their ratio, final ‖∇L‖∞), and HessianFree against Newton-CG and
    trust-ncg (iterations / L evaluations / ∇L evaluations / Hessian-vector products, final L
    where the methods end at different minima)."""
    def cell(o, curvature=False):
        text = f"{o['iterations']} / {o['n_f']}"
        if curvature:
            text += f" / {o['n_grad']} / {o['n_curvature']}"
        return text + f" ({o['grad_norm']:.0e})"

    def name(r):
        return f"{r['problem']}" + ("" if f"d={r['d']}" in r["problem"] else f", d = {r['d']}")

    lines = ["| problem | LBFGS: iterations / L,∇L (‖∇L‖∞) | L-BFGS-B | evaluations, ratio |",
             "|---|---:|---:|---:|"]
    for r in rows:
        ours, ref = r["LBFGS"], r["L-BFGS-B"]
        lines.append(f"| {name(r)} | {cell(ours)} | {cell(ref)} | "
                     f"{ours['n_f'] / ref['n_f']:.2f} |")
    lines += ["", "| problem | HessianFree: it. / L / ∇L / Hv (‖∇L‖∞) | Newton-CG | trust-ncg "
              "| final L (HF, Newton-CG) |", "|---|---:|---:|---:|---:|"]
    for r in rows:
        hf, ncg, tncg = r["HessianFree"], r["Newton-CG"], r["trust-ncg"]
        lines.append(f"| {name(r)} | {cell(hf, True)} | {cell(ncg, True)} | {cell(tncg, True)} "
                     f"| {hf['loss']:.4g}, {ncg['loss']:.4g} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    """``python -m course_lib.optim.scipy_reference [--small] [--out FILE]``: lecture 04's table
    over `table_problems` (default: the full list, a few minutes), as JSON."""
    import argparse
    import json
    import platform
    import sys

    parser = argparse.ArgumentParser(
        prog="python -m course_lib.optim.scipy_reference",
        description="Lecture 04's table: LBFGS vs scipy L-BFGS-B, HessianFree vs Newton-CG and "
                    "trust-ncg, every method run to ||grad L||_inf <= 1e-5.")
    parser.add_argument("--small", action="store_true", help="only the small problems")
    parser.add_argument("--out", default=None,
                        help=f"the JSON file (default: course_lib/results/{RESULT})")
    args = parser.parse_args(argv)
    import scipy.optimize  # noqa: F401  (loaded first: threadpool_limits only reaches the
    #                        BLAS libraries already loaded, scipy's own OpenBLAS among them)
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1):
        rows = table(table_problems("small" if args.small else "full"), progress=True)
    if args.out is None:
        from ..results import DIR
        out = DIR / RESULT
    else:
        from pathlib import Path
        out = Path(args.out)
    out.write_text(json.dumps({
        "command": "python -m course_lib.optim.scipy_reference " + " ".join(
            sys.argv[1:] if argv is None else argv),
        "machine": f"{platform.machine()}, python {platform.python_version()}, numpy "
                   f"{np.__version__}", "gtol": 1e-5, "rows": rows}, indent=1))
    ratios = [r["LBFGS"]["n_f"] / r["L-BFGS-B"]["n_f"] for r in rows]
    print(f"wrote {out}: {len(rows)} problems; LBFGS / L-BFGS-B evaluations: geometric mean "
          f"{np.exp(np.mean(np.log(ratios))):.3f}, worst {max(ratios):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
