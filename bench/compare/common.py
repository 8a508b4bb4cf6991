"""What the reference clients of bench/compare share: the run's settings, the pick of the best
quote and the report line. Each client computes the same fan-out as `swaprouter bench quotes`:
one quote from each of the four providers, then the best net receive.

providers.json (written by run.sh from `swaprouter simulate`'s output and bench/scenario.yaml):
  {"ca": "...", "count": N, "duration_s": S, "from": "USDT", "to": "USDC", "amount": "1000",
   "onek": {"base_url", "access_key", "secret"}, "kiiex": {"base_url", "api_key", "secret",
   "user_id"}, "stablestack": {"base_url", "api_key"}, "oxapay": {"base_url", "api_key"}}
"""

import json
import os
import resource
import sys
import time


def load_settings(path):
    with open(path) as f:
        return json.load(f)


def onek_receive(directions, spend_asset, receive_asset, amount):
    """001k rate table row: spend_rate_value buys receive_rate_value gross; fee out of it."""
    for d in directions:
        if d["spend_currency"] == spend_asset and d["receive_currency"] == receive_asset:
            gross = amount * float(d["receive_rate_value"]) / float(d["spend_rate_value"])
            return gross * (1 - float(d["fee_percent"]) / 100)
    return None


def kiiex_receive(l2_rows, amount, fee_percent):
    """Sells `amount` of the base into the bids (side 0) of a GetL2Snapshot, best price first."""
    bids = sorted(((float(r[6]), float(r[8])) for r in l2_rows if r[9] == 0 and r[3] != 2),
                  reverse=True)
    left, got = amount, 0.0
    for price, quantity in bids:
        take = min(left, quantity)
        got += take * price
        left -= take
        if left <= 0:
            break
    return got * (1 - fee_percent / 100) if left <= 0 else None


def best(quotes):
    """The provider with the highest net receive among those that answered."""
    answered = [(v, k) for k, v in quotes.items() if v is not None]
    if not answered:
        return None
    return max(answered)[1]


def percentile(sorted_values, p):
    """Rank ceil(p/100 x n) of the sorted values, as `swaprouter bench quotes` defines it."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), -(-int(p * len(sorted_values) * 1000) // 100000)))
    return sorted_values[rank - 1]


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def report(client, latencies_s, errors, wall_s, picked, cpu):
    """Prints one JSON line: fan-out latency percentiles, throughput, the CPU seconds of the
    measured loop (`cpu`: start-up and warm-up excluded, as for swaprouter) and the RSS."""
    ms = sorted(x * 1000 for x in latencies_s)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    n = len(ms)
    print(json.dumps({
        "client": client,
        "count": n,
        "errors": errors,
        "p50_ms": round(percentile(ms, 50), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "max_ms": round(ms[-1], 3) if ms else 0,
        "throughput_per_s": round(n / wall_s, 2) if wall_s > 0 else 0,
        "cpu_s_per_1000": round(cpu * 1000 / n, 3) if n else 0,
        "rss_mb": round(usage.ru_maxrss / 1024, 1),
        "picked": picked,
    }))
    sys.stdout.flush()


def should_stop(done, started, settings):
    return done >= settings["count"] or time.monotonic() - started >= settings["duration_s"]
