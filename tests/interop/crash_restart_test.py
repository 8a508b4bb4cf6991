#!/usr/bin/env python3
"""Kill -9 of a running `swaprouter swap` at each named hook point, then restart (issue 7,
FAULTS.md 3-5), across processes: a `swaprouter simulate` serves one provider's emulator and
writes a ready configuration (--config-out); `swaprouter swap --config` runs with
SWAPROUTER_CRASH_AT=<hook> and dies there (exit 137, as _exit does for kill -9's stand-in); the
same command runs again, reconciles the unfinished leg first and completes the crashed intent.
Then, from the emulator's /_sim/ledger and the SQLite journals:

  I1  each client id exists at most once at the provider (001k custom_id, KIIEX ClientOrderId;
      StableStack and OxaPay have no client id: each journaled swap id exists exactly once),
  I2  every swap the provider created is in a journal,
  I3  every journal passes PRAGMA integrity_check,
  I5  no unfinished leg is left without an alarm,

and both intents of every run ended "done". Between the crash and the restart the hook points
are told apart: after_intent_commit left nothing at the provider and the leg planned; at
after_request_write (the create's bytes are written, no answer read), after_response_read (the
answer read, not parsed) and before_state_commit (parsed, not journaled) the provider has the
swap while the journal's leg is still submitting without a provider reference; and the run
crashing at after_request_write does so although the emulator creates the swap and never answers
(a one-shot drop fault on the create), so that point sits before any answer is read. With 001k it also checks `quote --config` (live) and
`swap --config --dry-run` (a paper fill, journaled dry-run, nothing at the provider), also to
receive an exact amount under a --max-spend cap. 001k and
KIIEX deduplicate by client id; StableStack
and OxaPay do not (their restart adopts the one swap of that amount and pair, never resends).

Usage: crash_restart_test.py SWAPROUTER_BINARY [PROVIDER...]   (python3, standard library only)
"""
import collections
import json
import os
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

HOOKS = ["after_intent_commit", "after_request_write", "after_response_read",
         "before_state_commit"]

# One provider per simulate: the plan cannot split or move to another provider, so every swap
# of a case lands on the provider under test. Fixed prices, fast fills; fake test credentials.
SCENARIOS = {
    "onek": ("COPM", """
seed: 3
volatility: 0
tick_ms: 0
providers:
  onek:
    port: 0
    tls: true
    directions: [USDT-COPM]
    balances: {USDT: "100000", COPM: "1000000"}
    credentials:
      - access_key: crash-onek-key
        secret: crash-onek-secret-not-real
        permissions: [allow_balance, allow_swap]
    fill_delay_ms: 50
"""),
    "kiiex": ("COPM", """
seed: 3
volatility: 0
tick_ms: 0
providers:
  kiiex:
    port: 0
    tls: true
    directions: [USDT-COPM]
    balances: {USDT: "100000", COPM: "100000000"}
    credentials:
      - access_key: crash-kiiex-key
        secret: crash-kiiex-secret-not-real
    fill_delay_ms: 50
"""),
    "stablestack": ("USDC", """
seed: 3
volatility: 0
tick_ms: 0
providers:
  stablestack:
    port: 0
    tls: true
    directions: [USDT-USDC]
    balances: {USDT: "100000", USDC: "100000"}
    credentials:
      - access_key: crash-stablestack-key
        secret: unused-by-stablestack
    fill_delay_ms: 50
"""),
    "oxapay": ("TRX", """
seed: 3
volatility: 0
tick_ms: 0
providers:
  oxapay:
    port: 0
    tls: true
    min_spend_usd: "5"
    directions: [USDT-TRX]
    balances: {USDT: "100000"}
    credentials:
      - access_key: crash-oxapay-key
        secret: unused-by-oxapay
"""),
}

# The request that creates a swap (cli/fleet.cpp create_route_of).
CREATE_ROUTES = {"onek": "/api/v1/swap/open", "kiiex": "/ap/SendOrder",
                 "stablestack": "/api/swaps", "oxapay": "/v1/general/swap"}

FINAL = {"rejected", "filled", "partially_filled", "expired", "cancelled", "failed"}
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL", what, flush=True)


