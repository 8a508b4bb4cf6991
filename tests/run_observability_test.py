#!/usr/bin/env python3
"""`swaprouter run` with its listener: /metrics parses as Prometheus text and has every family of
issue 8, /status shows the mode, the providers and the risk state, POST /halt and /resume need the
bearer token and show in /status and the metrics, POST /intents executes a swap through risk and
GET /intents/{id} follows it, and with --log-format json every standard-error line is one JSON
object. The token never appears in any output. Standard library only.

usage: run_observability_test.py SWAPROUTER SOURCE_DIR
"""
from decimal import Decimal
import json
import math
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

DURATION_S = 45

# Every family issue 8 lists, with its type.
FAMILIES = {
    "swaprouter_quote_latency_seconds": "histogram",
    "swaprouter_quote_age_seconds": "gauge",
    "swaprouter_best_net_rate": "gauge",
    "swaprouter_provider_spread_ratio": "gauge",
    "swaprouter_swaps_total": "counter",
    "swaprouter_filled_amount": "gauge",
    "swaprouter_fees_paid": "gauge",
    "swaprouter_unknown_outcomes_total": "counter",
    "swaprouter_rate_limited_total": "counter",
    "swaprouter_circuit_state": "gauge",
    "swaprouter_clock_offset_seconds": "gauge",
    "swaprouter_journal_size_bytes": "gauge",
    "swaprouter_halted": "gauge",
    "swaprouter_halt_signal": "gauge",
    "process_resident_memory_bytes": "gauge",
    "process_uptime_seconds": "gauge",
    # The quote book (issue 6): declared from the start, samples once the poller has run.
    "swaprouter_quote_book_age_seconds": "gauge",
    "swaprouter_quote_book_latency_seconds": "gauge",
    "swaprouter_quote_book_failures_total": "counter",
}
PROVIDERS = {"onek", "kiiex", "stablestack", "oxapay"}

failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL:", what)
    return condition


# --- a strict reader of the Prometheus text format 0.0.4 -------------------------------------

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(
    r"^(?P<name>" + NAME + r")(?:\{(?P<labels>(?:" + LABEL + r")(?:," + LABEL + r")*)?\})?"
    r" (?P<value>\S+)(?: -?\d+)?$")


def parse_labels(text):
    out = {}
    for m in re.finditer(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"', text or ""):
        out[m.group(1)] = m.group(2).replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
    return out


def parse_value(text):
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text):
        raise ValueError("bad value " + text)
    return float(text)


def parse_exposition(text):
    """Returns {family: {"type", "help", "samples": [(name, labels, value)]}}; raises on errors."""
    if not text.endswith("\n"):
        raise ValueError("the exposition must end with a line feed")
    families = {}
    current = None
    for number, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            families.setdefault(name, {"type": None, "help": None, "samples": []})
            families[name]["help"] = line.split(" ", 3)[3] if line.count(" ") >= 3 else ""
            continue
        if line.startswith("# TYPE "):
            parts = line.split(" ")
            if len(parts) != 4 or parts[3] not in ("counter", "gauge", "histogram", "summary",
                                                   "untyped"):
                raise ValueError(f"line {number}: bad TYPE line")
            fam = families.setdefault(parts[2], {"type": None, "help": None, "samples": []})
            if fam["type"] is not None or fam["samples"]:
                raise ValueError(f"line {number}: TYPE after samples or twice")
            fam["type"] = parts[3]
            current = parts[2]
            continue
        if line.startswith("#") or line == "":
            continue
        m = SAMPLE.match(line)
        if not m:
            raise ValueError(f"line {number}: not a sample: {line!r}")
        name = m.group("name")
        family = name
        if current is not None and families[current]["type"] == "histogram":
            for suffix in ("_bucket", "_sum", "_count"):
                if name == current + suffix:
                    family = current
        if family != current:
            raise ValueError(f"line {number}: sample {name} outside its family's block")
        labels = parse_labels(m.group("labels"))
        families[family]["samples"].append((name, labels, parse_value(m.group("value"))))
    for name, fam in families.items():
        if fam["type"] == "histogram":
            check_histogram(name, fam["samples"])
    return families


