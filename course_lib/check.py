"""Immediate feedback for exercise cells: say exactly what is off, and how to look for the bug.

Each check compares an answer with the instructor's expected value and, in a student's
notebook, raises `AnswerError` (an AssertionError, so nbval and nbgrader see a failed cell)
with a message that names the quantity, the expected and received values, the relative error
and a hint — or a diagnosis, when the answer equals a typical mistake the test lists; on
success it prints one line starting with ✓.

    check.array("gradient", grad_L(theta), expected, hint="did you divide by N?")
    check.scalar("risk at θ = 0", risk(theta0), np.log(2), mistakes={"a sum, not a mean": ...})
    check.function("empirical_risk", empirical_risk, reference, cases)   # also: inputs unchanged
    check.trajectory("GD iterates", my_thetas, expected_thetas)

**Types.** Where a check expects an array, the answer must be a numpy array of that shape: a
list (even a list of arrays) is refused with a message saying so. Where it expects a number,
the answer must be one: a Python or numpy float or int (or a 0-d array); an array of shape (1,)
is refused too. A function returning several results returns a tuple (or list) of them.

**Under the grader** (``python -m course_lib.grade``) nothing is decided in the student's kernel.
The grader sets the environment variable ``COURSE_LIB_CHECK`` and every check *publishes a
record* (`course_lib.grading.records`) instead of comparing: in the student's kernel the
answer's outputs on the test inputs ("submission"), in a clean kernel running the solution the
expected values, the typical mistakes' values and the check's settings ("reference"). The grader
compares the two in its own process with `verdict`, the very function that produces the
messages in the student's notebook, so the feedback is the same in both places. Before a test
cell reaches the student's kernel the grader removes the expected side of every check call
(`expected`, `reference`, `mistakes`, and the settings), so there is no expected value in that
kernel to copy from.

**Writing a test cell** (lectures 03–05 write theirs this way):

- every graded statement is a ``check.*`` call; the question passes when all of its checks do;
- compute expected values only inside the call's ``expected`` / ``reference`` / ``mistakes``
  arguments (a lambda, or an expression), never in a variable of the test cell;
- make the test's inputs in the cell itself, from a generator seeded in the cell
  (``rng = np.random.default_rng(11)``), so that they do not depend on what the student's cells
  drew; the control flow must not depend on the answer's values (the grader matches the
  student's records with the solution's one by one);
- give every check, hidden ones included, a hint: a hidden test that fails says why too.
"""
from __future__ import annotations

import inspect
import os
from typing import Callable, Iterable, Mapping, Optional, Sequence, Union

import numpy as np

from course_lib.grading.records import (MIME, MODE_ENV, Opaque, decode, describe_value, encode,
                                        fingerprint)

__all__ = ["AnswerError", "array", "scalar", "function", "trajectory", "relative_error",
           "verdict", "MODE_ENV"]

_MISSING = object()  # an argument the grader removed (or the instructor forgot)


class AnswerError(AssertionError):
    """An exercise answer is wrong; the message says how."""


class _Mismatch(Exception):
    """What differs (without the check's name); ``hint`` replaces the check's hint if given."""

    def __init__(self, what: str, hint=_MISSING, note: str = ""):
        super().__init__(what)
        self.what = what
        self.hint = hint
        self.note = note  # a guess at the cause (" Note: …"), dropped when a mistake is known


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


# --------------------------------------------------------------------------- comparisons
# Each takes decoded values (see course_lib.grading.records) and raises _Mismatch.

def _is_number(x) -> bool:
    return isinstance(x, (bool, int, float, np.number, np.bool_)) and not isinstance(x, complex)


