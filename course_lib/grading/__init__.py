"""The grader's machinery behind ``python -m course_lib.grade`` (see course_lib/grade.py).

- ``records``: the plain-data format in which a test cell's results leave a kernel
- ``sandbox``: bubblewrap and resource limits around a submission's kernel
- ``launch``: inside the sandbox, sets the limits, starts the kernel, ends it with the grader
- ``kernel``: running a notebook cell by cell in such a kernel, collecting the records
- ``submissions``: reading, identifying and assembling a submitted notebook
- ``report``: grades.csv, the totals, the per-student feedback files, the resumable store

Only ``records`` is imported by ``course_lib.check`` (inside every exercise notebook): it needs
numpy and the standard library alone.
"""
