"""Performance measurements of course_lib (`make bench`), kept out of `make test`.

Each `bench_*.py` module here defines functions named ``bench_*(quick, repeat)`` that return
`harness.Row`s: the course's code and a reference doing the same work, both timed in the same
process. `python -m benchmarks.run` runs them all and writes BENCHMARKS.md.
"""