def _numbers(got, shape: tuple) -> np.ndarray:
    """``got`` as a float array, if it has the type the answer must have (see Types)."""
    if got is None:
        raise _Mismatch("got None. Did you forget to `return` the result?")
    if isinstance(got, Opaque) and got.typename in ("NotImplementedType", "ellipsis"):
        raise _Mismatch("not answered yet.")
    if shape != ():
        if isinstance(got, (list, tuple)):
            raise _Mismatch(f"expected a numpy array of shape {shape}, got {describe_value(got)}. "
                            f"A {type(got).__name__} is not an array (it has no shape): "
                            f"return `np.array(...)` of it.")
        if _is_number(got):
            raise _Mismatch(f"expected a numpy array of shape {shape}, got a single number "
                            f"({_fmt(got)}).")
        if not isinstance(got, np.ndarray):
            raise _Mismatch(f"expected a numpy array of shape {shape}, got "
                            f"{describe_value(got)}.")
    else:
        if isinstance(got, (list, tuple)):
            raise _Mismatch(f"expected a single number, got {describe_value(got)}: return the "
                            f"number itself (e.g. `x[0]`).")
        if isinstance(got, np.ndarray) and got.ndim > 0:
            raise _Mismatch(f"expected a single number, got a numpy array of shape {got.shape}"
                            + (": take the number out of it, e.g. `x[0]` or `x.item()`."
                               if got.size == 1 else "."))
        if not (_is_number(got) or isinstance(got, np.ndarray)):
            raise _Mismatch(f"expected a number, got {describe_value(got)}.")
    arr = np.asarray(got)
    if np.iscomplexobj(arr):
        if np.any(arr.imag != 0):
            raise _Mismatch("got complex numbers where real ones were expected (np.linalg.eigvals "
                            "of a non-symmetric matrix? np.linalg.eigvalsh gives real "
                            "eigenvalues of a symmetric one).")
        arr = arr.real
    try:
        return np.asarray(arr, dtype=float)
    except (TypeError, ValueError):
        raise _Mismatch(f"expected numbers, got {describe_value(got)}.") from None


def _factor_note(got: np.ndarray, expected: np.ndarray, worst: tuple) -> str:
    """A note when the answer is the expected value times a telling factor."""
    ratio = got[worst] / expected[worst] if expected[worst] != 0 else np.nan
    if not np.isfinite(ratio) or np.isclose(ratio, 1.0):
        return ""
    for r, say in ((-1.0, "the sign is flipped"), (2.0, "it is twice too large"),
                   (0.5, "it is half the expected value")):
        if np.isclose(ratio, r, rtol=1e-6):
            return f" Note: {say}."
    # The same factor k (or 1/k) in every entry, k a whole number: a sum of k terms where their
    # mean was asked, or a division by k too many. One number alone is weaker evidence, so it
    # needs a larger k before the note guesses.
    nonzero = expected != 0
    if not np.all(np.isfinite(expected[nonzero])):
        return ""
    uniform = (np.allclose(got[nonzero], ratio * expected[nonzero], rtol=1e-6, atol=0)
               and np.all(got[~nonzero] == 0))
    smallest = 3 if np.count_nonzero(nonzero) > 1 else 10
    every = "every entry is" if got.size > 1 else "it is"
    if uniform:
        for k, times in ((ratio, True), (1 / ratio if ratio != 0 else np.inf, False)):
            # An all-zero answer has ratio 0: no whole factor explains it.
            if np.isfinite(k) and abs(k) >= smallest - 0.5 and np.isclose(k, round(k), rtol=1e-6, atol=0):
                k = int(round(k))
                if times:
                    return (f" Note: {every} {k} times the expected value: a sum of {k} "
                            f"terms where their mean was asked (divide by their number)?")
                return (f" Note: {every} 1/{k} of the expected value: divided by {k} "
                        f"once too often?")
    return ""


def _cmp_array(got, expected, rtol: float, atol: float) -> None:
    """Type, shape, finiteness, then closeness, in that order."""
    expected = np.asarray(expected, dtype=float)
    got = _numbers(got, expected.shape)
    if got.shape != expected.shape:
        extra = ""
        if got.ndim > 1 and got.shape == expected.shape[::-1]:
            extra = " (transposed?)"
        elif got.size == expected.size:
            extra = " (same number of entries: reshape, or check which axis you summed over)"
        raise _Mismatch(f"shape {got.shape}, expected {expected.shape}{extra}.")
    finite = np.isfinite(got)
    if not finite.all() and np.isfinite(expected).all():
        idx = tuple(int(i) for i in np.argwhere(~finite)[0])
        where = f" at index {idx}" if idx else ""
        raise _Mismatch(f"non-finite value {got[idx]}{where} (overflow, or 0/0?).")
    close = np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    if not close.all():
        with np.errstate(invalid="ignore"):
            rel = relative_error(got, expected)
        # An infinite or nan expected value (or listed mistake) gives inf/inf or nan here:
        # it counts as the worst entry, never as agreement.
        rel = np.where(close, 0.0, np.nan_to_num(rel, nan=np.inf))
        worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(rel)), rel.shape))
        n_bad = int(np.count_nonzero(~close))
        where = f" at index {worst}" if got.ndim else ""
        raise _Mismatch(f"expected {_fmt(expected)}, got {_fmt(got)}; "
                        f"{n_bad} of {close.size} entries differ, the worst{where}: expected "
                        f"{_fmt(expected[worst])}, got {_fmt(got[worst])} "
                        f"(relative error {float(rel[worst]):.2e}, tolerance {rtol:g}).",
                        note=_factor_note(got, expected, worst))


