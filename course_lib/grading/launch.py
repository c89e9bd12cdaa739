"""Start a grading kernel under resource limits, and end it when the grader ends.

    python -m course_lib.grading.launch --lock FILE --memory BYTES --cpu SECONDS
                                        --file-size BYTES -- ARGS

runs inside the sandbox (or, without one, as the kernel's parent). It

1. sets the limits the kernel cannot raise again: address space (memory), CPU seconds, size of
   a written file, no core files;
2. starts ``python ARGS`` (the kernel) as its child, which it kills when the grader is gone:
   the grader holds an exclusive lock on FILE while the kernel may run, and a watcher thread
   here waits for a shared lock on it. Locks are released by the operating system when their
   holder dies, so a grader stopped by Ctrl-C, ``kill`` or ``kill -9`` — even at the moment
   the kernel starts — leaves no kernel behind;
3. exits with the kernel's status (128 + the signal's number if a signal ended it, as a shell
   reports it), which the grader turns into a reason ("crashed (SIGSEGV)").
"""
from __future__ import annotations

import argparse
import ctypes
import fcntl
import os
import resource
import signal
import sys
import threading

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the lock watcher alone ends the kernel
        pass


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m course_lib.grading.launch")
    parser.add_argument("--lock", required=True, help="file the grader holds locked")
    parser.add_argument("--memory", type=int, required=True, help="bytes of address space")
    parser.add_argument("--cpu", type=int, required=True, help="seconds of CPU time")
    parser.add_argument("--file-size", type=int, required=True, help="bytes per written file")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.args[1:] if args.args[:1] == ["--"] else args.args

    resource.setrlimit(resource.RLIMIT_AS, (args.memory, args.memory))
    # SIGXCPU at the soft limit ends the kernel; the hard limit (SIGKILL) a moment later in
    # case the signal is caught
    resource.setrlimit(resource.RLIMIT_CPU, (args.cpu, args.cpu + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (args.file_size, args.file_size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    lock = open(args.lock, "rb")
    try:
        fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
        sys.exit(1)  # nobody holds it: the grader is gone already
    except BlockingIOError:
        pass

    # ipykernel would watch its parent process; this process does that job instead
    os.environ["JPY_PARENT_PID"] = "1"
    me = os.getpid()
    kernel = os.fork()
    if kernel == 0:
        _die_with_parent()
        if os.getppid() != me:
            os._exit(1)
        os.execv(sys.executable, [sys.executable, *command])

    def watch():
        fcntl.flock(lock, fcntl.LOCK_SH)  # returns once the grader let go of the lock
        os.kill(kernel, signal.SIGKILL)

    threading.Thread(target=watch, daemon=True).start()
    # the grader's interrupt arrives as a message, and shutdown kills this process: pass on
    # termination requests, so that the kernel never outlives its parent
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda number, frame: os.kill(kernel, signal.SIGKILL))
    _, status = os.waitpid(kernel, 0)
    code = os.waitstatus_to_exitcode(status)
    sys.exit(128 - code if code < 0 else code)


if __name__ == "__main__":
    main()
