"""What the bot's process tests share (python3, standard library only): a separate `swaprouter
simulate` serving 001k with slow fills (so legs stay open a while and the providers outlive the
bot), a strategy file whose only strategy never fires (the tests send intents through
POST /intents), the control API client, and starting `swaprouter run` until it prints its
listener's URL. Checks are recorded in crash_restart_test's failure list."""
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "interop"))
import crash_restart_test as crt  # noqa: E402  (its Simulator, check and journal reader)


def slow_onek_scenario(seed, key, fill_delay_ms):
    """A scenario with 001k alone, still prices and fills after `fill_delay_ms`."""
    return f"""
seed: {seed}
volatility: 0
tick_ms: 0
providers:
  onek:
    port: 0
    tls: true
    directions: [USDT-COPM]
    balances: {{USDT: "100000", COPM: "100000000"}}
    credentials:
      - access_key: {key}-onek-key
        secret: {key}-onek-secret-not-real
        permissions: [allow_balance, allow_swap]
    fill_delay_ms: {fill_delay_ms}
"""


def never_firing_strategies(engine_lines):
    """engine: (listen on a free port plus `engine_lines`) and one strategy that never fires."""
    engine = "".join(f"  {line}\n" for line in ["listen: 127.0.0.1:0", *engine_lines])
    return f"""
engine:
{engine}strategies:
  never:                       # never fires: the test's intents come through POST /intents
    kind: threshold
    from: USDT
    to: COPM
    amount: "10"
    rate_at_least: "1000000000"
    cooldown: 1h
    providers: [onek]
    deadline: 30s
"""


def start_onek(binary, work, seed, key, fill_delay_ms):
    """A running `swaprouter simulate` of slow_onek_scenario (crash_restart_test.Simulator)."""
    crt.SCENARIOS["onek"] = ("COPM", slow_onek_scenario(seed, key, fill_delay_ms))
    return crt.Simulator(binary, work, "onek")


def write_strategy_file(work, sim, engine_lines):
    """The simulator's provider configuration plus never_firing_strategies; returns its path."""
    with open(sim.config) as f:
        providers = f.read()
    path = os.path.join(work, "bot.yaml")
    with open(path, "w") as f:
        f.write(providers + never_firing_strategies(engine_lines))
    return path


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


def start_bot(binary, strategy_file, token, err_path, args):
    """`swaprouter run strategy_file *args` with the control token; (process, listener URL), the
    URL None when the process ended without printing it."""
    env = dict(os.environ, SWAPROUTER_CONTROL_TOKEN=token)
    env.pop("SWAPROUTER_CRASH_AT", None)
    with open(err_path, "w") as err:
        proc = subprocess.Popen([binary, "run", strategy_file, *args], stdout=subprocess.PIPE,
                                stderr=err, env=env, text=True)
    for line in proc.stdout:
        m = re.match(r"^listening on (http://127\.0\.0\.1:\d+)$", line.strip())
        if m:
            return proc, m.group(1)
    return proc, None


def wait_until(what, predicate, timeout, retry_on=()):
    """predicate()'s first true value within `timeout` seconds; a failed check otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except retry_on:
            value = None
        if value:
            return value
        time.sleep(0.1)
    check(False, "timed out waiting for " + what)
    return None


def log_lines(path):
    with open(path) as f:
        return f.read().splitlines()
