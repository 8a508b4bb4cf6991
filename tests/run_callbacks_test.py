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
import secrets
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bot_session import (check, crt, log_lines, request, start_bot, start_onek,  # noqa: E402
                         wait_until, write_strategy_file)


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


def main():
    binary, _source = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix="swaprouter-callbacks-")
    sim = start_onek(binary, work, seed=5, key="callback", fill_delay_ms=6000)
    token = "cb-test-" + secrets.token_hex(16)
    err_path = os.path.join(work, "run.err")
    proc = None
    try:
        strategy_file = write_strategy_file(
            work, sim, ["callbacks: true", 'callback_allow: ["127.0.0.1"]'])
        proc, base = start_bot(binary, strategy_file, token, err_path,
                               ["--duration", "40s", "--drain", "20s", "--db",
                                os.path.join(work, "journal.db"), "--log-format", "json",
                                "--live-view", "off"])
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

    leg = wait_until("the leg open at 001k", open_leg, 20)
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
        "security" in l and "not_allowed" in l and "127.0.0.2" in l for l in log_lines(err_path)),
        20),
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
