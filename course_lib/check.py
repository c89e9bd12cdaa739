"""Immediate feedback for exercise cells: say exactly what is off, and how to look for the bug.

Each check raises `AnswerError` (an AssertionError, so graders and nbval see a failed cell)
with a message that names the quantity, the expected and received values, the relative error
and a hint; on success it prints one line starting with ✓.

    check.array("gradient", grad_L(theta), expected, hint="did you divide by N?")
    check.function("empirical_risk", empirical_risk, reference, cases)   # also: inputs unchanged
    check.trajectory("GD iterates", my_thetas, expected_thetas)
"""
from __future__ import annotations

import inspect
from typing import Callable, Iterable, Mapping, Optional, Sequence, Union

import numpy as np

__all__ = ["AnswerError", "array", "scalar", "function", "trajectory", "relative_error"]


class AnswerError(AssertionError):
    """An exercise answer is wrong; the message says how."""


def relative_error(got, expected) -> np.ndarray:
    """|got − expected| / max(|got|, |expected|, tiny), elementwise (0 where both are 0)."""
    got = np.asarray(got, dtype=float)
    expected = np.asarray(expected, dtype=float)
    denom = np.maximum(np.maximum(np.abs(got), np.abs(expected)), 1e-300)
    return np.where(got == expected, 0.0, np.abs(got - expected) / denom)


def _fmt(a, max_items: int = 6) -> str:
    a = np.asarray(a)
    if a.ndim == 0:
        return f"{a.item():.6g}" if np.issubdtype(a.dtype, np.number) else repr(a.item())
    return np.array2string(a, precision=6, threshold=max_items, edgeitems=2,
                           separator=", ").replace("\n", "")


def _fail(name: str, what: str, hint: Optional[str]):
    msg = f"{name}: {what}"
    if hint:
        msg += f"\n  Hint: {hint}"
    raise AnswerError(msg)


def _as_numbers(name, got, hint):
    if got is None:
        _fail(name, "got None. Did you forget to `return` the result?", hint)
    if isinstance(got, type(NotImplemented)) or got is Ellipsis:
        _fail(name, "not answered yet.", hint)
    try:
        arr = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        _fail(name, f"expected numbers, got a {type(got).__name__}: {got!r:.80}", hint)
    return arr


def array(name: str, got, expected, *, rtol: float = 1e-6, atol: float = 1e-10,
          hint: Optional[str] = None, quiet: bool = False) -> None:
    """Check an array answer: type, shape, finiteness, then closeness, in that order."""
    expected = np.asarray(expected, dtype=float)
    got = _as_numbers(name, got, hint)
    if got.shape != expected.shape:
        extra = ""
        if got.ndim > 1 and got.shape == expected.shape[::-1]:
            extra = " (transposed?)"
        elif got.size == expected.size:
            extra = " (same number of entries: reshape, or check which axis you summed over)"
        _fail(name, f"shape {got.shape}, expected {expected.shape}{extra}.", hint)
    finite = np.isfinite(got)
    if not finite.all() and np.isfinite(expected).all():
        idx = tuple(int(i) for i in np.argwhere(~finite)[0])
        where = f" at index {idx}" if idx else ""
        _fail(name, f"non-finite value {got[idx]}{where} (overflow, or 0/0?).", hint)
    close = np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    if not close.all():
        rel = relative_error(got, expected)
        rel = np.where(close, 0.0, rel)
        worst = tuple(int(i) for i in np.unravel_index(int(np.nanargmax(rel)), rel.shape))
        n_bad = int(np.count_nonzero(~close))
        where = f" at index {worst}" if got.ndim else ""
        detail = (f"expected {_fmt(expected)}, got {_fmt(got)}; "
                  f"{n_bad} of {close.size} entries differ, the worst{where}: expected "
                  f"{_fmt(expected[worst])}, got {_fmt(got[worst])} "
                  f"(relative error {float(rel[worst]):.2e}, tolerance {rtol:g}).")
        ratio = got[worst] / expected[worst] if expected[worst] != 0 else np.nan
        if np.isfinite(ratio) and not np.isclose(ratio, 1.0):
            for r, say in ((-1.0, "the sign is flipped"), (2.0, "it is twice too large"),
                           (0.5, "it is half the expected value")):
                if np.isclose(ratio, r, rtol=1e-6):
                    detail += f" Note: {say}."
                    break
        _fail(name, detail, hint)
    if not quiet:
        print(f"✓ {name} is correct.")


