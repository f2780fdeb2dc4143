"""Open-loop load benchmark: a whole city's workshop in one process, phones as real clients.

Starts the real server (run.py --demo) on a temporary SQLite file, pinned to CPU 0 (the
client pins itself to CPU 1), then over loopback: a join burst, answers at fixed offered
rates with a projector watching, an exact check of the counts, and a step change with
thousands of phones connected by WebSocket. The same workload then runs against the bare
reference app (bench/bare.py). See bench/README.md.

Usage: python bench/load.py [--short] [--rates 100,300,600,1000,2000,3000] [--phones 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--short", action="store_true",
        help="CI correctness run (< 60 s): 200 participants, rates 50,100 for 2 s, 200 phones,"
             " no bare comparison; exit 1 on any lost or double-counted answer or phone"
             " without its panel")
    add("--participants", type=int, default=10_000, help="joins in the burst (default 10000)")
    add("--phones", type=int, default=10_000, help="phones connected for the step change")
    add("--rates", default="100,300,600,1000,2000,3000", help="offered answers/s, in turn")
    add("--duration", type=float, default=5.0, help="seconds per rate")
    add("--timeout", type=float, default=10.0,
        help="an answer not acknowledged this long after its scheduled time is a timeout")
    add("--gap", type=float, default=1.0, help="pause between rates (s)")
    add("--join-concurrency", type=int, default=64)
    add("--max-conns", type=int, default=512, help="HTTP keep-alive connections at most")
    add("--handshakes", type=int, default=500, help="phone WebSocket handshakes at once")
    add("--phone-timeout", type=float, default=60.0,
        help="a phone without its new panel this long after the step change has failed")
    add("--apps", default="eclair,eclair-asyncio,bare",
        help="what to measure, in turn: eclair (as run.py serves it: uvloop + httptools when"
             " installed), eclair-asyncio (the same without uvloop and httptools: joins and"
             " answers only, no phones), bare (bench/bare.py), postgres:N (N processes on"
             " PostgreSQL, live events through Redis)")
    add("--processes", metavar="N,M",
        help="the several-process mode: single-process SQLite, then postgres:N for each N"
             " given (e.g. 1,2), unpinned, in the same run (sets --apps)")
    add("--postgres", default=os.environ.get("ECLAIR_BENCH_POSTGRES",
                                             "postgresql://postgres@127.0.0.1:5432/test"),
        help="PostgreSQL server for postgres:N (a database is made and dropped per target)")
    add("--redis", default=os.environ.get("ECLAIR_BENCH_REDIS", "redis://127.0.0.1:6379/0"),
        help="Redis for postgres:N")
    add("--no-calibration", action="store_true",
        help="skip measuring what the client alone can offer (against the bare app)")
    add("--calibration-rate", type=float,
        help="GET/s the client offers alone against the bare app (default: twice the"
             " highest rate)")
    add("--app-root", type=Path, default=BENCH.parent,
        help="the Éclair tree to measure (default: the one holding bench/), e.g. a worktree")
    add("--client-loop", choices=["uvloop", "asyncio"], default="uvloop")
    add("--json", type=Path, help="where to write every figure (default: /tmp/eclair-bench-"
                                  "<date>.json)")
    args = parser.parse_args(argv)
    if args.short:
        args.participants, args.phones, args.duration = 200, 200, 2.0
        args.rates, args.apps, args.no_calibration = "50,100", "eclair", True
        args.phone_timeout = 20.0
    args.rate_list = [float(r) for r in args.rates.split(",") if r.strip()]
    args.phones = min(args.phones, args.participants)
    if args.processes:
        args.apps = ",".join(["eclair"] + [f"postgres:{int(n)}"
                                           for n in args.processes.split(",") if n.strip()])
        args.no_calibration = True
    args.app_list = [a.strip() for a in args.apps.split(",") if a.strip()]
    unknown = {a for a in args.app_list if not a.startswith("postgres:")} \
        - {"eclair", "eclair-asyncio", "bare"}
    if unknown:
        parser.error(f"unknown --apps: {', '.join(sorted(unknown))}")
    return args


ARGS = parse_args(sys.argv[1:])
sys.path.insert(0, str(ARGS.app_root.resolve()))  # tests.server and facilitation from there

import contract as api  # noqa: E402
import rawws  # noqa: E402
import report  # noqa: E402
import servers  # noqa: E402
from answers import (  # noqa: E402
    TICK,
    Projector,
    Target,
    idempotency_probe,
    join_burst,
    run_answers,
    settled_tally,
)
from figures import Cpu, RssSampler, machine, rss_mib, summary_ms  # noqa: E402
from phones import run_phones  # noqa: E402
from rawhttp import HttpError, Pool, Timeout  # noqa: E402

HOST = "127.0.0.1"


def pin_client() -> bool:
    """Client on CPU 1, server on CPU 0, when there are two cores or more."""
    if (os.cpu_count() or 1) < 2 or 1 not in os.sched_getaffinity(0):
        return False
    os.sched_setaffinity(0, {1})
    return True


CLIENT_PINNED = pin_client()  # before any thread or child process exists


async def run_target(app: str, variant: str, args: argparse.Namespace, tmp: Path,
                     with_phones: bool = True, processes: int = 0) -> dict[str, Any]:
    """`processes` > 0: that many server processes on PostgreSQL and Redis, unpinned (they
    share the cores with the database, Redis and the client)."""
    label = app if variant == "auto" else f"{app} ({variant})"
    label += f" on PostgreSQL + Redis, {processes} process(es)" if processes else ""
    print(f"\n== {label}", flush=True)
    database, extra = "", {}
    if processes:
        database = f"eclair_bench_{os.getpid()}_{processes}"
        await postgres_admin(args.postgres, f'CREATE DATABASE "{database}"')
        extra = {"DATABASE_URL": args.postgres.rsplit("/", 1)[0] + "/" + database,
                 "REDIS_URL": args.redis, "ECLAIR_WORKERS": str(processes)}
    pin_server = CLIENT_PINNED and not processes and not args.processes
    try:
        running = servers.start(app, tmp / f"{app}-{variant}-{processes}.db", variant,
                                tmp / "shim", pin_server, extra)
    except BaseException:
        if database:
            await postgres_admin(args.postgres, f'DROP DATABASE "{database}" WITH (FORCE)')
        raise
    pid, port = running.pid, running.server.port
    pool = Pool(HOST, port, args.max_conns)
    target = Target(pool, running.server.code, running.server.token("facilitator"),
                    running.server.token("screen"), pid)
    out: dict[str, Any] = {"app": app, "variant": variant, "server_pinned_cpu0": running.pinned,
                           "store": "postgres+redis" if processes else "sqlite",
                           "processes": processes or 1,
                           "native_modules_loaded": running.native,
                           "memory_mib": {"idle": rss_mib(pid)}}
    try:
        projector = Projector()
        screen = await rawws.connect(HOST, port, api.screen_ws_path(target.screen), {},
                                     projector.on_message)
        sampler = RssSampler(pid).start()
        tokens, out["joins"] = await join_burst(target, args.participants + 1,
                                                args.join_concurrency, args.timeout)
        out["memory_mib"]["after_joins"] = rss_mib(pid)
        print(f"   joins: {out['joins']['per_s']}/s", flush=True)
        probe_token = tokens.pop()  # held out for the idempotency probe
        await target.facilitate("POST", api.step_path(target.code), api.STEP_NEXT)
        poll = api.first_question(await target.facilitate("GET", api.state_path(target.code)))
        await target.facilitate("POST", api.open_path(target.code, poll.question_id))
        phases, ledger = await run_answers(target, tokens, poll, args.rate_list, args.duration,
                                           args.timeout, args.gap, projector)
        out["answers"] = phases
        for phase in phases:
            print(f"   {phase['offered_per_s']:>6.0f}/s offered: {phase['acked_per_s']}/s "
                  f"acknowledged, p99 {phase['latency_acked']['p99_ms']} ms", flush=True)
        tally = await settled_tally(target, poll.question_id)
        out["check"] = ledger.check(tally)
        out["idempotency"] = await idempotency_probe(target, probe_token, poll, tally)
        out["projector"] = {"messages": projector.messages, "showing_n": len(projector.shown),
                            "bytes": summary_bytes(projector.sizes)}
        out["memory_mib"]["answers_peak"] = await sampler.stop()
        screen.close()
        if with_phones:
            sampler = RssSampler(pid).start()
            print(f"   phones: connecting {args.phones}", flush=True)
            out["phones"] = await run_phones(target, tokens[:args.phones], HOST, port,
                                             args.handshakes, args.phone_timeout)
            out["memory_mib"]["phones_peak"] = await sampler.stop()
            print(f"   phones: {out['phones'].get('visible')} panels visible", flush=True)
    finally:
        pool.close()
        running.stop()
        if database:
            await postgres_admin(args.postgres, f'DROP DATABASE "{database}" WITH (FORCE)')
    return out


async def postgres_admin(url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url, timeout=5)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def summary_bytes(sizes: list[int]) -> dict[str, Any]:
    return {"count": len(sizes), "max": max(sizes) if sizes else None,
            "mean": round(sum(sizes) / len(sizes)) if sizes else None}


async def calibrate(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """What the client alone can offer: GET /healthz on the bare app (no database) at the
    highest rate, open loop, with the client's own CPU share and schedule lag."""
    rate, duration = args.calibration_rate or 2 * max(args.rate_list), 3.0
    print(f"\n== client calibration: {rate:.0f} GET/s against the bare app", flush=True)
    running = servers.start("bare", tmp / "calibration.db", "auto", tmp / "shim", CLIENT_PINNED)
    pool = Pool(HOST, running.server.port, args.max_conns)
    done: list[float] = []
    lag: list[float] = []
    failed = 0

    async def one(scheduled: float) -> None:
        nonlocal failed
        lag.append(time.perf_counter() - scheduled)
        try:
            response = await pool.request("GET", "/healthz", deadline=scheduled + args.timeout)
            ok = response.status == 200
        except (Timeout, HttpError, OSError):
            ok = False
        if ok:
            done.append(time.perf_counter() - scheduled)
        else:
            failed += 1

    try:
        cpu = Cpu(running.pid)
        count, start = round(rate * duration), time.perf_counter() + 0.02
        tasks, i = [], 0
        while i < count:
            due = min(count, int((time.perf_counter() - start) * rate) + 1)
            for j in range(i, due):
                tasks.append(asyncio.create_task(one(start + j / rate)))
            i = due
            await asyncio.sleep(max(start + i / rate - time.perf_counter(), TICK))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
        return {"offered_per_s": rate, "completed_per_s": round(len(done) / elapsed, 1),
                "failed": failed, "latency": summary_ms(done), "client_lag": summary_ms(lag),
                "cpu_percent": cpu.read()}
    finally:
        pool.close()
        running.stop()