def check_histogram(name, samples):
    series = {}
    for sample_name, labels, value in samples:
        key = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        entry = series.setdefault(key, {"buckets": [], "count": None, "sum": None})
        if sample_name.endswith("_bucket"):
            entry["buckets"].append((parse_value(labels["le"]), value))
        elif sample_name.endswith("_count"):
            entry["count"] = value
        else:
            entry["sum"] = value
    for key, entry in series.items():
        bounds = [b for b, _ in entry["buckets"]]
        counts = [c for _, c in entry["buckets"]]
        if bounds != sorted(bounds) or not bounds or not math.isinf(bounds[-1]):
            raise ValueError(f"{name}{key}: buckets out of order or without +Inf")
        if counts != sorted(counts) or counts[-1] != entry["count"]:
            raise ValueError(f"{name}{key}: buckets not cumulative or +Inf != count")


# --- HTTP ------------------------------------------------------------------------------------

def request(base, method, path, token=None, body=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(base + path, data=data, method=method)
    if token is not None:
        req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, res.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def get_json(base, path, token=None):
    status, text = request(base, "GET", path, token)
    check(status == 200, f"GET {path}: status {status}")
    return json.loads(text)


def metrics(base):
    status, text = request(base, "GET", "/metrics")
    check(status == 200, f"GET /metrics: status {status}")
    return parse_exposition(text)


def samples(families, family, name=None, **labels):
    out = []
    for sample_name, sample_labels, value in families.get(family, {}).get("samples", []):
        if name is not None and sample_name != name:
            continue
        if all(sample_labels.get(k) == v for k, v in labels.items()):
            out.append((sample_labels, value))
    return out


def wait_until(what, predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    check(False, "timed out waiting for " + what)
    return None


def main():
    binary, source = sys.argv[1], sys.argv[2]
    token = "obs-test-" + secrets.token_hex(16)
    work = tempfile.mkdtemp(prefix="swaprouter-obs-")
    env = dict(os.environ, SWAPROUTER_CONTROL_TOKEN=token)
    # A listener off loopback is a usage error before anything starts: no journal, no emulators.
    refused_db = os.path.join(work, "refused.db")
    refused = subprocess.run(
        [binary, "run", os.path.join(source, "config/demo.yaml"), "--simulate", "--duration", "1s",
         "--listen", "10.0.0.1:80", "--db", refused_db], capture_output=True, env=env, timeout=30)
    check(refused.returncode == 2, f"--listen 10.0.0.1:80 exits {refused.returncode}, not 2")
    check(b"loopback only" in refused.stderr, "--listen 10.0.0.1:80 does not say loopback only")
    check(not os.path.exists(refused_db), "--listen 10.0.0.1:80 opened the journal first")
    check(b"provider " not in refused.stdout + refused.stderr,
          "--listen 10.0.0.1:80 started the providers first")
    err_path = os.path.join(work, "stderr")
    with open(err_path, "wb") as err:
        proc = subprocess.Popen(
            [binary, "run", os.path.join(source, "config/demo.yaml"), "--simulate", "--duration",
             f"{DURATION_S}s", "--drain", "15s", "--listen", "127.0.0.1:0", "--db",
             os.path.join(work, "journal.db"), "--log-format", "json"],
            stdout=subprocess.PIPE, stderr=err, env=env)
    out_lines = []
    base = None
    try:
        for raw in proc.stdout:
            line = raw.decode()
            out_lines.append(line)
            m = re.match(r"^listening on (http://127\.0\.0\.1:\d+)$", line.strip())
            if m:
                base = m.group(1)
                break
        if not check(base is not None, "no 'listening on URL' line"):
            return
        check(any("mode simulate" in l for l in out_lines), "the mode is not printed at start")
        run_checks(base, token)
    finally:
        rest, _ = proc.communicate(timeout=DURATION_S + 40)
        out_lines.extend(rest.decode().splitlines(True))
        if proc.returncode is None:
            proc.kill()
    stdout = "".join(out_lines)
    check(proc.returncode == 0, f"exit code {proc.returncode}")
    check("summary (simulate mode" in stdout, "no summary on standard output")
    with open(err_path, "rb") as f:
        stderr = f.read().decode()
    check_json_log(stderr)
    check_log_lines_single(stderr)
    check(token not in stdout and token not in stderr, "the control token appears in the output")
    if failures:
        print("--- stdout\n" + stdout)
        print("--- stderr (last 30 lines)\n" + "\n".join(stderr.splitlines()[-30:]))


def run_checks(base, token):
    # Metrics: every family, well formed, with samples once quotes and fills have happened.
    fams = wait_until(
        "a filled swap in the metrics",
        lambda: (lambda f: f if samples(f, "swaprouter_swaps_total", state="filled") else None)(
            metrics(base)))
    if fams is None:
        return
    for name, kind in FAMILIES.items():
        if check(name in fams, f"family {name} missing"):
            check(fams[name]["type"] == kind, f"{name}: type {fams[name]['type']}, want {kind}")
    count = samples(fams, "swaprouter_quote_latency_seconds", "swaprouter_quote_latency_seconds_count")
    check({l["provider"] for l, _ in count} == PROVIDERS, "quote latency per provider")
    check(sum(v for _, v in count) > 0, "no quote latency observed")
    check(samples(fams, "swaprouter_quote_age_seconds", pair="USDT/COPM"), "no USDT/COPM quote age")
    best = samples(fams, "swaprouter_best_net_rate", pair="USDT/COPM")
    check(best and best[0][1] > 1000, f"best net rate USDT/COPM {best}")
    check(samples(fams, "swaprouter_provider_spread_ratio", pair="USDT/COPM"), "no USDT/COPM spread")
    for provider in PROVIDERS:
        states = samples(fams, "swaprouter_circuit_state", provider=provider)
        check(sorted(l["state"] for l, _ in states) == ["closed", "half_open", "open"],
              f"{provider}: circuit states {states}")
        check(samples(fams, "swaprouter_circuit_state", provider=provider, state="closed")[0][1] == 1,
              f"{provider}: circuit not closed")
        check(samples(fams, "swaprouter_rate_limited_total", provider=provider) == [({"provider": provider}, 0.0)],
              f"{provider}: 429 counter")
        check(samples(fams, "swaprouter_unknown_outcomes_total", provider=provider) == [({"provider": provider}, 0.0)],
              f"{provider}: unknown outcomes counter")
    check(samples(fams, "swaprouter_filled_amount"), "no filled amount")
    check(samples(fams, "swaprouter_journal_size_bytes")[0][1] > 0, "journal size")
    check(samples(fams, "swaprouter_halted")[0][1] == 0, "halted at start")
    check(samples(fams, "process_resident_memory_bytes")[0][1] > 1e6, "process RSS")
    check(samples(fams, "process_uptime_seconds")[0][1] > 0, "process uptime")

    # Status.
    status = get_json(base, "/status")
    check(status["mode"] == "simulate", f"status mode {status.get('mode')}")
    check({p["name"] for p in status["providers"]} == PROVIDERS, "status providers")
    for p in status["providers"]:
        check(p["health"] in ("ok", "degraded", "down") and p["circuit"] == "closed", f"provider {p}")
        check(p["last_quote"] is not None and p["latency_p50_seconds"] is not None
              and p["latency_p99_seconds"] >= p["latency_p50_seconds"], f"provider latency {p}")
    check(status["risk"]["halted"] is False and status["risk"]["halt_reason"] is None, "risk at start")
    check(any(l["name"] == "max_per_day USDT" for l in status["risk"]["limits"]), "risk limits")
    check(len(status["last_decisions"]) > 0, "no decisions in status")
    for key in ("open_intents", "open_legs", "balances", "started_at"):
        check(key in status, f"status has no {key}")

    # The control API needs the token.
    check(request(base, "POST", "/halt")[0] == 401, "halt without token")
    check(request(base, "POST", "/halt", token="wrong-" + token)[0] == 401, "halt with a wrong token")
    check(request(base, "POST", "/intents", body={"from": "USDT", "to": "COPM", "spend": "1"})[0] == 401,
          "intents without token")
    status_code, text = request(base, "POST", "/halt", token, {"reason": "integration test"})
    check(status_code == 200 and json.loads(text)["halted"] is True, f"halt: {status_code} {text}")
    risk = get_json(base, "/status")["risk"]
    check(risk["halted"] is True and risk["halt_reason"] == "integration test"
          and risk["halt_signal"] == "operator" and risk["halted_at"], f"risk after halt {risk}")
    fams = metrics(base)
    check(samples(fams, "swaprouter_halted")[0][1] == 1, "swaprouter_halted after halt")
    check(samples(fams, "swaprouter_halt_signal", signal="operator")[0][1] == 1, "halt signal gauge")

    # An intent while halted goes through risk and is refused.
    status_code, text = request(base, "POST", "/intents", token,
                                {"from": "USDT", "to": "COPM", "spend": "10"})
    check(status_code == 202, f"intent while halted: {status_code} {text}")
    refused_id = json.loads(text).get("id", "") if status_code == 202 else ""
    refused = wait_until("the halted intent refused", lambda: (lambda j: j if j["state"] == "refused" else None)(
        get_json(base, "/intents/" + refused_id, token)))
    if refused:
        check("halted: integration test" in refused["detail"], f"refusal detail {refused}")

    status_code, text = request(base, "POST", "/resume", token)
    check(status_code == 200 and json.loads(text)["halted"] is False, f"resume: {status_code} {text}")
    risk = get_json(base, "/status")["risk"]
    check(risk["halted"] is False and risk["halt_reason"] is None, f"risk after resume {risk}")
    check(samples(metrics(base), "swaprouter_halted")[0][1] == 0, "swaprouter_halted after resume")

    # An intent from outside runs like a strategy's and is followed to its end.
    bad = request(base, "POST", "/intents", token, {"from": "USDT", "to": "COPM", "spend": "-1"})
    check(bad[0] == 400, f"negative spend: {bad}")
    bad = request(base, "POST", "/intents", token, {"from": "USDT", "to": "COPM", "spend": "1", "x": 1})
    check(bad[0] == 400 and "unknown field" in bad[1], f"unknown field: {bad}")
    bad = request(base, "POST", "/intents", token, b"{not json")
    check(bad[0] == 400, f"bad JSON: {bad}")
    status_code, text = request(base, "POST", "/intents", token,
                                {"from": "USDT", "to": "COPM", "spend": "10", "deadline": "30s",
                                 "providers": ["onek", "kiiex"]})
    check(status_code == 202, f"intent: {status_code} {text}")
    intent_id = json.loads(text).get("id", "") if status_code == 202 else ""
    check(request(base, "GET", "/intents/" + intent_id)[0] == 401, "GET /intents/{id} without token")
    check(request(base, "GET", "/intents/no-such-intent", token)[0] == 404, "unknown intent id")
    done = wait_until("the submitted intent done", lambda: (lambda j: j if j["state"] == "done" else None)(
        get_json(base, "/intents/" + intent_id, token)))
    if done:
        check(done["source"] == "http" and done["amount"] == "10" and done["spend_asset"] == "USDT",
              f"intent {done}")
        check(done["legs"] and all(l["state"] == "filled" and l["provider"] in ("onek", "kiiex")
                                   for l in done["legs"]), f"legs {done['legs']}")

    # An intent to receive exactly 40000 COPM: planned for the least USDT that nets it, and the
    # legs into COPM deliver at least that (their receive_filled is the net).
    bad = request(base, "POST", "/intents", token,
                  {"from": "USDT", "to": "COPM", "spend": "10", "receive": "40000"})
    check(bad[0] == 400 and "either spend or receive" in bad[1], f"spend and receive: {bad}")
    bad = request(base, "POST", "/intents", token, {"from": "USDT", "to": "COPM", "receive": "0"})
    check(bad[0] == 400 and "receive must be a positive" in bad[1], f"receive 0: {bad}")
    bad = request(base, "POST", "/intents", token,
                  {"from": "USDT", "to": "COPM", "spend": "10", "max_spend": "20"})
    check(bad[0] == 400 and "max_spend goes with receive" in bad[1], f"spend with max_spend: {bad}")
    bad = request(base, "POST", "/intents", token,
                  {"from": "USDT", "to": "COPM", "receive": "40000", "max_spend": "0"})
    check(bad[0] == 400 and "max_spend must be a positive" in bad[1], f"max_spend 0: {bad}")
    status_code, text = request(base, "POST", "/intents", token,
                                {"from": "USDT", "to": "COPM", "receive": "40000",
                                 "max_spend": "20", "providers": ["onek", "kiiex"]})
    check(status_code == 202, f"exact-receive intent: {status_code} {text}")
    receive_id = json.loads(text).get("id", "") if status_code == 202 else ""
    done = wait_until("the exact-receive intent done", lambda: (lambda j: j if j["state"] == "done" else None)(
        get_json(base, "/intents/" + receive_id, token)))
    if done:
        check(done["side"] == "receive" and done["amount"] == "40000" and done["spend_asset"] == "USDT"
              and done.get("max_spend") == "20" and done["detail"].startswith("done: "),
              f"exact-receive intent {done}")
        legs = done["legs"]
        check(legs and all(l["state"] == "filled" and l["side"] == "spend" for l in legs), f"legs {legs}")
        delivered = sum(Decimal(l["receive_filled"]) for l in legs if l["receive_asset"] == "COPM")
        check(delivered >= 40000, f"exact-receive delivered {delivered} COPM: {legs}")
        spent = sum(Decimal(l["spend_filled"]) for l in legs if l["spend_asset"] == "USDT")
        check(0 < spent <= 20, f"exact-receive spent {spent} USDT, at most 20: {legs}")

    # A deadline whose milliseconds overflow 64 bits (307445734561826m wraps to 8.4 s) is 400, not
    # an 8-second intent, nor a crash of the bot (UBSan: signed overflow in the conversion).
    bad = request(base, "POST", "/intents", token,
                  {"from": "USDT", "to": "COPM", "spend": "1", "deadline": "307445734561826m"})
    check(bad[0] == 400 and "deadline" in bad[1], f"overflowing deadline: {bad}")
    check(request(base, "GET", "/status")[0] == 200, "the bot answers after an overflowing deadline")

    # A halt reason with a line feed: the log lines that show it escape it (check_log_lines_single).
    status_code, text = request(base, "POST", "/halt", token, {"reason": FORGED_REASON})
    check(status_code == 200, f"halt with a line feed: {status_code} {text}")
    check(request(base, "POST", "/resume", token)[0] == 200, "resume after it")


def check_json_log(stderr):
    lines = stderr.splitlines()
    check(len(lines) > 10, "too few log lines")
    ids = False
    for line in lines:
        try:
            obj = json.loads(line)
        except ValueError:
            check(False, f"log line is not JSON: {line!r}")
            return
        if not check(isinstance(obj, dict) and {"time", "level", "event", "message"} <= obj.keys(),
                     f"log line fields: {line!r}"):
            return
        if obj["event"] == "phase" and "leg" in obj and "intent" in obj:
            check(obj["leg"].startswith(obj["intent"] + "-L"), f"leg and intent ids: {line!r}")
            ids = True
    check(ids, "no log line with intent and leg ids")
    check(any('"event":"halt"' in l and "integration test" in l for l in lines), "no halt log line")


# A line feed in a halt reason went into the human log as is: "halt: ok" then a forged line.
# In JSON lines the message keeps it; a message must be one line in either format.
FORGED_REASON = "ok\n2026-11-21T09:24:53.573 info  forged line"


def check_log_lines_single(stderr):
    for line in stderr.splitlines():
        try:
            message = json.loads(line).get("message", "")
        except ValueError:
            continue  # check_json_log reports it
        check("\n" not in message, f"a log message spans two lines: {line!r}")


if __name__ == "__main__":
    main()
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("ok")