def _cmp_scalar(got, expected, rtol: float, atol: float) -> None:
    """A single number: a Python or numpy number (or a 0-d array)."""
    _cmp_array(_numbers(got, ()), np.asarray(expected, dtype=float).reshape(()), rtol, atol)


def _cmp_trajectory(got, expected, rtol: float, atol: float) -> None:
    """Iterates θ₀…θ_T (steps first): the first step where they depart."""
    expected = np.asarray(expected, dtype=float)
    got = _numbers(got, expected.shape)
    if got.shape != expected.shape:
        if got.ndim == expected.ndim and got.shape[1:] == expected.shape[1:]:
            raise _Mismatch(f"{got.shape[0]} iterates, expected {expected.shape[0]} "
                            f"(θ₀ included, so steps + 1).")
        raise _Mismatch(f"shape {got.shape}, expected {expected.shape} (steps + 1, …).")
    for t in range(expected.shape[0]):
        if not np.allclose(got[t], expected[t], rtol=rtol, atol=atol, equal_nan=True):
            before = "" if t == 0 else f" Steps 0…{t - 1} agree."
            if len(got) > 2 and np.all(got == got[-1]) and not np.all(expected == expected[-1]):
                # every row is the final iterate: one array appended again and again, then
                # changed in place (e.g. `theta -= eta * g` after `thetas.append(theta)`)
                raise _Mismatch(f"departs at step {t}, and every row of your answer is the same "
                                f"array, {_fmt(got[-1])}: you appended θ and then changed it in "
                                f"place. Append a copy, or write θ = θ − η·g (a new array).")
            raise _Mismatch(f"departs at step {t}: expected {_fmt(expected[t])}, got "
                            f"{_fmt(got[t])}.{before}")


_COMPARE = {"array": _cmp_array, "scalar": _cmp_scalar, "trajectory": _cmp_trajectory}


def _matches(compare, got, expected, rtol, atol) -> bool:
    try:
        compare(got, expected, rtol, atol)
    except _Mismatch:
        return False
    return True


# --------------------------------------------------------------------------- verdicts

def _message(name: str, mismatch: _Mismatch, hint, diagnosis: Optional[str]) -> str:
    msg = f"{name}: {mismatch.what}"
    if mismatch.hint is not _MISSING:
        hint, diagnosis = mismatch.hint, None
    if not diagnosis:
        msg += mismatch.note
    if diagnosis:
        msg += f"\n  Likely cause: {diagnosis}"
    elif hint:
        msg += f"\n  Hint: {hint}"
    return msg


def _diagnosis(mistakes, got, compare, rtol, atol, positions=None) -> Optional[str]:
    """The first typical mistake whose value the answer equals (all outputs, if a tuple)."""
    for text, value in mistakes:
        if positions is None:
            if _matches(compare, got, value, rtol, atol):
                return text
        elif isinstance(value, (tuple, list)) and all(
                j < len(got) and j < len(value) and _matches(compare, got[j], value[j], rtol, atol)
                for j in positions):
            return text
    return None


def _hint_for(hint, out=None):
    """The hint for one output; for the function as a whole, every output's hint."""
    if isinstance(hint, Mapping):
        if out is not None:
            return hint.get(out)
        return "; ".join(f"{k}: {v}" for k, v in hint.items() if v) or None
    return hint