class Simulator:
    def __init__(self, binary, work, provider):
        self.work = work
        scenario = os.path.join(work, f"{provider}-scenario.yaml")
        with open(scenario, "w") as f:
            f.write(SCENARIOS[provider][1])
        self.config = os.path.join(work, f"{provider}.yaml")
        self.err = open(os.path.join(work, f"{provider}-simulate.err"), "w")
        self.proc = subprocess.Popen(
            [binary, "simulate", "--scenario", scenario, "--config-out", self.config],
            stdout=subprocess.PIPE, stderr=self.err, text=True)
        self.ca = None
        self.admin = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            words = line.split()
            if words[:1] == ["ca"]:
                self.ca = words[1]
            elif words[:2] == ["admin", provider]:
                self.admin = words[2]
            elif words[:1] == ["config"]:
                return
        raise RuntimeError(f"simulate printed no 'config' line: {self.stderr()}")

    def stderr(self):
        self.err.flush()
        with open(self.err.name) as f:
            return f.read()

    def ledger(self):
        context = ssl.create_default_context(cafile=self.ca)
        with urllib.request.urlopen(self.admin + "/ledger", context=context, timeout=10) as r:
            return json.load(r)

    def faults(self, rule=None):
        """Sets one fault rule (the admin API's JSON form), or clears them all without one."""
        context = ssl.create_default_context(cafile=self.ca)
        if rule is None:
            request = urllib.request.Request(self.admin + "/faults", method="DELETE")
        else:
            request = urllib.request.Request(self.admin + "/faults", method="POST",
                                             data=json.dumps(rule).encode())
        with urllib.request.urlopen(request, context=context, timeout=10) as r:
            r.read()

    def stop(self):
        self.proc.terminate()
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            code = "killed"
        check(code == 0, f"simulate exited {code} after SIGTERM: {self.stderr()[-2000:]}")
        self.err.close()


def swap(binary, config, db, receive, amount, crash_at=None):
    env = {k: v for k, v in os.environ.items() if k != "SWAPROUTER_CRASH_AT"}
    if crash_at:
        env["SWAPROUTER_CRASH_AT"] = crash_at
    return subprocess.run(
        [binary, "swap", "--config", config, "--db", db, "--from", "USDT", "--to", receive,
         "--spend", amount, "--deadline", "30s"],
        env=env, capture_output=True, text=True, timeout=90)


def journal_rows(db):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
        intents = con.execute(
            "SELECT id, state, dry_run FROM intents ORDER BY created_at, id").fetchall()
        legs = con.execute(
            "SELECT intent_id, client, leg_index, attempt, phase, provider_ref FROM legs "
            "ORDER BY id").fetchall()
        alarms = {row[0] for row in con.execute("SELECT client FROM events WHERE kind = 'alarm'")}
    finally:
        con.close()
    return integrity, intents, legs, alarms


def provider_refs(ledger, provider):
    """The ids of every swap (KIIEX: order) the provider's ledger holds."""
    if provider == "onek":
        return [s["code"] for s in ledger["swaps"]]
    if provider == "kiiex":
        return [str(o["OrderId"]) for o in ledger["orders"]]
    key = "swapId" if provider == "stablestack" else "track_id"
    return [s[key] for s in ledger["swaps"]]


def wait_for_swaps(sim, provider, count):
    """The provider's swap ids once it holds `count` (a create written by a process that died at
    once may still be in the emulator's hands), or what it holds after 10 s."""
    deadline = time.monotonic() + 10
    while True:
        refs = provider_refs(sim.ledger(), provider)
        if len(refs) >= count or time.monotonic() > deadline:
            return refs
        time.sleep(0.05)


def check_crashed_state(what, hook, sim, provider, db, before):
    """What the crash left, before the restart touches it: tells the hook points apart."""
    _, intents, legs, _ = journal_rows(db)
    check(len(intents) == 1, f"{what}: one intent journaled before the crash: {intents}")
    first = [l for l in legs if intents and l[0] == intents[0][0] and l[2] == 0]
    if hook == "after_intent_commit":
        refs = provider_refs(sim.ledger(), provider)
        check(len(refs) == before, f"{what}: nothing reached the provider: {refs}")
        check([(l[4], l[5]) for l in first] == [("planned", "")],
              f"{what}: the leg is planned, never sent: {first}")
    else:
        refs = wait_for_swaps(sim, provider, before + 1)
        check(len(refs) == before + 1, f"{what}: the provider created the swap: {refs}")
        check([(l[4], l[5]) for l in first] == [("submitting", "")],
              f"{what}: the leg is submitting, no provider reference journaled: {first}")


