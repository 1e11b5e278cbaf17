"""Log a pipeline's fetches through a rotating-s3 stage bin, from Python (standard library only).

Copy this file next to your pipeline, or put this directory on PYTHONPATH::

    from rotating_s3 import StageBin

    merge = StageBin("/srv/pipeline/node_modules/.bin/merge_rotating_s3")
    result = merge.log({"matches": [...]}, fetch_id=run_id)
    print(result["fetch_number"], result.get("upload_error"))

What it does, and why:

- It runs the stage's bin BY PATH (``node_modules/.bin/<stage>_rotating_s3`` after ``npm ci``, or
  ``packages/stages/<stage>/bin/<stage>_rotating_s3.js``), not through ``npx``: ``npx`` looks the name up
  on every call (about 3x slower) and fails outside the repository.
- The payload goes to the bin in a private temp file (``--payload-file``), never as JSON on the command
  line (process arguments are visible to every user of the host and limited in size). The file is
  removed whatever happens.
- Every call carries a fetch id (yours, or one made here), and a failed call (exit 1: the fetch was NOT
  logged) is retried with the SAME id, so a retry can never log a fetch twice: logging an id that is
  already logged returns its original number.
- Exit codes: 0 logged (also when its upload failed: ``upload_error`` is in the result, the fetch is
  safe locally and the next call retries the upload); 2 bad input, nothing written (``BadInput``, not
  retried); 1 any other failure (``LogFailed`` after the retries).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
import uuid
from typing import Any, Mapping, Optional, Sequence, Union

__all__ = ["StageBin", "RotatingS3Error", "BadInput", "LogFailed", "new_fetch_id"]

Payload = Union[Mapping[str, Any], Sequence[Any], str, bytes]

_ERROR_LINE = re.compile(r"^\S+: error (E_[A-Z0-9_]+): ")


class RotatingS3Error(Exception):
    """The bin refused or failed: ``code`` (``E_…``), ``exit_code`` and its ``stderr``."""

    def __init__(self, message: str, code: str, exit_code: int, stderr: str) -> None:
        super().__init__(message)
        self.code = code
        self.exit_code = exit_code
        self.stderr = stderr


class BadInput(RotatingS3Error):
    """Exit 2: bad payload, fetch id or configuration. Nothing was written; retrying cannot help."""


class LogFailed(RotatingS3Error):
    """Exit 1 after every retry: the fetch was NOT logged (local disk, lock, …)."""


def new_fetch_id() -> str:
    """A fetch id that the bin accepts (``^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$``)."""
    return "py-" + uuid.uuid4().hex


class StageBin:
    """One stage's bin. ``bin_path``: its path; ``node``: run it with this Node.js instead of its
    ``#!/usr/bin/env node`` line; ``cwd``/``env``: where and with which settings it runs (relative
    ``localDir`` settings resolve against ``cwd``); ``retries``: extra attempts after an exit 1;
    ``now``: an ISO-8601 instant passed as ``--now`` (fixes the bin's clock: simulation and tests)."""

    def __init__(
        self,
        bin_path: str,
        *,
        node: Optional[str] = None,
        cwd: Optional[str] = None,
        env: Optional[Mapping[str, str]] = None,
        retries: int = 2,
        retry_delay: float = 0.5,
        timeout: Optional[float] = 120.0,
        now: Optional[str] = None,
    ) -> None:
        self.bin_path = os.path.abspath(bin_path)
        self.node = node
        self.cwd = cwd
        self.env = dict(env) if env is not None else None
        self.retries = retries
        self.retry_delay = retry_delay
        self.timeout = timeout
        self.now = now

    def log(self, payload: Payload, fetch_id: Optional[str] = None) -> dict:
        """Logs one fetch and returns the bin's JSON line (``fetch_id``, ``fetch_number``, ``date``,
        ``records``, ``pending``, ``rotated``, ``upload_sequence``, ``duplicate``, maybe ``upload_error``).

        ``payload``: a dict or list (serialised here), or JSON text as ``str``/``bytes`` (passed on
        byte for byte, so big integers and number spellings are kept)."""
        fetch_id = fetch_id or new_fetch_id()
        data = payload if isinstance(payload, bytes) else (payload if isinstance(payload, str) else json.dumps(payload)).encode("utf-8")
        fd, path = tempfile.mkstemp(prefix="rotating-s3-", suffix=".json")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            return self._run(["log", "--payload-file", path, "--fetch-id", fetch_id])
        finally:
            os.unlink(path)

    def flush(self) -> dict:
        """Uploads every pending fetch now; returns the bin's JSON line. Exit 1 (an upload failed) raises
        ``LogFailed`` after the retries; the fetches stay pending."""
        return self._run(["flush"])

    def _run(self, args: Sequence[str]) -> dict:
        command = ([self.node] if self.node else []) + [self.bin_path, *args] + (["--now", self.now] if self.now else [])
        attempt = 0
        while True:
            done = subprocess.run(command, cwd=self.cwd, env=self.env, capture_output=True, text=True, timeout=self.timeout, stdin=subprocess.DEVNULL)
            if done.returncode == 0:
                return json.loads(done.stdout.strip().splitlines()[-1])
            stderr = done.stderr.strip()
            line = next((l for l in stderr.splitlines() if _ERROR_LINE.match(l)), stderr.splitlines()[-1] if stderr else f"exit {done.returncode}")
            match = _ERROR_LINE.match(line)
            code = match.group(1) if match else "E_UNKNOWN"
            if done.returncode == 2:
                raise BadInput(line, code, 2, stderr)
            if attempt >= self.retries:
                raise LogFailed(line, code, done.returncode, stderr)
            attempt += 1
            time.sleep(self.retry_delay * attempt)