def verdict(reference: dict, submission: Optional[dict] = None) -> Optional[str]:
    """The failure message of a check (None if it passes).

    ``reference`` is the record of the check as the instructor's solution ran it (the expected
    values, typical mistakes and settings are read from it only); ``submission`` the record of
    the same check in the student's kernel (only the answers' outputs are read from it). In a
    student's notebook both are the one record the check just made.
    """
    submission = reference if submission is None else submission
    name, spec = reference["name"], reference["spec"]
    if submission.get("check") != reference["check"] or submission.get("name") != name:
        return (f"{name}: no result for this check (the test produced "
                f"{submission.get('name')!r} in its place). Did your code change `check`, or a "
                f"variable the tests use?")
    rtol, atol = float(spec["rtol"]), float(spec["atol"])
    hint = spec.get("hint")
    compare = _COMPARE[spec["compare"]]
    if reference["check"] != "function":
        ref_case, sub_case = reference["cases"][0], submission["cases"][0]
        got, expected = decode(sub_case["got"]), decode(ref_case["expected"])
        try:
            compare(got, expected, rtol, atol)
        except _Mismatch as m:
            mistakes = [(t, decode(v)) for t, v in ref_case.get("mistakes", [])]
            return _message(name, m, hint, _diagnosis(mistakes, got, compare, rtol, atol))
        return None
    return _function_verdict(reference, submission, name, spec, compare, rtol, atol, hint)


def _function_verdict(reference, submission, name, spec, compare, rtol, atol, hint):
    if "not_callable" in submission:
        return _message(name, _Mismatch(f"expected a function, got "
                                        f"{submission['not_callable']}."), _hint_for(hint), None)
    ref_cases, sub_cases = reference["cases"], submission.get("cases", [])
    if len(sub_cases) != len(ref_cases):
        return (f"{name}: {len(sub_cases)} test cases ran, the instructor's test has "
                f"{len(ref_cases)}. Did your code change `check`, or a variable the tests use?")
    outputs = {out: int(j) for out, j in spec["outputs"]} if spec.get("outputs") else None
    for ref_case, sub_case in zip(ref_cases, sub_cases):
        label = ref_case["label"]
        raised = sub_case.get("raised")
        if raised:
            ename, evalue = raised
            if ename == "NotImplementedError":
                what = "not answered yet: replace `raise NotImplementedError()` with your code."
            else:
                what = f"raised {ename}: {evalue} (on {label})."
            return _message(name, _Mismatch(what), _hint_for(hint), None)
        for k, (mine, theirs) in enumerate(zip(sub_case["inputs"], ref_case["inputs"])):
            if theirs is not None and mine != theirs:
                return (f"{name} ({label}): the test's input #{k + 1} differs from the "
                        f"instructor's, so your result cannot be compared. Your notebook "
                        f"changed something the tests use: a variable of the set-up cell "
                        f"(such as X or y), a numpy or course_lib function, or the random "
                        f"numbers of a generator. Leave them as the set-up cell made them, "
                        f"restart the kernel and run all cells.")
        for change in sub_case.get("changed", []):
            return _message(f"{name} ({label})", _changed_mismatch(change), None, None)
        got, expected = decode(sub_case["got"]), decode(ref_case["expected"])
        mistakes = [(t, decode(v)) for t, v in ref_case.get("mistakes", [])]
        if outputs is None:
            try:
                compare(got, expected, rtol, atol)
            except _Mismatch as m:
                return _message(f"{name} ({label})", m, _hint_for(hint),
                                _diagnosis(mistakes, got, compare, rtol, atol))
            continue
        in_order = ", ".join(sorted(outputs, key=outputs.get))
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            kind = (f"a {type(got).__name__} of length {len(got)}"
                    if isinstance(got, (tuple, list)) else describe_value(got))
            return _message(f"{name} ({label})", _Mismatch(
                f"expected a tuple of {len(expected)} results ({in_order}), got {kind}.",
                f"return them together, in that order: "
                f"`return {', '.join('abcdefgh'[:len(expected)])}`."), None, None)
        positions = sorted(outputs.values())
        if _wrong_order(got, expected, positions, rtol, atol):
            return _message(f"{name} ({label})", _Mismatch(
                f"your results are right but in the wrong order: return them as ({in_order}).",
                None), None, None)
        for out, j in outputs.items():
            try:
                compare(got[j], expected[j], rtol, atol)
            except _Mismatch as m:
                return _message(f"{name}: {out} ({label})", m, _hint_for(hint, out),
                                _diagnosis(mistakes, got, compare, rtol, atol, positions))
    return None


