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
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bot_session import (check, crt, log_lines, request, start_bot, start_onek,  # noqa: E402
                         wait_until, write_strategy_file)


def open_leg(db):
    """(client, provider_ref) of the journal's leg once it is open at the provider."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = con.execute("SELECT client, phase, provider_ref FROM legs ORDER BY id").fetchone()
    finally:
        con.close()
    return (row[0], row[2]) if row and row[1] == "open" and row[2] else None


def tail(path, n=40):
    return "\n".join(log_lines(path)[-n:])


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="swaprouter-sigterm-")
    sim = start_onek(binary, work, seed=7, key="sigterm", fill_delay_ms=8000)
    token = "sigterm-test-" + secrets.token_hex(16)
    db = os.path.join(work, "journal.db")
    first_err = os.path.join(work, "run1.err")
    second_err = os.path.join(work, "run2.err")
    try:
        strategy_file = write_strategy_file(work, sim, ["callbacks: false"])

        # 1. An intent whose leg is open at 001k, then SIGTERM twice: out at once.
        proc, base = start_bot(binary, strategy_file, token, first_err,
                               ["--duration", "120s", "--drain", "30s", "--db", db,
                                "--live-view", "off"])
        if not check(base is not None, "first run printed no 'listening on URL' line"):
            proc.kill()
            return
        status, text = request(base, "POST", "/intents", token,
                               {"from": "USDT", "to": "COPM", "spend": "10", "deadline": "120s",
                                "providers": ["onek"]})
        if not check(status == 202, f"intent: {status} {text}"):
            proc.kill()
            return
        leg = wait_until("the leg open at 001k", lambda: open_leg(db), 30,
                         retry_on=sqlite3.OperationalError)  # no journal yet
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
        proc, base = start_bot(binary, strategy_file, token, second_err,
                               ["--duration", "15s", "--drain", "30s", "--db", db,
                                "--live-view", "off"])
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
