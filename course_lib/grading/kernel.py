"""Run a notebook cell by cell in a fresh (optionally sandboxed) kernel, and collect what the
checks of each cell published (`course_lib.grading.records`).

A cell running longer than its time limit is interrupted and the next cells run; if the kernel
then does not answer, or dies, the remaining cells are ``not_run``. A total time limit bounds
the whole run. Each cell keeps at most ``Limits.output`` characters of output (a flood is cut,
and a note in the cell says so); check records are taken out of the outputs as they arrive.
"""
from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from time import monotonic
from typing import Optional, Sequence

import nbformat
from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbclient.util import ensure_async

from course_lib.grading import sandbox as sb
from course_lib.grading.records import MIME

__all__ = ["CellResult", "run_notebook", "execute", "one_line", "seconds",
           "RECOVERY_GRACE", "STARTUP_ALLOWANCE", "MAX_RECORD_BYTES"]

#: Time granted to a kernel to answer after a timed-out cell was interrupted.
RECOVERY_GRACE = 10.0
#: Kernel start-up and shut-down allowance in the default total time limit.
STARTUP_ALLOWANCE = 60.0
#: Check records one submission may send in all (JSON characters); more are dropped.
MAX_RECORD_BYTES = 64 * 2 ** 20
#: The ename of the synthetic execute reply nbclient returns for a timed-out cell.
_TIMEOUT_ENAME = "course_lib.grade:timeout"

_log = logging.getLogger("course_lib.grade.kernel")  # nbclient's log chatter goes nowhere
_log.addHandler(logging.NullHandler())
_log.propagate = False


@dataclass
class CellResult:
    """What happened to one cell of an executed notebook.

    ``status`` is one of ``skipped`` (not code, or empty), ``ok``, ``error``, ``timeout``,
    ``died`` (the kernel died while it ran) or ``not_run`` (the kernel was dead or stuck, or
    the total time ran out, before it); ``message`` is a one-line summary, empty when ``ok``.
    ``records`` are the check records the cell published, in order; ``output_cut`` says that
    the cell printed more than the output limit.
    """
    status: str
    message: str = ""
    ename: str = ""
    records: list = field(default_factory=list)
    output_cut: bool = False


def one_line(text: str) -> str:
    """``text`` on one line (a CSV cell): ANSI colours of tracebacks removed, spaces collapsed."""
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", str(text))
    return " ".join(text.split())


def seconds(s: float) -> str:
    return f"{round(float(s), 2):g}"


def _error_message(ename: str, evalue: str) -> str:
    return one_line(f"{ename}: {evalue}" if str(evalue).strip() else ename)


class _KernelSpecs(KernelSpecManager):
    """Every kernel is this interpreter (with the packages the grader was installed with),
    started through the sandbox and the resource limits, whatever kernel specs are installed."""

    def __init__(self, argv, **kwargs):
        super().__init__(**kwargs)
        self._argv = argv

    def get_kernel_spec(self, kernel_name):
        # Interrupts travel as a message: a signal from outside would not reach a kernel in
        # its own session and process namespace.
        return KernelSpec(name="python3", display_name=f"Python {sys.version_info[0]} (grader)",
                          language="python", resource_dir="", argv=list(self._argv),
                          interrupt_mode="message")


class _GradingClient(NotebookClient):
    """A NotebookClient that cuts floods of output and takes the check records out of it."""

    def __init__(self, *args, output_limit: int, **kwargs):
        super().__init__(*args, **kwargs)
        self._output_limit = output_limit
        self._output_chars = {}
        self._record_chars = 0
        self.records = {}   # cell index -> records, in the order the kernel sent them
        self.cut = set()    # cells whose output was cut

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        data = content.get("data") if isinstance(content, dict) else None
        if isinstance(data, dict) and MIME in data:
            record = data[MIME]
            size = len(json.dumps(record))
            self._record_chars += size
            if self._record_chars <= MAX_RECORD_BYTES:
                self.records.setdefault(cell_index, []).append(record)
            return None
        used = self._output_chars.get(cell_index, 0)
        room = self._output_limit - used
        size = len(str(content))
        if size > room and msg["msg_type"] != "error":
            # A stream keeps what fits (one message may carry megabytes: the kernel batches
            # what a loop prints); anything else over the limit is dropped.
            text = content.get("text") if msg["msg_type"] == "stream" else None
            if isinstance(text, str) and room > 0:
                msg = {**msg, "content": {**content, "text": text[:room]}}
                super().output(outs, msg, display_id, cell_index)
            if cell_index not in self.cut:
                self.cut.add(cell_index)
                outs.append(nbformat.v4.new_output(
                    "stream", name="stderr",
                    text=f"\n[output cut: this cell printed more than {self._output_limit:,} "
                         f"characters; the rest was dropped]\n"))
            self._output_chars[cell_index] = self._output_limit
            return None
        self._output_chars[cell_index] = used + size
        return super().output(outs, msg, display_id, cell_index)


