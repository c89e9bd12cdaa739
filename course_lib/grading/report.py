"""What the grader writes, and how nothing of it is lost.

- ``grades.csv``: one row per submission and question (`COLUMNS`), the whole message on one
  line;
- ``<out>_totals.csv``: one row per student, the points of each assignment and the total,
  for a course gradebook's import;
- ``feedback/<student>/<assignment>/<notebook>.html``: nbgrader's layout, one self-contained
  page per submission: each question, its points, and the whole message (what differs,
  expected vs got, the hint);
- ``<out>_results/``: one JSON file per graded submission (and one per solution's reference
  run), written as soon as it is done. A batch run again skips every submission whose result is
  there and still valid (same file content, same solution, same settings), so an interrupted
  batch resumes where it stopped and a finished one is not graded twice.

Every file is written whole and atomically (a temporary file in the same folder, then
``os.replace``): an interrupted grader leaves the previous complete version, never half a file.
"""
from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from course_lib.grading.kernel import one_line

__all__ = ["Row", "COLUMNS", "atomic_write", "write_csv", "write_totals", "feedback_path",
           "write_feedback", "Store", "number"]

COLUMNS = ("submission", "question", "points", "max_points", "message", "student",
           "assignment")


@dataclass(frozen=True)
class Row:
    """One line of grades.csv: the score of one question of one submission."""
    submission: str
    question: str
    points: float
    max_points: float
    message: str = ""
    student: str = ""
    assignment: str = ""


def number(x):
    """3 rather than 3.0 in the CSV files."""
    return int(x) if float(x).is_integer() else float(x)


def atomic_write(path, text: str) -> None:
    """Replace ``path`` by ``text`` in one step (readers see the old or the new file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_csv(rows: Iterable[Row], out) -> None:
    """grades.csv: a header (`COLUMNS`) and the rows, each message whole on one line."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow([r.submission, r.question, number(r.points), number(r.max_points),
                         one_line(r.message), r.student, r.assignment])
    atomic_write(out, buf.getvalue())


def write_totals(results: list, out) -> list:
    """One row per student: the points of each assignment, the total and the maximum.

    ``results`` are the graded submissions (dicts with student, assignment, rows). A student
    who handed in one assignment twice gets the better of the two; the returned warnings say
    so.
    """
    best, maxima, students, warnings = {}, {}, [], []
    for result in results:
        student, assignment = result["student"], result["assignment"]
        if student not in students:
            students.append(student)
        if not assignment:
            continue
        got = sum(r["points"] for r in result["rows"])
        maxima[assignment] = max(maxima.get(assignment, 0),
                                 sum(r["max_points"] for r in result["rows"]))
        key = (student, assignment)
        if key in best:
            warnings.append(f"{student} handed in {assignment} more than once; the totals take "
                            f"the better score")
            got = max(got, best[key])
        best[key] = got
    assignments = sorted(maxima)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["student", *assignments, "total", "max_total"])
    for student in students:
        points = [best.get((student, a), 0) for a in assignments]
        writer.writerow([student, *map(number, points), number(sum(points)),
                         number(sum(maxima.values()))])
    atomic_write(out, buf.getvalue())
    return warnings


def _safe(part: str) -> str:
    """A path component made of a student's or notebook's name (no separators, not hidden)."""
    cleaned = "".join(c if c.isalnum() or c in "-_.() " else "_" for c in str(part)).strip()
    return cleaned.lstrip(".") or "_"


def feedback_path(root, result: dict) -> Path:
    """``root/<student>/<assignment>/<notebook>.html`` (nbgrader's feedback layout)."""
    return (Path(root) / _safe(result["student"]) / _safe(result["assignment"] or "unknown")
            / (_safe(Path(result["submission"]).stem) + ".html"))


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ccc; padding: .5rem; text-align: left; vertical-align: top; }
td.points { white-space: nowrap; }
tr.lost td.points { color: #a40000; font-weight: bold; }
pre { white-space: pre-wrap; margin: 0; font-family: ui-monospace, monospace; font-size: .9rem; }
"""


def write_feedback(root, result: dict) -> Path:
    """The student's feedback page for one submission; returns its path."""
    e = html.escape
    rows = result["rows"]
    got, total = sum(r["points"] for r in rows), sum(r["max_points"] for r in rows)
    title = f"{result['assignment'] or 'Submission'}: {number(got)} / {number(total)} points"
    lines = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             f"<title>{e(title)} — {e(result['student'])}</title>",
             f"<style>{_STYLE}</style>", "</head>", "<body>", f"<h1>{e(title)}</h1>",
             f"<p>Student: {e(result['student'])} · notebook: "
             f"{e(Path(result['submission']).name)}</p>",
             "<table>", "<tr><th>question</th><th>points</th><th>what to look at</th></tr>"]
    for r in rows:
        lost = r["points"] < r["max_points"]
        message = r["message"] or "correct"
        lines.append(f'<tr class="{"lost" if lost else "full"}"><td>{e(r["question"])}</td>'
                     f'<td class="points">{number(r["points"])} / {number(r["max_points"])}</td>'
                     f"<td><pre>{e(message)}</pre></td></tr>")
    lines.append("</table>")
    if result.get("notes"):
        lines += ["<h2>Notes</h2>", "<ul>"]
        lines += [f"<li>{e(n)}</li>" for n in result["notes"]]
        lines.append("</ul>")
    lines += ["</body>", "</html>", ""]
    path = feedback_path(root, result)
    atomic_write(path, "\n".join(lines))
    return path


class Store:
    """The graded submissions and reference runs of a batch, one JSON file each."""

    def __init__(self, directory):
        self.directory = Path(directory)

    def _path(self, kind: str, name: str) -> Path:
        digest = hashlib.sha256(name.encode()).hexdigest()[:20]
        return self.directory / f"{kind}-{digest}.json"

    def load(self, kind: str, name: str, key: str) -> Optional[dict]:
        """The stored entry for ``name`` if it was made with ``key``, else None."""
        try:
            data = json.loads(self._path(kind, name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("key") == key else None

    def save(self, kind: str, name: str, key: str, data: dict) -> None:
        atomic_write(self._path(kind, name), json.dumps({**data, "key": key}, indent=1))
