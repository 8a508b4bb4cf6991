#!/usr/bin/env python3
"""Provider callbacks into `swaprouter run` (issue 7): a separate `swaprouter simulate` serves
001k with slow fills; the bot runs live against it with engine.callbacks on and an allow-list of
127.0.0.1, so its swaps carry callback_url = its listener's /callbacks/onek. While the test's
leg is open:

  - a forged callback (the real swap object claiming success with another amount) from an
    address outside the allow-list is refused and logged as a security event;
  - the same forged body three times from 127.0.0.1 is one hint (one "callback claims" event):
    the re-fetch says open, so the leg stays open;
then the emulator's own callback arrives (its ledger records it as delivered) and the leg ends
filled with the emulator's amounts, never the forged ones.

usage: run_callbacks_test.py SWAPROUTER SOURCE_DIR   (python3, standard library only)
"""
import http.client
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "interop"))
import crash_restart_test as crt  # noqa: E402  (its Simulator and check)

SCENARIO = """
seed: 5
volatility: 0
tick_ms: 0
providers:
  onek:
    port: 0
    tls: true
    directions: [USDT-COPM]
    balances: {USDT: "100000", COPM: "100000000"}
    credentials:
      - access_key: callback-onek-key
        secret: callback-onek-secret-not-real
        permissions: [allow_balance, allow_swap]
    fill_delay_ms: 6000
"""

STRATEGIES = """
engine:
  listen: 127.0.0.1:0
  callbacks: true
  callback_allow: ["127.0.0.1"]
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


def request(base, method, path, token=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, res.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def post_callback(base, body, source):
    """POSTs a callback from loopback address `source` (127.0.0.2 is loopback but not allowed)."""
    host, port = base.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10, source_address=(source, 0))
    try:
        conn.request("POST", "/callbacks/onek", body=body,
                     headers={"Content-Type": "application/json"})
        res = conn.getresponse()
        return res.status, res.read().decode()
    finally:
        conn.close()


def wait_until(what, predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    check(False, "timed out waiting for " + what)
    return None


def log_lines(path):
    with open(path) as f:
        return f.read().splitlines()


def main():
    binary, _source = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix="swaprouter-callbacks-")
    crt.SCENARIOS["onek"] = ("COPM", SCENARIO)  # this process's copy: slow fills
    sim = crt.Simulator(binary, work, "onek")
    token = "cb-test-" + secrets.token_hex(16)
    err_path = os.path.join(work, "run.err")
    proc = None
    try:
        with open(sim.config) as f:
            providers = f.read()
        strategy_file = os.path.join(work, "bot.yaml")
        with open(strategy_file, "w") as f:
            f.write(providers + STRATEGIES)
        env = dict(os.environ, SWAPROUTER_CONTROL_TOKEN=token)
        with open(err_path, "w") as err:
            proc = subprocess.Popen(
                [binary, "run", strategy_file, "--duration", "40s", "--drain", "20s", "--db",
                 os.path.join(work, "journal.db"), "--log-format", "json", "--live-view", "off"],
                stdout=subprocess.PIPE, stderr=err, env=env, text=True)
        base = None
        for line in proc.stdout:
            m = re.match(r"^listening on (http://127\.0\.0\.1:\d+)$", line.strip())
            if m:
                base = m.group(1)
                break
        if not check(base is not None, "no 'listening on URL' line"):
            return
        run_checks(base, token, sim, err_path)
        proc.send_signal(2)  # SIGINT: stop and drain (the leg is final by now)
    finally:
        if proc is not None:
            try:
                proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
            check(proc.returncode == 0, f"run exited {proc.returncode}")
        sim.stop()
        if crt.failures:
            print("--- run stderr (last 40 lines)\n" + "\n".join(log_lines(err_path)[-40:]))


def run_checks(base, token, sim, err_path):
    status, text = request(base, "POST", "/intents", token,
                           {"from": "USDT", "to": "COPM", "spend": "10", "deadline": "60s",
                            "providers": ["onek"]})
    if not check(status == 202, f"intent: {status} {text}"):
        return
    intent_id = json.loads(text)["id"]

    def intent():
        return json.loads(request(base, "GET", "/intents/" + intent_id, token)[1])

    def open_leg():
        legs = intent().get("legs", [])
        return legs[0] if legs and legs[0]["state"] == "open" and legs[0]["provider_ref"] else None

    leg = wait_until("the leg open at 001k", open_leg)
    if leg is None:
        return
    swap = next((s for s in sim.ledger()["swaps"] if s["custom_id"] == leg["id"]), None)
    if not check(swap is not None, f"no swap {leg['id']} in the emulator's ledger"):
        return
    check(swap["callback_url"] == base + "/callbacks/onek", f"callback_url {swap['callback_url']}")
    forged = {k: v for k, v in swap.items()
              if k not in ("opened_by", "spend_frozen", "status_history", "callbacks")}
    forged["status"] = "success"
    forged["receive_filled"] = "999999.99"
    forged_body = json.dumps(forged)

    # Outside the allow-list: refused unread, a security event.
    check(post_callback(base, forged_body, "127.0.0.2")[0] == 200, "callback answer")
    # Allowed address, three times: one hint, one re-fetch; the provider says open.
    for _ in range(3):
        check(post_callback(base, forged_body, "127.0.0.1")[0] == 200, "callback answer")
    check(wait_until("the security event", lambda: any(
        "security" in l and "not_allowed" in l and "127.0.0.2" in l for l in log_lines(err_path))),
        "no security event for the refused address")
    time.sleep(1.0)  # the hint's re-fetch has answered "open" by now (fills take 6 s)
    now = intent()["legs"][0]
    check(now["state"] == "open" and now["receive_filled"] != "999999.99",
          f"the forged callback changed the leg: {now}")
    claims = [l for l in log_lines(err_path) if "callback claims success" in l and leg["id"] in l]
    check(len(claims) == 1, f"{len(claims)} hints for 3 identical callbacks: {claims}")

    done = wait_until("the intent done", lambda: (lambda j: j if j["state"] == "done" else None)(
        intent()), timeout=30)
    if done is None:
        return
    final = done["legs"][0]
    swap = next(s for s in sim.ledger()["swaps"] if s["custom_id"] == leg["id"])
    check(final["state"] == "filled" and swap["status"] == "success", f"final {final} {swap['status']}")
    check(final["receive_filled"] != "999999.99", f"forged amount applied: {final}")
    check(any(c["status"] == "success" for c in swap["callbacks"]),
          f"the emulator did not call back: {swap['callbacks']}")
    # The emulator's real success claim differs from the forged one: a second hint.
    claims = [l for l in log_lines(err_path) if "callback claims success" in l and leg["id"] in l]
    check(len(claims) == 2, f"{len(claims)} success hints in all: {claims}")


if __name__ == "__main__":
    main()
    if crt.failures:
        print(f"{len(crt.failures)} failure(s)")
        sys.exit(1)
    print("ok")
