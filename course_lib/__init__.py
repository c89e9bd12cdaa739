"""course_lib: the reference implementations and tooling behind *Optimization for Deep Learning*."""
__version__ = "0.1.0"
