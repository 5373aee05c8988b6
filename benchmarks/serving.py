"""The app under benchmark in its own uvicorn process, as production runs it: one place that
starts it, waits for it to answer and stops it, for every benchmark in this folder."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import httpx

__all__ = ["free_port", "served"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(argv: Sequence[str], env: Mapping[str, str] | None = None) -> Iterator[str]:
    """Run ``python <argv…> <port>`` (a benchmark's own ``--serve`` mode) and yield its base
    URL once ``/healthz`` answers; the process is stopped on the way out."""
    port = free_port()
    process = subprocess.Popen([sys.executable, *argv, str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise SystemExit("the server did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
