#!/usr/bin/python3
"""Smoke test of `swaprouter bench quotes`: a 2-second run against the in-process emulators of
bench/scenario.yaml; checks the report's shape (JSON keys, one row per provider, the fan-out,
cold start, the decision CPU figure and the table's sections), never its numbers. Then the same
against the providers of an engine configuration (--config), here the configuration `swaprouter
simulate --config-out` writes for its emulators on loopback, as a user's real providers would be.

Usage: bench_smoke_test.py SWAPROUTER SCENARIO
"""

import json
import os
import subprocess
import sys
import tempfile

FAILURES = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        FAILURES.append(what)


def run(binary, *args):
    return subprocess.run([binary, "bench", "quotes", *args], capture_output=True, text=True,
                          timeout=90)


def main():
    binary, scenario = sys.argv[1], sys.argv[2]
    done = run(binary, "--scenario", scenario, "--duration", "2s", "--max-requests", "500", "--json")
    check(done.returncode == 0, f"--json exits 0 (got {done.returncode}: {done.stderr[-400:]})")
    report = json.loads(done.stdout)
    for key in ("scenario", "mode", "duration_s", "load_before", "load_after", "rss_kb", "results",
                "cold", "cold_fanout_ms", "decision_cpu", "target"):
        check(key in report, f"report has {key}")
    kinds = [r["kind"] for r in report["results"]]
    check(kinds.count("quote") == 4, "one quote row per provider")
    check(kinds.count("fanout") == 1 and kinds.count("quote_and_plan") == 1, "fan-out rows")
    for r in report["results"]:
        for key in ("count", "errors", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms",
                    "mean_ms", "throughput_per_s"):
            check(key in r, f"{r['name']}: {key}")
        check(r["count"] > 0, f"{r['name']}: measured something")
        check(r["p50_ms"] <= r["p99_ms"] <= r["max_ms"], f"{r['name']}: percentiles ordered")
    check({c["provider"] for c in report["cold"]} == {"onek", "kiiex", "stablestack", "oxapay"},
          "cold start per provider")
    check("p99_us" in report["decision_cpu"], "decision wall percentiles")
    cpu = report["decision_cpu"].get("cpu", {})
    check({"p50_us", "p99_us", "max_us"} <= set(cpu), "decision CPU percentiles")
    check(0 < cpu.get("p50_us", 0) <= cpu.get("p99_us", 0) <= cpu.get("max_us", 0),
          "decision CPU percentiles ordered")
    check({"fanout_p99_ms", "measured_p99_ms", "met"} <= set(report["target"]), "target block")

    done = run(binary, "--scenario", scenario, "--providers", "onek,oxapay", "--duration", "1s",
               "--rate", "40", "--max-requests", "100")
    check(done.returncode == 0, "table, open loop, two providers: exit 0")
    for text in ("quote onek", "quote oxapay", "fan-out", "cold start", "open loop",
                 "engine decision without I/O", "vs target"):
        check(text in done.stdout, f"table shows '{text}'")
    check("quote kiiex" not in done.stdout, "--providers leaves the others out")

    done = run(binary, "--scenario", scenario, "--duration", "2h")
    check(done.returncode == 2, "--duration beyond the cap is a usage error")

    with tempfile.TemporaryDirectory() as work:
        configured(binary, scenario, work)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        return 1
    return 0


def configured(binary, scenario, work):
    config = os.path.join(work, "providers.yaml")
    err = open(os.path.join(work, "simulate.err"), "w")
    simulate = subprocess.Popen(
        # The bench scenario's fixed ports are for a simulate run by hand: a test takes free ones.
        [binary, "simulate", "--scenario", scenario, "--any-port", "--config-out", config],
        stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        while True:
            line = simulate.stdout.readline()
            if not line or line.startswith("config "):
                break
        check(os.path.exists(config), "simulate --config-out wrote the configuration")
        done = run(binary, "--config", config, "--duration", "2s", "--max-requests", "50", "--json")
        check(done.returncode == 0,
              f"--config exits 0 (got {done.returncode}: {done.stderr[-400:]})")
        if done.returncode == 0:
            report = json.loads(done.stdout)
            check(report.get("config") == config and report.get("in_process_emulators") is False,
                  "--config: the report names the configuration")
            quotes = [r for r in report["results"] if r["kind"] == "quote"]
            check(sorted(r["name"] for r in quotes) == ["quote kiiex", "quote onek (table cached)",
                                                        "quote oxapay", "quote stablestack"],
                  "--config: one quote row per configured provider, 001k as the engine asks it")
            check(all(r["count"] > 0 for r in report["results"]),
                  "--config: every row measured something")
            check({c["provider"] for c in report["cold"]} == {"onek", "kiiex", "stablestack",
                                                              "oxapay"},
                  "--config: cold start per provider")
            check("p50_us" in report["decision_cpu"].get("cpu", {}),
                  "--config: the decision CPU over the providers' own answers")
        done = run(binary, "--config", config, "--providers", "nowhere", "--duration", "1s")
        check(done.returncode == 2 and "nowhere" in done.stderr,
              "--config: an unknown provider is a usage error naming it")
        done = run(binary, "--config", config, "--scenario", scenario, "--duration", "1s")
        check(done.returncode == 2, "--config excludes --scenario")
    finally:
        simulate.terminate()
        simulate.wait(timeout=30)
        err.close()


if __name__ == "__main__":
    sys.exit(main())
