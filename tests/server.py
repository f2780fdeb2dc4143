"""Start the real server (`run.py --demo`) in a subprocess and read the links it prints."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from facilitation.settings import ROOT

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_env() -> dict[str, str]:
    """Settings for a server using REDIS_URL's Redis (default: the local one) on a channel
    of its own. Without Redis the test is skipped, and fails when CI is set."""
    import uuid

    import pytest
    import redis

    try:
        with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1) as client:
            client.ping()
    except redis.RedisError as error:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is needed in CI: no Redis at {REDIS_URL}: {error}")
        pytest.skip(f"no Redis at {REDIS_URL}: {error}")
    return {"REDIS_URL": REDIS_URL, "ECLAIR_REDIS_PREFIX": f"test-{uuid.uuid4().hex[:10]}"}


def forget_redis(env: dict[str, str]) -> None:
    """Delete what a server on `redis_env()`'s channel left in Redis (its counter)."""
    if "ECLAIR_REDIS_PREFIX" not in env:
        return
    import redis

    with redis.Redis.from_url(env["REDIS_URL"]) as client:
        client.delete(f"{env['ECLAIR_REDIS_PREFIX']}:live:seq")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    db: Path
    port: int
    process: subprocess.Popen | None = None
    output: list[str] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)
    password: str | None = None
    code: str = ""
    env: dict[str, str] = field(default_factory=dict)  # extra settings, as ECLAIR_* variables
    # What starts it, and where: run.py in the checkout unless told (e.g. an installed eclair).
    command: list[str] = field(default_factory=lambda: [sys.executable, str(ROOT / "run.py")])
    cwd: Path = ROOT

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> Server:
        # No automatic purge: the demo's dates will pass one day, the tests must not care.
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "ECLAIR_PURGE_HOURS": "0", **self.env}
        self.process = subprocess.Popen(
            [*self.command, "--demo", "--db", str(self.db), "--port", str(self.port)],
            cwd=self.cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("server exited:\n" + "".join(self.output))
            self.output.append(line)
            for role, marker in (("organiser", "/organiser/login"), ("facilitator", "/f/"),
                                 ("screen", "/screen/"), ("helper", "/h/"), ("join", "/j/")):
                match = re.search(r"(http://\S+)", line)
                if match and marker in match.group(1):
                    self.urls[role] = match.group(1)
            found = re.search(r"\(demo / (\S+)\)", line)
            if found:
                self.password = found.group(1)
            if "join" in self.urls:
                self.code = self.urls["join"].rsplit("/", 1)[1]
                break
        self._drain()
        self.wait_ready(deadline)
        return self

    def _drain(self) -> None:
        # Keep reading the server's output so its pipe never fills up.
        import threading

        def pump() -> None:
            assert self.process and self.process.stdout
            try:
                for line in self.process.stdout:
                    self.output.append(line)
            except ValueError:  # closed by stop()
                pass

        threading.Thread(target=pump, daemon=True).start()

    def wait_ready(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                time.sleep(0.2)  # let the pump read its last words
                break  # it stopped: no point waiting
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not answer /healthz:\n" + "".join(self.output))

    def kill9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self._close()

    def _close(self) -> None:
        if self.process and self.process.stdout:
            self.process.stdout.close()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._close()

    def token(self, role: str) -> str:
        return self.urls[role].rsplit("/", 1)[1]
