"""Unit tests for stochastic optimization (Schaul, Antonoglou & Silver 2014, "Unit tests for
stochastic optimization", ICLR workshop): small, isolated difficulties on which to run every
optimizer of the course, scored against tuned SGD.

    shapes         1-D prototypes (line, bowls, flanks, exponential, Gaussian and Laplace
                   wells, kinks) concatenated with value and slope continuous at the junctions
    scales         the four scales (normal, steep, saddle, flat)
    noise          the gradient noise prototypes (additive and multiplicative Gaussian,
                   Cauchy, mask-out)
    nonstationary  slope, noise and offset drift every 10 evaluations
    combine        several dimensions: the sum of 1-D tests, rotation, curl
    catalogue      the cases and their stable names: full() expansion, quick() subset
    problem        a batch of cases as a stochastic `Problem`, one random stream per repetition
    harness        optimizers × grids × cases on one process, several or a dask cluster
    scoring        the paper's normalised score and colour classes
    figures        the results read as the paper's grid, and summarised per kind of test
    explorer       lecture 05a's explorer: one optimizer on one 1-D test, classed live

``python -m course_lib.unit_tests --full --out FILE.csv.gz`` runs the whole catalogue.
"""
from .catalogue import Case, case
from .harness import GRIDS, Grid, Results, Table, evaluate, read_csv
from .problem import UnitTestProblem

__all__ = ["Case", "case", "UnitTestProblem", "Grid", "GRIDS", "evaluate", "Results", "Table",
           "read_csv"]