async def main(args: argparse.Namespace) -> int:
    results: dict[str, Any] = {
        "machine": machine(), "client_pinned_cpu1": CLIENT_PINNED, "client_loop": args.client_loop,
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "targets": {},
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="eclair-bench-") as tmp:
        for name in args.app_list:
            processes = int(name.split(":", 1)[1]) if name.startswith("postgres:") else 0
            app, variant = ("eclair", "asyncio+h11") if name == "eclair-asyncio" \
                else ("eclair" if processes else name, "auto")
            results["targets"][name] = await run_target(app, variant, args, Path(tmp),
                                                        with_phones=variant == "auto",
                                                        processes=processes)
        if not args.no_calibration:
            results["calibration"] = await calibrate(args, Path(tmp))
    results["seconds"] = round(time.perf_counter() - started, 1)
    verdict = report.verdict(results, strict_phones=args.short)
    results["ok"], results["failures"] = not verdict, verdict
    print(report.table(results))
    path = args.json or Path(
        f"/tmp/eclair-bench-{datetime.datetime.now():%Y%m%d-%H%M%S}.json")
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str))
    print(f"\nAll figures: {path}")
    for failure in verdict:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if verdict else 0


if __name__ == "__main__":
    if ARGS.client_loop == "uvloop":
        import uvloop

        sys.exit(uvloop.run(main(ARGS)))
    sys.exit(asyncio.run(main(ARGS)))