async def _kernel_answers(client, grace: float) -> bool:
    """Whether the kernel finishes what it was doing and answers within ``grace`` seconds."""
    msg_id = await ensure_async(client.kc.execute("", silent=True, store_history=False))
    deadline = monotonic() + grace
    while (left := deadline - monotonic()) > 0:
        try:
            msg = await ensure_async(client.kc.shell_channel.get_msg(timeout=left))
        except Empty:
            return False
        if msg["parent_header"].get("msg_id") == msg_id:  # older replies are skipped
            return True
    return False


def _death(client) -> str:
    """Why the kernel died, from its exit status."""
    process = getattr(getattr(client.km, "provisioner", None), "process", None)
    code = process.poll() if process is not None else None
    name = sb.signal_name(code)
    if name == "SIGXCPU":
        return "the kernel used up its CPU time limit and was stopped"
    if name == "SIGKILL":
        return "the kernel was killed (SIGKILL: out of memory, or over its CPU time limit)"
    if name in ("SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGABRT"):
        return f"the kernel crashed ({name}, e.g. ctypes or a C extension misused)"
    if name:
        return f"the kernel was ended by {name}"
    if code is not None:
        return f"the kernel exited with status {code} (os._exit, sys.exit in a thread, or a crash)"
    return "the kernel died (os._exit, a crash, or out of memory)"


async def _run_cell(client, cell, index, limit, timeout, total_timeout, replies, label):
    """Run one code cell; returns its CellResult and, if the kernel is gone, why."""
    try:
        await client.async_execute_cell(cell, index)
    except DeadKernelError:
        # nbclient also turns the cancellation of this task (Ctrl-C, the total time guard)
        # into DeadKernelError: let that through as what it is.
        if asyncio.current_task().cancelling():
            raise asyncio.CancelledError from None
        why = _death(client)
        return (CellResult("died", f"kernel died while running this cell: {why}"),
                f"kernel died before this test ran (it died in {label}: {why})")

    content = (replies.pop(index, None) or {"content": {"status": "ok"}})["content"]
    if content.get("ename") == _TIMEOUT_ENAME:
        if limit < timeout:
            message = (f"not finished when the submission's total time limit of "
                       f"{seconds(total_timeout)} s ran out")
        else:
            message = f"timed out after {seconds(timeout)} s"
        if await _kernel_answers(client, max(2.0, min(float(timeout), RECOVERY_GRACE))):
            return CellResult("timeout", message, "TimeoutError"), ""
        await ensure_async(client.km.shutdown_kernel(now=True))
        return (CellResult("timeout", message, "TimeoutError"),
                f"not run: the kernel kept running {label} after it timed out and was "
                f"interrupted (does the code catch KeyboardInterrupt?)")
    # The execute reply is authoritative; an error output is the fallback.
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if content.get("status") == "error" and content.get("ename"):
        return CellResult("error", _error_message(content["ename"], content.get("evalue", "")),
                          content["ename"]), ""
    if content.get("status") == "error" or errors:
        ename = errors[0].get("ename", "Error") if errors else "Error"
        evalue = errors[0].get("evalue", "") if errors else ""
        return CellResult("error", _error_message(ename, evalue), ename), ""
    return CellResult("ok"), ""


async def execute(nb, cwd, *, timeout: float = 60, total_timeout: Optional[float] = None,
                  labels: Optional[Sequence[str]] = None, sandbox: bool = False,
                  limits: sb.Limits = sb.Limits(), check_mode: Optional[str] = None) -> list:
    """Execute ``nb`` (in place) in a fresh kernel; one CellResult per cell (see run_notebook)."""
    code_cells = sum(1 for c in nb.cells if c.cell_type == "code")
    if total_timeout is None:
        total_timeout = timeout * max(code_cells, 1) + STARTUP_ALLOWANCE
    labels = list(labels) if labels is not None else [f"cell {i}" for i in range(len(nb.cells))]
    results = [CellResult("skipped") for _ in nb.cells]
    try:
        # The per-cell limits already respect the total; this guard only fires if something
        # hangs outside them (nbclient waiting on a kernel that neither answers nor dies).
        await asyncio.wait_for(_run_cells(nb, results, Path(cwd), timeout, total_timeout, labels,
                                          sandbox, limits, check_mode),
                               total_timeout + RECOVERY_GRACE + 30)
    except asyncio.TimeoutError:
        why = (f"stopped: the submission ran past its total time limit of "
               f"{seconds(total_timeout)} s")
        for i, cell in enumerate(nb.cells):
            if results[i].status == "skipped" and cell.cell_type == "code" \
                    and cell.source.strip():
                results[i] = CellResult("not_run", why)
    return results


