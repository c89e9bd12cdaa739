"""Exercises 04 (solutions/04_second_order_methods.ipynb): each typical mistake a student makes
in a Newton step, a backtracking line search, the two-loop recursion, conjugate gradient and a
finite-difference Hessian-vector product fails its question with the message that names it,
and alternative correct answers pass. The cells run in one namespace, as in a student's
kernel (the checks compare at once and raise)."""
from pathlib import Path

import nbformat
import pytest

from course_lib.check import AnswerError

SOLUTION = Path(__file__).resolve().parents[1] / "solutions" / "04_second_order_methods.ipynb"

NEWTON = "def newton_step(theta, grad, hess):\n    {}\n"
SEARCH = "def backtracking(f, theta, p, slope, alpha0, rho, c1):\n    {}\n"
LOOPS = "def lbfgs_direction(g, S, Z):\n    {}\n"
CG = "def cg(A_times, g, iterations):\n    {}\n"
FD = "def fd_hvp(grad, theta, v, eps):\n    {}\n"


def _search(condition, first="alpha0", returned="alpha"):
    return SEARCH.format(f"f0, alpha = f(theta), {first}\n    for _ in range(50):\n"
                         f"        if {condition}:\n            return {returned}\n"
                         "        alpha = rho * alpha\n    return 0.0")


def _loops(rho="1.0 / (s @ z)", first="reversed", gamma="(S[-1] @ Z[-1]) / (Z[-1] @ Z[-1])",
           sign="-", second_a="a[::-1]"):
    pairs = "list(zip(S, Z, rho))"
    order = f"{pairs}[::-1]" if first == "reversed" else pairs
    return LOOPS.format(
        f"rho = [{rho} for s, z in zip(S, Z)]\n    order = {order}\n    q, a = g.copy(), []\n"
        "    for s, z, r_i in order:\n        a.append(r_i * (s @ q))\n"
        "        q = q - a[-1] * z\n"
        f"    r = {gamma} * q\n"
        f"    for (s, z, r_i), a_i in zip(order[::-1], {second_a}):\n"
        "        r = r + (a_i - r_i * (z @ r)) * s\n"
        f"    return {sign}r")


def _cg(d0="-r", g="g", beta="(r_new @ r_new) / (r @ r)", direction="r_new",
        count="iterations", curvature="d @ Ad"):
    return CG.format(
        f"g = {g}\n    p, r = np.zeros_like(g), g.copy()\n    d = {d0}\n"
        f"    for _ in range({count}):\n        Ad = A_times(d)\n"
        f"        alpha = (r @ r) / ({curvature})\n        p = p + alpha * d\n"
        "        r_new = r + alpha * Ad\n"
        f"        d = -{direction} + {beta} * d\n        r = r_new\n    return p")


#: question → [(answer source, the words its message must contain, or None for full marks)]
ANSWERS = {
    "q1": [(NEWTON.format("return theta + np.linalg.solve(hess(theta), grad(theta))"),
            "climbs the quadratic model"),
           (NEWTON.format("return theta - hess(theta) @ grad(theta)"),
            "multiplied the gradient by H"),
           (NEWTON.format("return theta - grad(theta)"), "you took a gradient step"),
           (NEWTON.format("return theta - grad(theta) / np.diag(hess(theta))"),
            "diagonal of H"),
           (NEWTON.format("return -np.linalg.solve(hess(theta), grad(theta))"),
            "you returned the step p"),
           (NEWTON.format("return theta - np.linalg.inv(hess(theta)) @ grad(theta)"), None)],
    "q2": [(_search("f(theta + alpha * p) <= f0 + c1 * slope"), "leaves out α"),
           (_search("f(theta + alpha * p) <= f0 - c1 * alpha * slope"), "wrong sign"),
           (_search("f(theta + alpha * p) < f0"), "sufficient decrease"),
           (_search("f(theta + alpha * p) <= f0 + c1 * alpha * slope", returned="rho * alpha"),
            "ρ times the accepted one"),
           (_search("f(theta + alpha * p) <= f0 + c1 * alpha * slope", first="rho * alpha0"),
            "ρ times the accepted one"),
           (SEARCH.format("alphas = alpha0 * rho ** np.arange(50)\n"
                          "    ok = [f(theta + a * p) <= f(theta) + c1 * a * slope "
                          "for a in alphas]\n"
                          "    return float(alphas[ok.index(True)]) if True in ok else 0.0"),
            None)],
    "q3": [(_loops(rho="1.0"), "you left out ρ_i"),
           (_loops(first="forward"), "wrong order"),
           (_loops(gamma="1.0"), "no initial scaling"),
           (_loops(gamma="(S[0] @ Z[0]) / (Z[0] @ Z[0])"), "oldest pair"),
           (_loops(gamma="(Z[-1] @ Z[-1]) / (S[-1] @ Z[-1])"), "upside down"),
           (_loops(sign="+"), "you returned +H g"),
           (_loops(second_a="a"), "pairs each a_i with the wrong pair"),
           (_loops(), None)],
    "q4": [(_cg(d0="r"), "lecture slide's d₀ = ∇L"),
           (_cg(g="-g"), "you solved A p = +g"),
           (_cg(beta="0.0"), "steepest descent"),
           (_cg(beta="(r @ r) / (r_new @ r_new)"), "β is upside down"),
           (_cg(direction="r"), "uses the old residual"),
           (_cg(count="iterations - 1"), "one iteration short"),
           (_cg(count="iterations + 1"), "one iteration too far"),
           (_cg(curvature="d @ d"), "leaves out A"),
           (_cg(), None)],
    "q5": [(FD.format("return (grad(theta + eps * v) - grad(theta)) / eps"),
            "forward difference"),
           (FD.format("return (grad(theta + eps * v) - grad(theta - eps * v)) / eps"),
            "divided by ε instead of 2ε"),
           (FD.format("return (grad(theta - eps * v) - grad(theta + eps * v)) / (2 * eps)"),
            "wrong way round"),
           (FD.format("return (grad(theta + eps) - grad(theta - eps)) / (2 * eps)"),
            "in every coordinate"),
           (FD.format("h = eps * v\n    return 0.5 * (grad(theta + h) - grad(theta - h)) / eps"),
            None)],
}


@pytest.fixture(scope="module")
def cells():
    nb = nbformat.read(SOLUTION, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
            if c.cell_type == "code"}


def _run(cells, question, answer):
    namespace: dict = {}
    exec(cells["setup"], namespace)
    exec(answer, namespace)
    exec(cells[f"{question}_tests"], namespace)


@pytest.mark.parametrize("question,answer,named",
                         [(q, a, n) for q, cases in ANSWERS.items() for a, n in cases],
                         ids=[f"{q}-{n or 'correct'}" for q, cases in ANSWERS.items()
                              for _, n in cases])
def test_each_typical_mistake_is_named_and_correct_variants_pass(cells, question, answer, named):
    if named is None:
        _run(cells, question, answer)
        return
    with pytest.raises(AnswerError) as failure:
        _run(cells, question, answer)
    assert named in str(failure.value), str(failure.value)


def test_the_solutions_pass_their_own_tests(cells):
    for question in ANSWERS:
        _run(cells, question, cells[f"{question}_answer"])
