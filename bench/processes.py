"""The servers the benchmarks measure, and what they use of the machine.

Every benchmark runs its server (Muster, or an app it is compared with) alone on CPU 0 and its
clients on CPU 1: ``serve`` starts a command there and returns once its ``/healthz`` answers;
``uvicorn`` is the command for an app factory; ``cpu_seconds`` and ``rss_kib`` read what a
process has used from ``/proc``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def uvicorn(factory: str, port: int, *options: str) -> list[str]:
    """The command serving the app ``factory`` makes, on ``port``."""
    return [sys.executable, "-m", "uvicorn", factory, "--factory", "--port", str(port),
            "--log-level", "warning", *options]  # fmt: skip


def serve(
    command: Sequence[str], port: int, env: Mapping[str, str], wait: float = 30
) -> subprocess.Popen[bytes]:
    """``command`` (a server on ``port``) running on CPU 0, answering ``/healthz``."""
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    process = subprocess.Popen(["taskset", "-c", "0", *command], env=environ, cwd=ROOT)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except OSError:
            time.sleep(0.05)
    process.terminate()
    raise SystemExit(f"the server did not start: {' '.join(command)}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")