async def _run_cells(nb, results, cwd: Path, timeout, total_timeout, labels, sandbox, limits,
                     check_mode) -> None:
    """Fill ``results`` cell by cell (it is read even if this task is cancelled midway)."""
    deadline = monotonic() + total_timeout
    limit = {"seconds": float(timeout)}  # read by nbclient before each cell
    replies = {}
    # The kernel's private directory (outside cwd): its connection file, the Unix sockets it
    # talks through (no network in the sandbox), its IPython and matplotlib settings.
    ctl = Path(tempfile.mkdtemp(prefix="course_lib_kernel_"))
    if len(str(ctl)) > 80:  # a Unix socket's path has at most 107 bytes
        shutil.rmtree(ctl)
        ctl = Path(tempfile.mkdtemp(prefix="clk_", dir="/tmp"))
    # Held locked while the kernel may run: the kernel's launcher ends the kernel as soon as
    # this process lets go of it, or dies (see course_lib.grading.launch).
    lock_path = ctl / "grader.lock"
    lock = open(lock_path, "wb")
    fcntl.flock(lock, fcntl.LOCK_EX)
    argv = sb.kernel_argv([cwd, ctl], cwd, lock_path, limits, total_timeout + STARTUP_ALLOWANCE,
                          sandbox)
    km = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=_KernelSpecs(argv),
                            transport="ipc", ip=str(ctl / "kernel"), log=_log)
    km.connection_file = str(ctl / "kernel.json")
    client = _GradingClient(
        nb, km=km, log=_log, output_limit=limits.output,
        timeout_func=lambda cell: limit["seconds"],
        interrupt_on_timeout=True,
        # Without this nbclient waits for the interrupted cell's reply, re-interrupting forever
        # if the code swallows KeyboardInterrupt; with it, it reports the timeout at once and
        # _run_cell checks whether the kernel recovered.
        error_on_timeout={"ename": _TIMEOUT_ENAME, "evalue": "", "traceback": []},
        allow_errors=True, record_timing=False, shutdown_kernel="immediate",
        on_cell_executed=lambda cell, cell_index, execute_reply:
            replies.__setitem__(cell_index, execute_reply))
    env = sb.kernel_env(ctl, check_mode)

    stopped = ""  # once set, why the remaining cells are not run
    # The kernel's own stderr (start-up failures, C-level crashes) goes to a file outside the
    # student's working directory, quoted if the kernel does not start.
    try:
        with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as kernel_log:
            try:
                # Started by hand rather than with client.async_setup_kernel: that one installs
                # SIGINT handlers that turn Ctrl-C into "shut this kernel down and go on with
                # the next submission", so an instructor could not stop a batch.
                await client.async_start_new_kernel(cwd=str(cwd), env=env, stderr=kernel_log,
                                                    stdout=subprocess.DEVNULL)
                await client.async_start_new_kernel_client()
            except Exception as exc:
                kernel_log.seek(0)
                tail = kernel_log.read().strip().splitlines()
                why = one_line(f"grader error: the kernel did not start ({type(exc).__name__}: "
                               f"{exc}) {tail[-1] if tail else ''}")
                for i, cell in enumerate(nb.cells):
                    if cell.cell_type == "code" and cell.source.strip():
                        results[i] = CellResult("not_run", why)
                if client.km is not None and client.km.has_kernel:
                    await client._async_cleanup_kernel()
                return
            try:
                for index, cell in enumerate(nb.cells):
                    if cell.cell_type != "code" or not cell.source.strip():
                        continue
                    if stopped:
                        results[index] = CellResult("not_run", stopped)
                        continue
                    remaining = deadline - monotonic()
                    if remaining <= 1:
                        stopped = (f"not run: the submission used up its total time limit of "
                                   f"{seconds(total_timeout)} s")
                        results[index] = CellResult("not_run", stopped)
                        continue
                    limit["seconds"] = min(float(timeout), remaining)
                    results[index], stopped = await _run_cell(
                        client, cell, index, limit["seconds"], timeout, total_timeout, replies,
                        labels[index])
                    results[index].records = client.records.pop(index, [])
                    results[index].output_cut = index in client.cut
            finally:
                await client._async_cleanup_kernel()
    finally:
        lock.close()
        shutil.rmtree(ctl, ignore_errors=True)


def run_notebook(nb, cwd, timeout: float = 60, total_timeout: Optional[float] = None,
                 labels: Optional[Sequence[str]] = None, *, sandbox: bool = False,
                 limits: sb.Limits = sb.Limits(), check_mode: Optional[str] = None) -> list:
    """Execute ``nb`` (in place) in a fresh kernel of this Python; one CellResult per cell.

    Errors are recorded, not raised. A cell running longer than ``timeout`` seconds is
    interrupted and the next cells run; if the kernel then does not answer, or dies, the
    remaining cells are ``not_run``. ``total_timeout`` (default: ``timeout`` per code cell plus
    a start-up allowance) bounds the whole run. ``labels`` name cells in messages. ``sandbox``
    runs the kernel under bubblewrap (`course_lib.grading.sandbox`); ``check_mode`` makes the
    checks publish records ("submission" or "reference") instead of raising.
    """
    return asyncio.run(execute(nb, cwd, timeout=timeout, total_timeout=total_timeout,
                               labels=labels, sandbox=sandbox, limits=limits,
                               check_mode=check_mode))