def _changed_mismatch(change: dict) -> _Mismatch:
    k, pname, what = change["arg"], change.get("param"), change["what"]
    arg = f"argument #{k + 1}" + (f" (`{pname}`)" if pname else "")
    v = pname or "x"
    return _Mismatch(
        f"your function changed its {arg} in place ({what}). Writing into an input "
        f"array — e.g. `m *= mu`, `theta -= eta * g` or `{v}[i] = …` — modifies the "
        f"caller's array, so the caller's variables are silently changed too.",
        f"build a new array instead: write `m = mu * m - …` or `theta = theta - eta * g` "
        f"(a plain assignment), or start with `{v} = {v}.copy()`.")


def _wrong_order(got, expected, positions, rtol, atol) -> bool:
    """Results that are right but returned in another order."""
    def same(a, b):
        try:
            a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        except (TypeError, ValueError):
            return False
        return a.shape == b.shape and np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)

    if all(same(got[j], expected[j]) for j in positions):
        return False
    return any(j != k and same(got[j], expected[k]) and not same(expected[j], expected[k])
               for j in positions for k in positions)


# --------------------------------------------------------------------------- running checks

def _mode() -> str:
    mode = os.environ.get(MODE_ENV, "")
    return mode if mode in ("submission", "reference") else ""


def _spec(kind: str, rtol, atol, hint, outputs=None) -> dict:
    if isinstance(hint, Mapping):
        hint = {str(k): (None if v is None else str(v)) for k, v in hint.items()}
    elif hint is not None:
        hint = str(hint)
    return {"rtol": float(rtol), "atol": float(atol), "hint": hint, "compare": kind,
            "outputs": None if outputs is None else [[k, int(j)] for k, j in outputs.items()]}


def _mistakes(mistakes) -> list:
    if mistakes is None:
        return []
    if not isinstance(mistakes, Mapping):
        raise TypeError("mistakes= must map a message (what the student did) to the value or "
                        "function that mistake gives")
    return list(mistakes.items())


def _finish(record: dict, mode: str, quiet: bool, success: str) -> None:
    """Publish the record to the grader, or decide here and now (the student's notebook)."""
    if mode:
        from IPython.display import publish_display_data

        publish_display_data({MIME: record})
        return
    message = verdict(record)
    if message:
        raise AnswerError(message)
    if not quiet:
        print(success)


def _value_check(kind, name, got, expected, rtol, atol, hint, mistakes, quiet, success):
    mode = _mode()
    case = {"label": "", "got": encode(got)}
    if mode != "submission":
        if expected is _MISSING:
            raise TypeError(f"check.{kind}({name!r}, …) needs the expected value as its third "
                            f"argument.")
        case["expected"] = encode(expected)
        case["mistakes"] = [[str(text), encode(value)] for text, value in _mistakes(mistakes)]
    record = {"check": kind, "name": str(name), "spec": _spec(kind, rtol, atol, hint),
              "cases": [case]}
    _finish(record, mode, quiet, success)


def array(name: str, got, expected=_MISSING, *, rtol: float = 1e-6, atol: float = 1e-10,
          hint: Optional[str] = None, mistakes: Optional[Mapping] = None,
          quiet: bool = False) -> None:
    """Check an array answer: type (a numpy array), shape, finiteness, then closeness.

    ``mistakes`` maps a description of a typical mistake to the value it gives; an answer equal
    to one of them gets that description instead of the hint.
    """
    _value_check("array", name, got, expected, rtol, atol, hint, mistakes, quiet,
                 f"✓ {name} is correct.")


def scalar(name: str, got, expected=_MISSING, *, rtol: float = 1e-6, atol: float = 1e-10,
           hint: Optional[str] = None, mistakes: Optional[Mapping] = None,
           quiet: bool = False) -> None:
    """Check a single number (a Python or numpy number, or a 0-d array)."""
    _value_check("scalar", name, got, expected, rtol, atol, hint, mistakes, quiet,
                 f"✓ {name} is correct.")


def trajectory(name: str, got, expected=_MISSING, *, rtol: float = 1e-6, atol: float = 1e-10,
               hint: Optional[str] = None, mistakes: Optional[Mapping] = None,
               quiet: bool = False) -> None:
    """Compare iterates θ₀…θ_T (steps first): report the first step where they depart."""
    n = len(np.asarray(expected)) if expected is not _MISSING else 0
    _value_check("trajectory", name, got, expected, rtol, atol, hint, mistakes, quiet,
                 f"✓ {name}: all {n} iterates are correct.")


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


