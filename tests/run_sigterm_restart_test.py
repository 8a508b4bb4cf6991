#!/usr/bin/env python3
"""SIGTERM with open legs leaves a journal that a restart completes (issue 8, "Lifecycle").

A separate `swaprouter simulate` serves 001k with 8 s fills, so the providers outlive the bot.
`swaprouter run` (live against it) takes one intent through POST /intents; while its leg is open
at 001k the test sends SIGTERM twice (the second signal leaves at once, as an operator in a hurry
would), so the process exits with the intent unfinished in the journal. A second `swaprouter run`
on the same journal reconciles the open leg before anything new and tracks it to the end. Then:

  - the intent is done and its one leg filled with the amounts 001k reports;
  - 001k holds exactly one swap for the leg's client id (I1), and it is the journaled one (I2);
  - the journal passes PRAGMA integrity_check (I3) and no leg is unfinished (I5).

usage: run_sigterm_restart_test.py SWAPROUTER SOURCE_DIR   (python3, standard library only)
"""
import json
import os
import re
import secrets
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "interop"))
import crash_restart_test as crt  # noqa: E402  (its Simulator, check and journal reader)

SCENARIO = """
seed: 7
volatility: 0
tick_ms: 0
providers:
  onek:
    port: 0
    tls: true
    directions: [USDT-COPM]
    balances: {USDT: "100000", COPM: "100000000"}
    credentials:
      - access_key: sigterm-onek-key
        secret: sigterm-onek-secret-not-real
        permissions: [allow_balance, allow_swap]
    fill_delay_ms: 8000
"""

STRATEGIES = """
engine:
  listen: 127.0.0.1:0
  callbacks: false
strategies:
  never:                       # never fires: the test's intent comes through POST /intents
    kind: threshold
    from: USDT
    to: COPM
    amount: "10"
    rate_at_least: "1000000000"
    cooldown: 1h
    providers: [onek]
    deadline: 30s
"""


def check(ok, what):
    crt.check(ok, what)
    return ok


def request(base, method, path, token, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, res.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def start_bot(binary, strategy_file, db, token, err_path, duration):
    env = dict(os.environ, SWAPROUTER_CONTROL_TOKEN=token)
    env.pop("SWAPROUTER_CRASH_AT", None)
    with open(err_path, "w") as err:
        proc = subprocess.Popen(
            [binary, "run", strategy_file, "--duration", duration, "--drain", "30s", "--db", db,
             "--live-view", "off"],
            stdout=subprocess.PIPE, stderr=err, env=env, text=True)
    for line in proc.stdout:
        m = re.match(r"^listening on (http://127\.0\.0\.1:\d+)$", line.strip())
        if m:
            return proc, m.group(1)
    return proc, None


def open_leg(db):
    """(client, provider_ref) of the journal's leg once it is open at the provider."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = con.execute("SELECT client, phase, provider_ref FROM legs ORDER BY id").fetchone()
    finally:
        con.close()
    return (row[0], row[2]) if row and row[1] == "open" and row[2] else None


def wait_until(what, predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except sqlite3.OperationalError:  # the journal not created yet
            value = None
        if value:
            return value
        time.sleep(0.1)
    crt.check(False, "timed out waiting for " + what)
    return None


def tail(path, n=40):
    with open(path) as f:
        return "\n".join(f.read().splitlines()[-n:])


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="swaprouter-sigterm-")
    crt.SCENARIOS["onek"] = ("COPM", SCENARIO)  # this process's copy: slow fills
    sim = crt.Simulator(binary, work, "onek")
    token = "sigterm-test-" + secrets.token_hex(16)
    db = os.path.join(work, "journal.db")
    first_err = os.path.join(work, "run1.err")
    second_err = os.path.join(work, "run2.err")
    try:
        with open(sim.config) as f:
            providers = f.read()
        strategy_file = os.path.join(work, "bot.yaml")
        with open(strategy_file, "w") as f:
            f.write(providers + STRATEGIES)

        # 1. An intent whose leg is open at 001k, then SIGTERM twice: out at once.
        proc, base = start_bot(binary, strategy_file, db, token, first_err, "120s")
        if not check(base is not None, "first run printed no 'listening on URL' line"):
            proc.kill()
            return
        status, text = request(base, "POST", "/intents", token,
                               {"from": "USDT", "to": "COPM", "spend": "10", "deadline": "120s",
                                "providers": ["onek"]})
        if not check(status == 202, f"intent: {status} {text}"):
            proc.kill()
            return
        leg = wait_until("the leg open at 001k", lambda: open_leg(db), 30)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
        crt.check(proc.returncode == 1, f"first run exited {proc.returncode}, not 1 (second signal)")
        if leg is None:
            return
        client, ref = leg
        _, intents, legs, _ = crt.journal_rows(db)
        crt.check([state for _, state, _ in intents] != ["done"],
                  f"the intent ended before the signals: {intents}")
        swap = next((s for s in sim.ledger()["swaps"] if s["custom_id"] == client), None)
        crt.check(swap is not None and swap["status"] == "open",
                  f"001k's swap is still open when the bot is gone: {swap}")

        # 2. Restart on the same journal: the open leg is reconciled and tracked to the end.
        proc, base = start_bot(binary, strategy_file, db, token, second_err, "15s")
        proc.communicate(timeout=90)
        crt.check(proc.returncode == 0, f"second run exited {proc.returncode}")
        integrity, intents, legs, alarms = crt.journal_rows(db)
        crt.check(integrity == "ok", f"I3: integrity_check {integrity}")
        crt.check([state for _, state, _ in intents] == ["done"], f"intent not done: {intents}")
        crt.check([(l[1], l[4], l[5]) for l in legs] == [(client, "filled", ref)],
                  f"the one leg filled with its provider reference: {legs}")
        swaps = [s for s in sim.ledger()["swaps"] if s["custom_id"] == client]
        crt.check(len(swaps) == 1, f"I1: {len(swaps)} swaps for client id {client}")
        crt.check(len(sim.ledger()["swaps"]) == 1, "I2: 001k holds a swap the journal lacks")
        if swaps:
            crt.check(swaps[0]["code"] == ref and swaps[0]["status"] == "success",
                      f"001k's swap: {swaps[0]}")
        crt.check(not alarms, f"alarms raised: {alarms}")
        out = subprocess.run([binary, "journal", "--db", db, "--json"], capture_output=True,
                             text=True, timeout=30)
        crt.check(out.returncode == 0, f"journal: {out.returncode} {out.stderr}")
    finally:
        sim.stop()
        if crt.failures:
            for path in (first_err, second_err):
                if os.path.exists(path):
                    print(f"--- {os.path.basename(path)} (last 40 lines)\n{tail(path)}")
    if crt.failures:
        print(f"{len(crt.failures)} checks failed")
        sys.exit(1)
    print("ok: SIGTERM twice with an open leg, restart completed it")


if __name__ == "__main__":
    main()
