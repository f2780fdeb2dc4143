"""The table printed at the end of a run, and the pass/fail verdict."""

from __future__ import annotations

from typing import Any


def verdict(results: dict[str, Any], strict_phones: bool) -> list[str]:
    """Why the run fails: lost or double-counted answers always; with `strict_phones`
    (--short) also a failed join or a phone that never showed its new panel."""
    failures = []
    for name, target in results["targets"].items():
        check = target.get("check", {})
        if not check.get("ok", False):
            failures.append(f"{name}: counts do not match what was acknowledged: "
                            + "; ".join(check.get("problems", ["no check"])))
        probe = target.get("idempotency", {})
        if not probe.get("ok", False):
            failures.append(f"{name}: idempotency probe: {probe.get('verdict')} "
                            f"(statuses {probe.get('statuses')})")
        if strict_phones:
            joins = target.get("joins", {})
            if joins.get("failures"):
                failures.append(f"{name}: joins failed: {joins['failures']}")
            phones = target.get("phones")
            if phones is not None and (phones.get("failed") or phones["connected"]
                                       != phones["phones"]):
                failures.append(f"{name}: phones without their panel: "
                                f"{phones.get('failure_reasons')}, connect failures "
                                f"{phones.get('connect_failures')}")
    return failures


def _ms(value: Any) -> str:
    return "—" if value is None else f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def _num(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"
    return f"{value:,}"


def _rows(target: dict[str, Any]) -> dict[str, tuple[str, float | None]]:
    """label -> (text, number for the ratio column)."""
    rows: dict[str, tuple[str, float | None]] = {}
    mem = target["memory_mib"]
    joins = target["joins"]
    rows["store / processes"] = (f"{target.get('store', 'sqlite')} / "
                                 f"{target.get('processes', 1)}", None)
    rows["server pinned to CPU 0"] = (str(target["server_pinned_cpu0"]), None)
    rows["uvloop / httptools loaded"] = (
        " / ".join("yes" if target["native_modules_loaded"].get(m) else "no"
                   for m in ("uvloop", "httptools")), None)
    rows["joins/s (64 in flight)"] = (_num(joins["per_s"]), joins["per_s"])
    p99 = joins["latency"]["p99_ms"]
    rows["join p99 ms"] = (_ms(p99), p99)
    rows["join failures"] = (str(joins["failures"] or 0), None)
    for key, label in (("idle", "RSS idle MiB"), ("after_joins", "RSS after joins MiB"),
                       ("answers_peak", "RSS max during answers MiB"),
                       ("phones_peak", "RSS max with phones MiB")):
        if key in mem:
            rows[label] = (_num(mem[key]), mem[key])
    for phase in target.get("answers", []):
        r = f"{phase['offered_per_s']:,.0f}/s"
        lat, pl = phase["latency_acked"], phase["projector_lag"]
        rows[f"{r}: acknowledged/s"] = (_num(phase["acked_per_s"]), phase["acked_per_s"])
        rows[f"{r}: ack p50/p95/p99 ms"] = (
            " / ".join(_ms(lat[k]) for k in ("p50_ms", "p95_ms", "p99_ms")), lat["p99_ms"])
        rows[f"{r}: 503 refusals (p99 ms)"] = (
            f"{phase['refused_503']:,}" + (f" ({_ms(phase['latency_503']['p99_ms'])})"
                                           if phase["refused_503"] else ""), None)
        errors = sum(phase["errors"].values())
        rows[f"{r}: errors+timeouts"] = (
            _num(errors) + (f" {phase['errors']}" if phase["errors"] else ""), None)
        rows[f"{r}: not sent (every participant busy)"] = (
            _num(phase["skipped_no_free_participant"]), None)
        rows[f"{r}: projector lag p50/p99 ms"] = (
            f"{_ms(pl['p50_ms'])} / {_ms(pl['p99_ms'])}"
            + (f" ({pl['never_shown']} never shown)" if pl["never_shown"] else ""),
            pl["p99_ms"])
        cpu = phase["cpu_percent"]
        rows[f"{r}: CPU % server/client/stores/others"] = (
            f"{cpu['server']:.0f} / {cpu['client']:.0f} / {cpu.get('stores', 0):.0f} / "
            f"{cpu['others']:.0f}", None)
        rows[f"{r}: client lag p99 ms"] = (_ms(phase["client_lag"]["p99_ms"]), None)
    check = target.get("check")
    if check:
        rows["counts check"] = (("exact" if check["exact"] else
                                 f"bounds ({check['outcome_unknown']} unknown outcomes)")
                                + (" OK" if check["ok"] else " FAILED"), None)
        rows["n (respondents)"] = (_num(check["n"]), None)
    probe = target.get("idempotency")
    if probe:
        rows["retry with the same Idempotency-Key"] = (
            "replayed" if probe["replay_honoured"] else "applied again (last write wins)"
            if probe["ok"] else "WRONG", None)
    phones = target.get("phones")
    if phones:
        rows["phones connected"] = (f"{phones['connected']:,} / {phones['phones']:,}", None)
        rows["phone handshakes/s"] = (_num(phones["handshakes_per_s"]),
                                      phones["handshakes_per_s"])
        vis = phones.get("panel_visible", {})
        rows["step change: panel p50/p99/max ms"] = (
            " / ".join(_ms(vis.get(k)) for k in ("p50_ms", "p99_ms", "max_ms")),
            vis.get("p99_ms"))
        rows["step change: how"] = (", ".join(f"{k}: {v:,}" for k, v in
                                               phones.get("how", {}).items()), None)
        cpu = phones.get("cpu_percent_step_change")
        if cpu:
            rows["step change: CPU % server/client/stores/others"] = (
                f"{cpu['server']:.0f} / {cpu['client']:.0f} / {cpu.get('stores', 0):.0f} / "
                f"{cpu['others']:.0f}", None)
        rows["step change: failed phones"] = (
            _num(phones.get("failed", 0)) + (f" {phones['failure_reasons']}"
                                             if phones.get("failure_reasons") else ""), None)
    return rows


def table(results: dict[str, Any]) -> str:
    targets = results["targets"]
    columns = {name: _rows(t) for name, t in targets.items()}
    names = list(columns)
    labels: list[str] = []
    for rows in columns.values():
        labels += [label for label in rows if label not in labels]
    ratio = "eclair" in columns and "bare" in columns
    head = ["", *names] + (["éclair/bare"] if ratio else [])
    lines = [head]
    for label in labels:
        line = [label] + [columns[n].get(label, ("", None))[0] for n in names]
        if ratio:
            a, b = columns["eclair"].get(label, ("", None))[1], \
                columns["bare"].get(label, ("", None))[1]
            line.append(f"{a / b:.2f}" if a is not None and b else "")
        lines.append(line)
    widths = [min(max(len(line[i]) for line in lines), 46) for i in range(len(head))]
    out = [f"\nMachine: {results['machine']['cpu_model']}, {results['machine']['nproc']} cores,"
           f" Python {results['machine']['python']}, {results['machine']['date']};"
           f" client pinned to CPU 1: {results['client_pinned_cpu1']},"
           f" client loop: {results['client_loop']}; {results['seconds']} s\n"]
    for line in lines:
        out.append("  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
                             for i, cell in enumerate(line)).rstrip())
    cal = results.get("calibration")
    if cal:
        out.append(f"\nClient alone (GET /healthz on the bare app): offered "
                   f"{cal['offered_per_s']:,.0f}/s, completed {cal['completed_per_s']:,.0f}/s, "
                   f"p99 {_ms(cal['latency']['p99_ms'])} ms, client lag p99 "
                   f"{_ms(cal['client_lag']['p99_ms'])} ms, CPU client "
                   f"{cal['cpu_percent']['client']:.0f} % / server "
                   f"{cal['cpu_percent']['server']:.0f} % / other processes "
                   f"{cal['cpu_percent']['others']:.0f} %, failed {cal['failed']}")
    return "\n".join(out)