def check_modes(binary, work, sim, receive):
    """The same configuration quotes live and swaps on paper: nothing reaches the provider."""
    quoted = subprocess.run([binary, "quote", "--config", sim.config, "--from", "USDT", "--to",
                             receive, "--spend", "100"], capture_output=True, text=True, timeout=60)
    check(quoted.returncode == 0 and quoted.stdout.startswith("mode live\n"),
          f"quote --config: {quoted.returncode} {quoted.stdout}{quoted.stderr}")
    before = len(sim.ledger()["swaps"])
    db = os.path.join(work, "dry-run.db")
    dry = subprocess.run([binary, "swap", "--config", sim.config, "--dry-run", "--db", db,
                          "--paper-balance", "USDT=500", "--from", "USDT", "--to", receive,
                          "--spend", "100"], capture_output=True, text=True, timeout=60)
    check(dry.returncode == 0 and dry.stdout.startswith("mode dry-run\n"),
          f"swap --dry-run: {dry.returncode} {dry.stdout}{dry.stderr}")
    check(len(sim.ledger()["swaps"]) == before, "swap --dry-run reached the provider")
    _, intents, legs, _ = journal_rows(db)
    check([(state, dry_run) for _, state, dry_run in intents] == [("done", 1)],
          f"swap --dry-run: one intent done and marked dry-run: {intents}")
    check([l[5].startswith("paper-") for l in legs] == [True], f"swap --dry-run legs: {legs}")

    # Exactly 40000 COPM (about 10 USDT) spending at most 20 USDT: done on paper, the cap
    # journaled; with a cap of 5 USDT no plan reaches it (exit 1) and nothing is sent.
    capped_db = os.path.join(work, "dry-run-receive.db")
    for cap, code in (("20", 0), ("5", 1)):
        capped = subprocess.run([binary, "swap", "--config", sim.config, "--dry-run", "--db",
                                 capped_db, "--paper-balance", "USDT=500", "--from", "USDT",
                                 "--to", receive, "--receive", "40000", "--max-spend", cap],
                                capture_output=True, text=True, timeout=60)
        check(capped.returncode == code,
              f"swap --receive --max-spend {cap}: {capped.returncode} {capped.stdout}{capped.stderr}")
    check(len(sim.ledger()["swaps"]) == before, "swap --dry-run --receive reached the provider")
    con = sqlite3.connect(f"file:{capped_db}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT side, amount, max_spend, state FROM intents "
                           "ORDER BY created_at, id").fetchall()
        spent = con.execute("SELECT spend_filled FROM legs").fetchall()
    finally:
        con.close()
    check(rows == [("receive", "40000", "20", "done"), ("receive", "40000", "5", "failed")],
          f"swap --receive intents: {rows}")
    check(len(spent) == 1 and 0 < float(spent[0][0]) <= 20, f"swap --receive legs: {spent}")
    bad = subprocess.run([binary, "swap", "--simulate", "--from", "USDT", "--to", receive,
                          "--spend", "10", "--max-spend", "20"], capture_output=True, text=True,
                         timeout=60)
    check(bad.returncode == 2 and "--max-spend requires --receive" in bad.stderr,
          f"swap --spend --max-spend: {bad.returncode} {bad.stderr}")


