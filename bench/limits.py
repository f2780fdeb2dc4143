"""Joins one network address gets in a minute: the real server with its default limits,
flooded by a few clients on one address for `--seconds` (default 60).

Usage: python bench/limits.py [--seconds 60] [--clients 4]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.server import Server, free_port  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    server = Server(Path(tempfile.mkdtemp()) / "limits.db", free_port()).start()
    counts = {"admitted": 0, "refused": 0, "other": 0}
    reached: dict[int, float] = {}
    lock = threading.Lock()
    start = time.monotonic()
    stop = start + args.seconds

    def client() -> None:
        with httpx.Client(base_url=server.base, timeout=30) as http:
            while time.monotonic() < stop:
                status = http.post("/api/sessions/join", json={"code": server.code}).status_code
                with lock:
                    kind = {201: "admitted", 429: "refused"}.get(status, "other")
                    counts[kind] += 1
                    if kind == "admitted" and counts[kind] % 50 == 0:
                        reached[counts[kind]] = round(time.monotonic() - start, 2)

    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.stop()
    print(json.dumps({"seconds": args.seconds, "clients": args.clients, **counts,
                      "refused_per_second": round(counts["refused"] / args.seconds),
                      "admitted_reached_at_seconds": reached}, indent=1))


if __name__ == "__main__":
    main()