def _unchanged(before: np.ndarray, after) -> bool:
    if not isinstance(after, np.ndarray) or before.shape != after.shape:
        return False
    try:
        return bool(np.array_equal(before, after, equal_nan=True))
    except TypeError:  # dtypes without NaN (object, str)
        return bool(np.array_equal(before, after))


def _changes(fn, case: tuple, passed: tuple) -> list:
    """The arrays of ``case`` that the call changed (``passed`` held the copies it got)."""
    names = _param_names(fn)
    changes = []
    for k, (before, after) in enumerate(zip(case, passed)):
        if not isinstance(before, np.ndarray) or _unchanged(before, after):
            continue
        if before.shape != getattr(after, "shape", None):
            what = f"its shape went from {before.shape} to {getattr(after, 'shape', '?')}"
        elif np.issubdtype(before.dtype, np.number):
            n_bad = int(np.count_nonzero(~np.isclose(after, before, rtol=0.0, atol=0.0,
                                                     equal_nan=True)))
            what = f"{n_bad} of {before.size} entries differ after the call"
        else:
            what = "its entries differ after the call"
        changes.append({"arg": k, "param": names[k] if k < len(names) else None, "what": what})
    return changes


def function(name: str, fn: Callable, reference: Callable = _MISSING,
             cases: Optional[Iterable[tuple]] = None, *,
             rtol: float = 1e-6, atol: float = 1e-10,
             hint: Optional[Union[str, Mapping[str, str]]] = None,
             describe: Optional[Callable[[tuple], str]] = None,
             outputs: Optional[Union[Sequence[str], Mapping[str, int]]] = None,
             compare: Optional[Callable] = None,
             mistakes: Optional[Mapping[str, Callable]] = None, quiet: bool = False) -> None:
    """Call a student's ``fn(*case)`` and ``reference(*case)`` on each case and compare.

    For each case: ``reference`` is called on copies of the case's numpy arrays, then ``fn``
    on fresh copies; if ``fn`` changed one of those arrays in place, that is reported first
    (naming the argument); then the results are compared with ``compare`` (`array` by default;
    `scalar` for a number, `trajectory` for iterates). The first case that fails is reported
    with its label (``describe(case)``, default "test case i"). Exceptions inside the student's
    function are reported as such (NotImplementedError: "not answered yet").

    ``outputs`` names the entries of a tuple result, e.g. ``("new θ", "new m")``, or, to compare
    them in another order than they are returned, maps names to positions:
    ``{"new m": 1, "new θ": 0}``. ``hint`` is then either one hint, or a mapping from output
    name to hint. ``mistakes`` maps the description of a typical mistake to a function of the
    case giving that mistake's result: an answer equal to it is told that description.
    """
    mode = _mode()
    if cases is None:
        raise TypeError(f"check.function({name!r}, …) needs the test cases (a list of argument "
                        f"tuples).")
    kind = {None: "array", array: "array", scalar: "scalar", trajectory: "trajectory"}.get(compare)
    if kind is None:
        raise TypeError("compare= must be check.array, check.scalar or check.trajectory")
    if outputs is not None and not isinstance(outputs, Mapping):
        outputs = {out: j for j, out in enumerate(outputs)}
    record = {"check": "function", "name": str(name), "spec": _spec(kind, rtol, atol, hint,
                                                                    outputs), "cases": []}
    if not callable(fn):
        record["not_callable"] = describe_value(fn)
    if mode != "submission" and reference is _MISSING:
        raise TypeError(f"check.function({name!r}, …) needs the reference function as its "
                        f"third argument.")
    for i, case in enumerate(cases):
        case = tuple(case)
        entry = {"label": describe(case) if describe and mode != "submission"
                 else f"test case {i + 1}",
                 "inputs": [fingerprint(a) for a in case]}
        if mode != "submission":
            entry["expected"] = encode(reference(*_copy_arrays(case)))
            entry["mistakes"] = [[str(text), encode(wrong(*_copy_arrays(case)))]
                                 for text, wrong in _mistakes(mistakes)]
        if callable(fn):
            passed = _copy_arrays(case)
            try:
                entry["got"] = encode(fn(*passed))
            except Exception as exc:  # reported in context, not as a crash of the test
                entry["raised"] = [type(exc).__name__, str(exc)[:1000]]
            entry["changed"] = _changes(fn, case, passed)
        record["cases"].append(entry)
    n = len(record["cases"])
    _finish(record, mode, quiet, f"✓ {name} is correct on {n} test case{'s' if n != 1 else ''}.")
