"""Load benchmark: N phones join and answer at once through the JSON API, a projector watches.

Starts the real server (run.py --demo) on a temporary SQLite file, then reports answer
latency (p50/p95/p99), throughput, the projector redraws received and the server's memory.
Usage: python bench/load.py [--participants 1000] [--concurrency 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.server import Server, free_port  # noqa: E402


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def run(participants: int, concurrency: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "bench.db", free_port()).start()
        assert server.process is not None
        fac = {"authorization": f"Bearer {server.token('facilitator')}"}
        limits = httpx.Limits(max_connections=concurrency)
        try:
            async with httpx.AsyncClient(base_url=server.base, timeout=60, limits=limits) as http:
                base_rss = rss_mib(server.process.pid)
                await http.post(f"/api/sessions/{server.code}/step", json={"move": "next"},
                                headers=fac)
                state = (await http.get(f"/api/sessions/{server.code}/state", headers=fac)).json()
                question = state["questions"][0]
                await http.post(f"/api/sessions/{server.code}/questions/{question['id']}/open",
                                headers=fac)
                t0 = time.perf_counter()
                joins = await asyncio.gather(*[
                    http.post("/api/sessions/join", json={"code": server.code})
                    for _ in range(participants)])
                join_s = time.perf_counter() - t0
                tokens = [r.json()["token"] for r in joins]
                ws_url = server.base.replace("http", "ws") + f"/screen/{server.token('screen')}/ws"
                redraws = 0
                async with websockets.connect(ws_url, max_size=None) as ws:
                    await ws.recv()
                    latencies: list[float] = []
                    choices = [c["id"] for c in question["choices"]]

                    async def answer(i: int, token: str) -> None:
                        start = time.perf_counter()
                        r = await http.post(
                            f"/api/sessions/{server.code}/questions/{question['id']}/answers",
                            json={"choices": [choices[i % len(choices)]]},
                            headers={"authorization": f"Bearer {token}"})
                        assert r.status_code == 201, r.text
                        latencies.append(time.perf_counter() - start)

                    t0 = time.perf_counter()
                    await asyncio.gather(*[answer(i, t) for i, t in enumerate(tokens)])
                    answer_s = time.perf_counter() - t0
                    try:
                        while True:
                            await asyncio.wait_for(ws.recv(), timeout=1.0)
                            redraws += 1
                    except TimeoutError:
                        pass
                results = (await http.get(
                    f"/api/sessions/{server.code}/questions/{question['id']}/results",
                    headers=fac)).json()
                assert results["n"] == participants, results["n"]
                latencies.sort()
                return {
                    "participants": participants,
                    "join_per_s": participants / join_s,
                    "answers_per_s": participants / answer_s,
                    "answer_p50_ms": 1000 * statistics.median(latencies),
                    "answer_p95_ms": 1000 * latencies[int(0.95 * len(latencies)) - 1],
                    "answer_p99_ms": 1000 * latencies[int(0.99 * len(latencies)) - 1],
                    "screen_redraws": redraws,
                    "answer_burst_s": answer_s,
                    "rss_start_mib": base_rss,
                    "rss_end_mib": rss_mib(server.process.pid),
                }
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--participants", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=200)
    args = parser.parse_args()
    report = asyncio.run(run(args.participants, args.concurrency))
    for key, value in report.items():
        print(f"{key:>16}: {value:,.1f}" if isinstance(value, float) else f"{key:>16}: {value}")


if __name__ == "__main__":
    main()
