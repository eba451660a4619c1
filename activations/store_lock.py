"""The store's lock, with its holder written next to it so that a waiting process says whom it waits for.

``<key>.lock`` is the ``filelock`` lock; ``<key>.lock.json`` holds the holder's pid, host, start
time and command line while it holds the lock. A process that does not get the lock within
``patience`` seconds reports one line (``waiting for the store lock ... held by pid 1234 (negprobe
cache ...) since 10:02:03``) and then waits. Holder files left by a killed process are ignored.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from .atomic import atomic_write_text


def holder_path(lock_path: Path) -> Path:
    return lock_path.with_name(lock_path.name + ".json")


def command_line() -> str:
    """This process's command line, with ``negprobe`` for the CLI however it was started."""
    main_spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    program = "negprobe" if main_spec is not None and main_spec.name.startswith("negprobe.") else Path(sys.argv[0]).name
    text = shlex.join([program or "python", *sys.argv[1:]])
    return text if len(text) <= 120 else text[:117] + "..."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_holder(lock_path: Path) -> dict[str, Any] | None:
    """The live holder recorded next to ``lock_path``, or None (no record, unreadable, or a dead process)."""
    try:
        info = json.loads(holder_path(lock_path).read_text())
        pid, host = int(info["pid"]), str(info["host"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if host == socket.gethostname() and not _alive(pid):
        return None
    return info


def waiting_message(lock_path: Path) -> str:
    info = read_holder(lock_path)
    if info is None:
        return f"waiting for the store lock {lock_path} (held by another process)"
    where = "" if info["host"] == socket.gethostname() else f" on {info['host']}"
    since = time.strftime("%H:%M:%S", time.localtime(float(info.get("started", 0))))
    return f"waiting for the store lock {lock_path} held by pid {info['pid']}{where} ({info.get('command', '?')}) since {since}"


class StoreLock:
    """``with StoreLock(path, report):`` holds ``path`` (a ``.lock`` file), reporting a wait longer than ``patience``."""

    def __init__(self, path: str | os.PathLike[str], report: Callable[[str], None], patience: float = 1.0):
        self.path = Path(path)
        self.report = report
        self.patience = patience
        self._lock = FileLock(str(self.path))

    def __enter__(self) -> StoreLock:
        try:
            self._lock.acquire(timeout=self.patience)
        except Timeout:
            self.report(waiting_message(self.path))
            self._lock.acquire()
        try:
            holder = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time(),
                      "command": command_line()}
            atomic_write_text(holder_path(self.path), json.dumps(holder))
        except OSError:
            pass  # the record is a courtesy to waiting processes; the lock itself is held
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            holder_path(self.path).unlink(missing_ok=True)
        except OSError:
            pass
        finally:
            self._lock.release()
