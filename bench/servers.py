"""Start the server under test: Éclair (`run.py --demo`, through tests.server.Server) or the
bare reference app (bench/bare.py), optionally without uvloop and httptools, pinned to CPU 0.

The caller puts the application's root first on sys.path before importing this module, so
`tests.server` (and through it `facilitation`) come from the tree being measured.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from figures import loaded_modules, pin

from tests.server import Server, free_port

BENCH = Path(__file__).resolve().parent
SHIM = "# Written by bench/servers.py: makes uvicorn fall back to asyncio and h11.\n" \
       "raise ImportError('disabled for the benchmark')\n"


class BareServer(Server):
    """tests.server.Server, but running bench/bare.py (which prints the same kind of links)."""

    def start(self, timeout: float = 20.0) -> BareServer:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        self.process = subprocess.Popen(
            [sys.executable, str(BENCH / "bare.py"), "--db", str(self.db),
             "--port", str(self.port)],
            cwd=BENCH, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        while time.monotonic() < deadline and "join" not in self.urls:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("bare server exited:\n" + "".join(self.output))
            self.output.append(line)
            match = re.search(r"(http://\S+)", line)
            for role, marker in (("facilitator", "/f/"), ("screen", "/screen/"),
                                 ("join", "/j/")):
                if match and marker in match.group(1):
                    self.urls[role] = match.group(1)
        self.code = self.urls["join"].rsplit("/", 1)[1]
        self._drain()
        self.wait_ready(deadline)
        return self


@dataclass
class Running:
    """A started server and what the benchmark needs to know about it."""

    server: Server
    app: str  # "eclair" or "bare"
    variant: str  # "auto" (uvloop + httptools when installed) or "asyncio+h11"
    pinned: bool
    native: dict[str, bool]  # uvloop / httptools actually loaded in the server process

    @property
    def pid(self) -> int:
        assert self.server.process is not None
        return self.server.process.pid

    def stop(self) -> None:
        self.server.stop()


def start(app: str, db: Path, variant: str, shim_dir: Path, pin_cpus: bool,
          extra_env: dict[str, str] | None = None) -> Running:
    # Thousands of phones from one load generator: one address, which the rate limits
    # would rightly take for a flood.
    env: dict[str, str] = {"ECLAIR_RATE_LIMITS": "0", **(extra_env or {})}
    if variant == "asyncio+h11":
        shim_dir.mkdir(parents=True, exist_ok=True)
        for name in ("uvloop", "httptools"):
            (shim_dir / f"{name}.py").write_text(SHIM)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(shim_dir)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                               if p])
    port = free_port()
    server: Server = (BareServer if app == "bare" else Server)(db, port, env=env)
    server.start(timeout=60)
    assert server.process is not None
    pinned = pin(server.process.pid, {0}) if pin_cpus else False
    native = loaded_modules(server.process.pid, ("uvloop", "httptools"))
    return Running(server, app, variant, pinned, native)
