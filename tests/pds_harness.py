"""Run a real reference Bluesky PDS (+ PLC) on 127.0.0.1 for tests.

No pytest import here: the fixtures live in ``tests/adapters/conftest.py``.

    from pds_harness import LocalPDS

    with LocalPDS() as pds:                       # installs on first use (cached), then starts
        acct = pds.create_account("alice.test", "hunter22")
        before = pds.count("com.atproto.server.createSession")
        ...                                        # talk to pds.url
        assert pds.count("com.atproto.server.createSession") == before + 1

The install (Node 22 + @atproto/pds + @did-plc/server, ~370 MB) is done by
``tests/pds/install.sh`` into ``${XDG_CACHE_HOME:-~/.cache}/threadpost/pds-<hash>``
(override: ``THREADPOST_PDS_DIR``) and is reused while ``tests/pds/package*.json`` are unchanged.
Everything binds 127.0.0.1 and handles resolve from the PDS's own accounts: no traffic leaves
the machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

__all__ = [
    "INSTALL_SCRIPT",
    "PDS_SOURCE_DIR",
    "SERVER_SCRIPT",
    "LocalPDS",
    "PDSError",
    "PDSInstallError",
    "PDSRequestError",
    "PDSStartError",
    "ensure_pds_installed",
    "node_binary",
    "unique_handle",
]

PDS_SOURCE_DIR = Path(__file__).resolve().parent / "pds"
INSTALL_SCRIPT = PDS_SOURCE_DIR / "install.sh"
SERVER_SCRIPT = PDS_SOURCE_DIR / "server.mjs"

INSTALL_TIMEOUT_S = 1800.0
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
HTTP_TIMEOUT_S = 15.0

# Never send test traffic through a proxy taken from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class PDSError(RuntimeError):
    """Base class of the harness's errors."""


class PDSInstallError(PDSError):
    """install.sh failed; the message holds its output."""


class PDSStartError(PDSError):
    """The server did not come up; the message holds the tail of its log."""


class PDSRequestError(PDSError):
    """An XRPC call made by the harness failed."""

    def __init__(self, status: int, body: Any, nsid: str) -> None:
        self.status = status
        self.body = body
        self.nsid = nsid
        super().__init__(f"{nsid} -> HTTP {status}: {body!r}")

    @property
    def error(self) -> str | None:
        return self.body.get("error") if isinstance(self.body, dict) else None


_install_lock = threading.Lock()
_installed: dict[str, Path] = {}