def run_case(binary, work, provider):
    receive, _ = SCENARIOS[provider]
    sim = Simulator(binary, work, provider)
    # The crashes are tested, not the fan-out's speed: a first fan-out that opens its connection
    # on a loaded machine (ASan) may take longer than the 2 s default.
    with open(sim.config, "a") as f:
        f.write("engine:\n  quote_max_age: 30s\n  fanout_deadline: 10s\n")
    journal_refs = set()
    journal_clients = set()
    try:
        if provider == "onek":
            check_modes(binary, work, sim, receive)
        for n, hook in enumerate(HOOKS):
            what = f"{provider} {hook}"
            # A distinct amount per hook: StableStack's lookup matches a swap by its amount.
            amount = str(100 + n)
            db = os.path.join(work, f"{provider}-{hook}.db")
            before = len(provider_refs(sim.ledger(), provider))
            if hook == "after_request_write":
                # The swap is created, its answer never sent: only a crash before the read fires.
                sim.faults({"route": CREATE_ROUTES[provider], "method": "POST", "kind": "drop",
                            "run_handler": True, "remaining": 1})
            crashed = swap(binary, sim.config, db, receive, amount, crash_at=hook)
            sim.faults()
            check(crashed.returncode == 137,
                  f"{what}: the crashing run exited {crashed.returncode}, not at the hook: "
                  f"{crashed.stdout[-1500:]}{crashed.stderr[-1500:]}")
            check_crashed_state(what, hook, sim, provider, db, before)
            again = swap(binary, sim.config, db, receive, amount)
            check(again.returncode == 0,
                  f"{what}: the restarted run exited {again.returncode}: "
                  f"{again.stdout[-2000:]}{again.stderr[-2000:]}")
            integrity, intents, legs, alarms = journal_rows(db)
            check(integrity == "ok", f"{what}: I3 integrity_check says {integrity}")
            check(len(intents) == 2 and all(state == "done" for _, state, _ in intents),
                  f"{what}: both intents done after the restart: {intents}")
            check(all(dry == 0 for _, _, dry in intents), f"{what}: live rows are not dry-run")
            crashed_id = intents[0][0] if intents else ""
            first = [l for l in legs if l[0] == crashed_id and l[2] == 0]
            if hook == "after_intent_commit":
                # Nothing was sent: the leg is cancelled and its amount re-planned and filled.
                check([l[4] for l in first] == ["cancelled"] and not first[0][5],
                      f"{what}: the never-sent leg is cancelled: {first}")
                check(any(l[0] == crashed_id and l[3] == 1 and l[4] == "filled" for l in legs),
                      f"{what}: the never-sent amount is re-planned and filled: {legs}")
            else:
                # The provider had the swap: the restart adopted it, nothing was sent twice.
                check([l[4] for l in first] == ["filled"] and first[0][5],
                      f"{what}: the crashed leg is adopted and filled: {first}")
            for intent_id, client, _, _, phase, ref in legs:
                journal_clients.add(client)
                if ref:
                    journal_refs.add(ref)
                # I5: an unfinished leg must at least be alarmed (here every leg ends).
                check(phase in FINAL or client in alarms,
                      f"{what}: I5 leg {client} {phase} has no tracker or alarm")

        ledger = sim.ledger()
        refs = provider_refs(ledger, provider)
        if provider == "onek":
            ids = collections.Counter(s["custom_id"] for s in ledger["swaps"])
            check(all(c == 1 for c in ids.values()), f"onek: I1 custom_id twice: {ids}")
            check(set(ids) <= journal_clients, f"onek: I1 unknown custom_id {set(ids)}")
        elif provider == "kiiex":
            ids = collections.Counter(o["ClientOrderId"] for o in ledger["orders"])
            check(all(c == 1 for c in ids.values()), f"kiiex: I1 ClientOrderId twice: {ids}")
        else:
            counts = collections.Counter(refs)
            check(all(counts[r] == 1 for r in journal_refs),
                  f"{provider}: I1 a journaled swap is not exactly once at the provider: {counts}")
        check(len(refs) == len(set(refs)), f"{provider}: duplicate swap ids {refs}")
        # Each hook's two runs: two swaps, plus the re-planned one of after_intent_commit's
        # never-sent leg less the one it never sent.
        check(len(refs) == 2 * len(HOOKS), f"{provider}: {len(refs)} swaps at the provider")
        check(set(refs) <= journal_refs,
              f"{provider}: I2 swaps not in any journal: {set(refs) - journal_refs}")
    finally:
        sim.stop()


def main():
    binary = sys.argv[1]
    providers = sys.argv[2:] or list(SCENARIOS)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="crash-restart-") as work:
        for provider in providers:
            t0 = time.monotonic()
            run_case(binary, work, provider)
            print(f"{provider}: {len(HOOKS)} hooks in {time.monotonic() - t0:.1f} s", flush=True)
    print(f"{len(failures)} failed in {time.monotonic() - started:.1f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
