"""Where a submission's kernel runs: inside bubblewrap on Linux, with resource limits.

The kernel command is ``bwrap <options> -- python -m course_lib.grading.launch <limits> --
-m ipykernel_launcher -f <connection file>``. bubblewrap gives the kernel

- a file system that contains only what a kernel needs, read-only: the system's ``/usr`` (and
  the ``/bin``, ``/lib`` links to it), a few files of ``/etc`` (the dynamic linker's cache,
  fonts, users), the Python installation and its site-packages, and the ``course_lib`` package
  directory — not the rest of the repository (``solutions/`` with the hidden tests), not the
  submissions, not the grades, not your home directory;
- one writable directory, the submission's own temporary working directory (plus a private
  ``/tmp``), removed after grading;
- no network (a network namespace with only a loopback device): the kernel talks to the grader
  through Unix sockets in its own directory;
- its own process, IPC and host-name namespaces, no capabilities (uid ``nobody``), a new
  session (no terminal to inject keystrokes into), and it dies with the grader
  (``--die-with-parent``).

Inside, `course_lib.grading.launch` sets the limits the kernel cannot raise again
(`Limits`): address space (memory), CPU seconds, size of a written file, no core files; and it
ends the kernel when the grader ends, so that a grader stopped by Ctrl-C or ``kill -9`` leaves
no kernel behind. The
grader itself cuts each cell's output (`Limits.output`) and bounds wall-clock time per cell and
per submission.

Without bubblewrap (not Linux, not installed, or user namespaces disabled) `problem` says why;
the grader then refuses to run unless told ``--no-sandbox``, and applies only the limits.
"""
from __future__ import annotations

import functools
import os
import shutil
import site
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

__all__ = ["Limits", "size_text", "problem", "kernel_argv", "readable_paths", "kernel_env", "signal_name"]

_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # course_lib/
_REPO_ROOT = _PACKAGE_DIR.parent


@dataclass(frozen=True)
class Limits:
    """Resource limits of one submission's kernel."""

    memory: int = 2 * 2 ** 30        # bytes of address space (RLIMIT_AS)
    file_size: int = 256 * 2 ** 20   # bytes in one file the kernel writes (RLIMIT_FSIZE)
    output: int = 1_000_000          # characters of output kept per cell (cut by the grader)

    def describe(self) -> str:
        return (f"memory {size_text(self.memory)}, files up to {size_text(self.file_size)}, "
                f"output {self.output:,} characters per cell")


def size_text(n: int) -> str:
    for unit, size in (("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n} bytes"


@functools.lru_cache(maxsize=None)
def problem() -> Optional[str]:
    """Why the bubblewrap sandbox cannot be used on this machine; None if it can."""
    if not sys.platform.startswith("linux"):
        return f"bubblewrap runs on Linux only (this is {sys.platform})"
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return ("bubblewrap is not installed (Debian/Ubuntu: sudo apt-get install bubblewrap; "
                "Fedora: sudo dnf install bubblewrap)")
    try:
        proc = subprocess.run([bwrap, *_namespace_args(), "--ro-bind", "/", "/", "true"],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap ({bwrap}) does not start: {exc}"
    if proc.returncode != 0:
        why = proc.stderr.strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
        return (f"bubblewrap ({bwrap}) cannot create its namespaces here: {why[0]} "
                f"(are unprivileged user namespaces disabled?)")
    return None


def _namespace_args() -> list:
    return ["--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534",
            "--cap-drop", "ALL", "--die-with-parent", "--new-session"]


def readable_paths() -> list:
    """What the sandboxed kernel may read: the system, Python, its packages and course_lib.

    Not sys.path as a whole: it holds the grader's working directory (the submissions, the
    grades), and the repository root when course_lib is not installed (the solutions).
    """
    wanted = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
              "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives",
              "/etc/fonts", "/etc/localtime", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf",
              sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable))]
    wanted += [sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")]
    wanted += site.getsitepackages()
    paths = []
    for p in wanted:
        if os.path.lexists(p) and p not in paths:
            paths.append(p)
    return paths + [str(_PACKAGE_DIR)]


def kernel_argv(writable: list, cwd: Path, lock: Path, limits: Limits, cpu_seconds: float,
                sandbox: bool) -> list:
    """The kernel command (with the ``{connection_file}`` placeholder jupyter_client fills):
    bubblewrap starts `course_lib.grading.launch` in the sandbox, which sets the limits and
    starts the kernel, and ends it when the grader lets go of ``lock``."""
    launch = [sys.executable, "-m", "course_lib.grading.launch", f"--lock={lock}",
              f"--memory={limits.memory}", f"--cpu={int(cpu_seconds) + 1}",
              f"--file-size={limits.file_size}", "--",
              "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    if not sandbox:
        return launch
    # A private /tmp first, then the read-only paths on top of it: Python, its packages or
    # course_lib may live under /tmp (a checkout or venv there), and a tmpfs mounted after
    # their binds would hide them (bwrap: execvp …/.venv/bin/python: No such file or directory).
    argv = [shutil.which("bwrap"), *_namespace_args(),
            "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    for p in readable_paths():
        argv += ["--ro-bind", p, p]
    for p in writable:
        argv += ["--bind", str(p), str(p)]
    # the root itself (where bubblewrap made the mount points) read-only too
    argv += ["--remount-ro", "/", "--chdir", str(cwd), "--"]
    return argv + launch


def kernel_env(home: Path, check_mode: Optional[str]) -> dict:
    """The kernel's environment: only what it needs (the instructor's variables may hold
    secrets that a submission could print into its feedback)."""
    env = {k: v for k, v in os.environ.items()
           if k in ("PATH", "LANG", "LANGUAGE", "TZ") or k.startswith("LC_")}
    env.setdefault("PATH", "/usr/bin:/bin")
    env.update({
        "HOME": str(home), "TMPDIR": "/tmp" if Path("/tmp").is_dir() else str(home),
        "IPYTHONDIR": str(home / ".ipython"), "MPLCONFIGDIR": str(home / ".matplotlib"),
        "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
        # one BLAS thread per kernel: --jobs runs one kernel per core, and results do not
        # depend on how a sum was split between threads
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "JUPYTER_PLATFORM_DIRS": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        # course_lib importable even when it is not installed
        "PYTHONPATH": str(_REPO_ROOT),
    })
    if check_mode:
        from course_lib.grading.records import MODE_ENV

        env[MODE_ENV] = check_mode
    return env


def signal_name(returncode: Optional[int]) -> Optional[str]:
    """The signal that ended a kernel: its launcher (and bubblewrap) report it as 128 + its
    number, as a shell does; a negative code is a signal that ended the launcher itself."""
    import signal

    if returncode is None:
        return None
    number = -returncode if returncode < 0 else (
        returncode - 128 if 128 < returncode < 160 else None)
    if number is None:
        return None
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