def ensure_pds_installed(*, timeout: float = INSTALL_TIMEOUT_S, force_check: bool = False) -> Path:
    """Run ``tests/pds/install.sh`` (a no-op when the cache is complete) and return the install dir.

    Cached per process and per ``THREADPOST_PDS_DIR`` value. Raises :class:`PDSInstallError`
    with the installer's full output when it fails or times out.
    """
    key = os.environ.get("THREADPOST_PDS_DIR", "")
    with _install_lock:
        if not force_check and key in _installed:
            return _installed[key]
        started = time.monotonic()
        try:
            proc = subprocess.run(
                ["bash", str(INSTALL_SCRIPT)],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise PDSInstallError(
                f"{INSTALL_SCRIPT} timed out after {timeout:.0f} s\n"
                f"--- stdout ---\n{_text(exc.stdout)}\n--- stderr ---\n{_text(exc.stderr)}"
            ) from exc
        lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
        install_dir = Path(lines[-1]) if lines else None
        if proc.returncode != 0 or install_dir is None or not node_binary(install_dir).exists():
            raise PDSInstallError(
                f"{INSTALL_SCRIPT} failed (exit {proc.returncode}, "
                f"{time.monotonic() - started:.0f} s)\n"
                f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
            )
        _installed[key] = install_dir
        return install_dir


def node_binary(install_dir: Path) -> Path:
    """The Node 22 binary inside an install dir."""
    return Path(install_dir) / "bin" / "node"


def unique_handle(prefix: str = "tp", domain: str = ".test") -> str:
    """A fresh handle such as ``tp3f9a0c1d2e4b.test``.

    The PDS wants the part before a service domain to be 3..18 characters of [a-z0-9-].
    """
    clean = re.sub(r"[^a-z0-9]", "", prefix.lower())[:6] or "tp"
    return f"{clean}{uuid.uuid4().hex[: 18 - len(clean)]}{domain}"


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data


class LocalPDS:
    """A reference PDS + PLC in a child process (its own process group), bound to 127.0.0.1.

    Attributes once started: ``url`` (``http://localhost:PORT``), ``plc_url``, ``data_dir``,
    ``log_path`` (server logs: stderr + pino JSON logs), ``pid``, ``start_seconds``.
    """

    def __init__(
        self,
        *,
        install_dir: Path | str | None = None,
        data_dir: Path | str | None = None,
        rate_limits: bool = False,
        pds_port: int = 0,
        plc_port: int = 0,
        start_timeout: float = START_TIMEOUT_S,
        log_level: str = "info",
        keep_data: bool | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self._install_dir = Path(install_dir) if install_dir is not None else None
        self._own_data_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.rate_limits = rate_limits
        self.pds_port = pds_port
        self.plc_port = plc_port
        self.start_timeout = start_timeout
        self.log_level = log_level
        if keep_data is None:
            keep_data = os.environ.get("THREADPOST_PDS_KEEP", "") not in ("", "0")
        self.keep_data = keep_data
        self.extra_env = dict(extra_env or {})

        self.url: str = ""
        self.plc_url: str = ""
        self.log_path: Path | None = None
        self.pid: int | None = None
        self.start_seconds: float | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None
        self._reader: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> LocalPDS:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> LocalPDS:
        if self.process is not None:
            raise PDSError("already started")
        install_dir = self._install_dir or ensure_pds_installed()
        node = node_binary(install_dir)
        if self.data_dir is None:
            self.data_dir = Path(tempfile.mkdtemp(prefix="threadpost-pds-"))
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.data_dir / "server.log"
        self._log_file = self.log_path.open("ab", buffering=0)

        env = dict(os.environ)
        for var in ("NODE_OPTIONS", "NODE_PATH"):
            env.pop(var, None)
        env.update(
            LOG_ENABLED="true",
            LOG_LEVEL=self.log_level,
            LOG_DESTINATION=str(self.log_path),
            THREADPOST_PDS_RATE_LIMITS="1" if self.rate_limits else "0",
        )
        env.update(self.extra_env)
        cmd = [
            str(node),
            str(SERVER_SCRIPT),
            "--install-dir",
            str(install_dir),
            "--data-dir",
            str(self.data_dir / "pds"),
            "--pds-port",
            str(self.pds_port),
            "--plc-port",
            str(self.plc_port),
        ]
        started = time.monotonic()
        self.process = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,  # closing it makes the server exit, even if we die
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            env=env,
            cwd=str(self.data_dir),
            start_new_session=True,
        )
        self.pid = self.process.pid
        lines: queue.Queue[bytes | None] = queue.Queue()
        self._reader = threading.Thread(
            target=self._pump_stdout, args=(self.process, lines), daemon=True
        )
        self._reader.start()

        deadline = started + self.start_timeout
        ready: dict[str, Any] | None = None
        while ready is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._fail_start(f"no ready line within {self.start_timeout:g} s")
            try:
                line = lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                if self.process.poll() is not None and lines.empty():
                    self._fail_start(f"server exited with code {self.process.returncode}")
                continue
            if line is None:
                self._fail_start(f"server exited with code {self.process.wait(5)}")
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if isinstance(msg, dict) and msg.get("ready"):
                ready = msg
        self.url = str(ready["pds"]).rstrip("/")
        self.plc_url = str(ready["plc"]).rstrip("/")
        self.start_seconds = time.monotonic() - started
        return self

    def _pump_stdout(self, proc: subprocess.Popen[bytes], lines: queue.Queue[bytes | None]) -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            lines.put(raw)
            try:
                if self._log_file is not None and not self._log_file.closed:
                    self._log_file.write(b"[stdout] " + raw)
            except (OSError, ValueError):
                pass
        lines.put(None)

    def _fail_start(self, why: str) -> NoReturn:
        tail = self.log_tail()
        where = self.log_path
        self.stop(_keep=True)
        raise PDSStartError(
            f"local PDS did not start: {why}\nlog: {where}\n--- log tail ---\n{tail}"
        )

    def stop(self, *, _keep: bool = False) -> None:
        """Stop the server (SIGTERM to its process group, SIGKILL after 10 s). Idempotent."""
        proc = self.process
        if proc is not None:
            try:
                if proc.stdin is not None:
                    proc.stdin.close()
            except OSError:
                pass
            if proc.poll() is None:
                self._signal_group(signal.SIGTERM)
                try:
                    proc.wait(STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    self._signal_group(signal.SIGKILL)
                    proc.wait(STOP_TIMEOUT_S)
            if proc.stdout is not None:
                with contextlib.suppress(OSError):
                    proc.stdout.close()
            if self._reader is not None:
                self._reader.join(2)
            self.process = None
        if self._log_file is not None:
            with contextlib.suppress(OSError):
                self._log_file.close()
            self._log_file = None
        if (
            not _keep
            and not self.keep_data
            and self._own_data_dir
            and self.data_dir is not None
            and self.data_dir.exists()
        ):
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def _signal_group(self, sig: int) -> None:
        if self.pid is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)  # start_new_session: pgid == pid

    def log_tail(self, max_bytes: int = 8000) -> str:
        """The last part of the server log (for failure messages)."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - max_bytes))
            return fh.read().decode("utf-8", "replace")

    # ------------------------------------------------------------------ HTTP
    def _request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        token: str | None = None,
        timeout: float = HTTP_TIMEOUT_S,
        nsid: str | None = None,
    ) -> Any:
        if not self.url:
            raise PDSError("not started")
        headers = {"accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["content-type"] = "application/json"
        if token:
            headers["authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with _OPENER.open(req, timeout=timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                parsed: Any = json.loads(raw)
            except ValueError:
                parsed = _text(raw)
            raise PDSRequestError(exc.code, parsed, nsid or path) from None
        return json.loads(raw) if raw else None

    def xrpc_get(
        self, nsid: str, params: Mapping[str, Any] | None = None, *, token: str | None = None
    ) -> Any:
        query = "?" + urllib.parse.urlencode(params, doseq=True) if params else ""
        return self._request("GET", f"/xrpc/{nsid}{query}", token=token, nsid=nsid)

    def xrpc_post(self, nsid: str, body: Any = None, *, token: str | None = None) -> Any:
        return self._request(
            "POST", f"/xrpc/{nsid}", body=body if body is not None else {}, token=token, nsid=nsid
        )

    # ------------------------------------------------------------------ accounts
    def create_account(
        self, handle: str, password: str, email: str | None = None
    ) -> dict[str, Any]:
        """``com.atproto.server.createAccount`` (no invite needed; use a ``*.test`` handle).

        Returns ``{"did", "handle", "accessJwt", "refreshJwt", "password", "email"}``.
        """
        if email is None:
            email = f"{handle.split('.')[0]}@example.test"
        out = self.xrpc_post(
            "com.atproto.server.createAccount",
            {"handle": handle, "password": password, "email": email},
        )
        return {
            "did": out["did"],
            "handle": out["handle"],
            "accessJwt": out["accessJwt"],
            "refreshJwt": out["refreshJwt"],
            "password": password,
            "email": email,
        }

    def create_session(self, identifier: str, password: str) -> dict[str, Any]:
        """``com.atproto.server.createSession`` (counts as one createSession)."""
        return dict(
            self.xrpc_post(
                "com.atproto.server.createSession",
                {"identifier": identifier, "password": password},
            )
        )

    def get_record(self, repo: str, collection: str, rkey: str) -> dict[str, Any]:
        """``com.atproto.repo.getRecord`` → ``{"uri", "cid", "value"}``."""
        return dict(
            self.xrpc_get(
                "com.atproto.repo.getRecord",
                {"repo": repo, "collection": collection, "rkey": rkey},
            )
        )

    def list_records(self, repo: str, collection: str, limit: int = 100) -> list[dict[str, Any]]:
        out = self.xrpc_get(
            "com.atproto.repo.listRecords", {"repo": repo, "collection": collection, "limit": limit}
        )
        return list(out.get("records", []))

    def get_blob(self, did: str, cid: str) -> bytes:
        """``com.atproto.sync.getBlob``: a blob's bytes exactly as the PDS stores and serves
        them to anyone."""
        query = urllib.parse.urlencode({"did": did, "cid": cid})
        req = urllib.request.Request(f"{self.url}/xrpc/com.atproto.sync.getBlob?{query}")
        try:
            with _OPENER.open(req, timeout=HTTP_TIMEOUT_S) as resp:
                return bytes(resp.read())
        except urllib.error.HTTPError as exc:
            raise PDSRequestError(exc.code, _text(exc.read()), "com.atproto.sync.getBlob") from None

    # ------------------------------------------------------------------ instrumentation
    def counts(self) -> dict[str, int]:
        """XRPC requests the PDS received since start (or the last reset), by NSID."""
        return dict(self._request("GET", "/_harness/counts"))

    def count(self, nsid: str) -> int:
        """How many ``/xrpc/<nsid>`` requests the PDS received (e.g. createSession)."""
        return int(self.counts().get(nsid, 0))

    def requests(self) -> list[dict[str, Any]]:
        """The last 1000 requests: ``[{"method", "path", "nsid", "status", "ms", "received_ms",
        "answered_ms"}]`` (the last two in epoch milliseconds, `time.time()`'s clock)."""
        return list(self._request("GET", "/_harness/requests"))

    def reset_counts(self) -> None:
        self._request("POST", "/_harness/reset")

    def hold(self, nsid: str, *, timeout: float = 10.0) -> None:
        """Hold every later ``/xrpc/<nsid>`` request before the PDS sees it, until
        `release_held()` (or `timeout` seconds each): a slow PDS whose slowness ends on cue."""
        self._request("POST", "/_harness/hold", body={"nsid": nsid, "timeout_ms": timeout * 1000})

    def holding(self) -> int:
        """How many requests the hold is holding right now."""
        return int(self._request("GET", "/_harness/holding")["holding"])

    def release_held(self) -> None:
        self._request("POST", "/_harness/release")

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<LocalPDS {self.url or '-'} plc={self.plc_url or '-'} {state}>"