def scalar(name: str, got, expected, *, rtol: float = 1e-6, atol: float = 1e-10,
           hint: Optional[str] = None, quiet: bool = False) -> None:
    """Check a single number (a Python float, a 0-d array or a length-1 array)."""
    got_arr = _as_numbers(name, got, hint)
    if got_arr.size != 1:
        _fail(name, f"expected a single number, got shape {got_arr.shape}.", hint)
    array(name, got_arr.reshape(()), np.asarray(expected, dtype=float).reshape(()),
          rtol=rtol, atol=atol, hint=hint, quiet=quiet)


def _param_names(fn) -> list:
    """Names of fn's positional parameters (empty if they cannot be read, e.g. ``*args``)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return []
    names = []
    for p in params:
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            break
        names.append(p.name)
    return names


def _copy_arrays(case: tuple) -> tuple:
    """A copy of the case in which every numpy array is a fresh copy (other values shared)."""
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in case)


def _unchanged(before: np.ndarray, after: np.ndarray) -> bool:
    if before.shape != after.shape:
        return False
    try:
        return bool(np.array_equal(before, after, equal_nan=True))
    except TypeError:  # dtypes without NaN (object, str)
        return bool(np.array_equal(before, after))


def _check_inputs_unchanged(name: str, fn, case: tuple, passed: tuple, label: str) -> None:
    """Fail if the call changed one of the arrays in ``passed`` (copies of ``case``)."""
    names = _param_names(fn)
    for k, (before, after) in enumerate(zip(case, passed)):
        if not isinstance(before, np.ndarray) or _unchanged(before, after):
            continue
        pname = names[k] if k < len(names) else None
        arg = f"argument #{k + 1}" + (f" (`{pname}`)" if pname else "")
        if before.shape != after.shape:
            what = f"its shape went from {before.shape} to {after.shape}"
        elif np.issubdtype(before.dtype, np.number):
            n_bad = int(np.count_nonzero(~np.isclose(after, before, rtol=0.0, atol=0.0,
                                                     equal_nan=True)))
            what = f"{n_bad} of {before.size} entries differ after the call"
        else:
            what = "its entries differ after the call"
        v = pname or "x"
        _fail(f"{name} ({label})",
              f"your function changed its {arg} in place ({what}). Writing into an input "
              f"array — e.g. `m *= mu`, `theta -= eta * g` or `{v}[i] = …` — modifies the "
              f"caller's array, so the caller's variables are silently changed too.",
              f"build a new array instead: write `m = mu * m - …` or `theta = theta - eta * g` "
              f"(a plain assignment), or start with `{v} = {v}.copy()`.")


def function(name: str, fn: Callable, reference: Callable, cases: Iterable[tuple], *,
             rtol: float = 1e-6, atol: float = 1e-10,
             hint: Optional[Union[str, Mapping[str, str]]] = None,
             describe: Optional[Callable[[tuple], str]] = None,
             outputs: Optional[Union[Sequence[str], Mapping[str, int]]] = None,
             compare: Optional[Callable] = None, quiet: bool = False) -> None:
    """Call a student's ``fn(*case)`` and ``reference(*case)`` on each case and compare.

    For each case: ``reference`` is called first, on copies of the case's numpy arrays; then
    ``fn``, on fresh copies; if ``fn`` changed one of those arrays in place, that is reported
    first (naming the argument); then the results are compared with ``compare`` (default
    `array`; `trajectory` for a list of iterates). The first case that fails is reported with
    its label. Exceptions inside the student's function are reported as such
    (NotImplementedError: "not answered yet").

    ``outputs`` names the entries of a tuple result, e.g. ``("new θ", "new m")``, or, to compare
    them in another order than they are returned, maps names to positions:
    ``{"new m": 1, "new θ": 0}``. ``hint`` is then either one hint, or a mapping from output
    name to hint.
    """
    if not callable(fn):
        _fail(name, f"expected a function, got {type(fn).__name__}.",
              hint if isinstance(hint, str) or hint is None else None)
    compare = array if compare is None else compare
    if outputs is not None and not isinstance(outputs, Mapping):
        outputs = {out: j for j, out in enumerate(outputs)}

    def hint_for(out=None):
        if isinstance(hint, Mapping):
            return hint.get(out)
        return hint

    n = 0
    for i, case in enumerate(cases):
        case = tuple(case)
        label = describe(case) if describe else f"test case {i + 1}"
        expected = reference(*_copy_arrays(case))
        passed = _copy_arrays(case)
        try:
            got = fn(*passed)
        except NotImplementedError:
            _fail(name, "not answered yet: replace `raise NotImplementedError()` with your "
                        "code.", hint_for())
        except Exception as exc:  # report the student's error in context, not as a crash
            _fail(name, f"raised {type(exc).__name__}: {exc} (on {label}).", hint_for())
        _check_inputs_unchanged(name, fn, case, passed, label)
        if outputs is None:
            compare(f"{name} ({label})", got, expected, rtol=rtol, atol=atol, hint=hint_for(),
                    quiet=True)
        else:
            if not isinstance(got, (tuple, list)) or len(got) != len(expected):
                kind = (f"a {type(got).__name__} of length {len(got)}"
                        if isinstance(got, (tuple, list)) else f"a {type(got).__name__}")
                in_order = ", ".join(sorted(outputs, key=outputs.get))
                _fail(f"{name} ({label})",
                      f"expected a tuple of {len(expected)} results ({in_order}), got {kind}.",
                      f"return them together, in that order: "
                      f"`return {', '.join('abcdefgh'[:len(expected)])}`.")
            _check_order(name, label, got, expected, outputs, rtol, atol)
            for out, j in outputs.items():
                compare(f"{name}: {out} ({label})", got[j], expected[j], rtol=rtol, atol=atol,
                        hint=hint_for(out), quiet=True)
        n += 1
    if not quiet:
        print(f"✓ {name} is correct on {n} test case{'s' if n != 1 else ''}.")


def _check_order(name, label, got, expected, outputs, rtol, atol):
    """Results that are right but returned in another order get their own message."""
    def same(a, b):
        try:
            a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        except (TypeError, ValueError):
            return False
        return a.shape == b.shape and np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)

    positions = sorted(outputs.values())
    if all(same(got[j], expected[j]) for j in positions):
        return
    for j in positions:
        for k in positions:
            if j != k and same(got[j], expected[k]) and not same(expected[j], expected[k]):
                order = ", ".join(sorted(outputs, key=outputs.get))
                _fail(f"{name} ({label})", f"your results are right but in the wrong order: "
                                           f"return them as ({order}).", None)


def trajectory(name: str, got, expected, *, rtol: float = 1e-6, atol: float = 1e-10,
               hint: Optional[str] = None, quiet: bool = False) -> None:
    """Compare iterates θ₀…θ_T (steps first): report the first step where they depart."""
    expected = np.asarray(expected, dtype=float)
    got = _as_numbers(name, got, hint)
    if got.shape != expected.shape:
        if got.ndim == expected.ndim and got.shape[1:] == expected.shape[1:]:
            _fail(name, f"{got.shape[0]} iterates, expected {expected.shape[0]} "
                        f"(θ₀ included, so steps + 1).", hint)
        _fail(name, f"shape {got.shape}, expected {expected.shape} (steps + 1, …).", hint)
    for t in range(expected.shape[0]):
        if not np.allclose(got[t], expected[t], rtol=rtol, atol=atol, equal_nan=True):
            before = "" if t == 0 else f" Steps 0…{t - 1} agree."
            if len(got) > 2 and np.all(got == got[-1]) and not np.all(expected == expected[-1]):
                # every row is the final iterate: one array appended again and again, then
                # changed in place (e.g. `theta -= eta * g` after `thetas.append(theta)`)
                _fail(name, f"departs at step {t}, and every row of your answer is the same "
                            f"array, {_fmt(got[-1])}: you appended θ and then changed it in "
                            f"place. Append a copy, or write θ = θ − η·g (a new array).", hint)
            _fail(name, f"departs at step {t}: expected {_fmt(expected[t])}, got "
                        f"{_fmt(got[t])}.{before}", hint)
    if not quiet:
        print(f"✓ {name}: all {expected.shape[0]} iterates are correct.")
