#!/usr/bin/python3
"""Interop check of the OxaPay emulator, standard library only.

Drives the documented flow as the seed's curl does (general_api_key, JSON number amounts, the
envelope {data, message, error, status, version}): pairs, rate, calculate, swap (final at once),
history by track_id, balance; below-minimum and insufficient balance errors naming the field.
Numbers are read as exact decimals (parse_float=Decimal), never as binary floats.

Usage: oxapay_interop.py --base-url https://127.0.0.1:PORT/v1 --ca CA.pem --api-key KEY
Exit status 0 when every check passes, 1 otherwise.
"""

import argparse
import decimal
import json
import ssl
import sys
import urllib.error
import urllib.request

FAILURES = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        FAILURES.append(what)


def call(args, context, method, path, raw_body=None, key="default"):
    headers = {"Accept": "application/json"}
    if key == "default":
        headers["general_api_key"] = args.api_key
    elif key is not None:
        headers["general_api_key"] = key
    data = None
    if raw_body is not None:
        data = raw_body.encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(args.base_url.rstrip("/") + path, data=data,
                                     headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            body = json.loads(response.read(), parse_float=decimal.Decimal)
            status = response.status
    except urllib.error.HTTPError as e:
        body = json.loads(e.read(), parse_float=decimal.Decimal)
        status = e.code
    check(set(body) == {"data", "message", "error", "status", "version"} and body["status"] == status,
          f"{method} {path}: envelope with status {status} mirrored")
    return status, body


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--api-key", required=True)
    args = parser.parse_args()
    context = ssl.create_default_context(cafile=args.ca)

    status, _ = call(args, context, "GET", "/general/account/balance", key="wrong")
    check(status == 401, "wrong key -> 401")
    status, body = call(args, context, "GET", "/general/swap/pairs")
    pairs = {(p["from_currency"], p["to_currency"]): p["min_amount"] for p in body["data"]["list"]}
    check(status == 200 and ("USDT", "TRX") in pairs, "pairs list USDT-TRX with min_amount")
    status, body = call(args, context, "POST", "/general/swap/rate",
                        '{"from_currency":"USDT","to_currency":"TRX"}')
    rate = decimal.Decimal(body["data"]["rate"])
    check(status == 200 and rate > 0, "rate")
    status, body = call(args, context, "POST", "/general/swap/calculate",
                        '{"amount":10,"from_currency":"USDT","to_currency":"TRX"}')
    check(status == 200 and decimal.Decimal(body["data"]["to_amount"]) <= 10 * rate, "calculate")

    status, body = call(args, context, "GET", "/general/account/balance")
    before = body["data"]
    status, body = call(args, context, "POST", "/general/swap",
                        '{"amount":10,"from_currency":"USDT","to_currency":"TRX"}')
    swap = body["data"]
    check(status == 200 and swap["track_id"] and isinstance(swap["date"], int), "swap executes")
    status, body = call(args, context, "GET", "/general/swap?track_id=" + swap["track_id"])
    check(status == 200 and len(body["data"]["list"]) == 1, "history by track_id")
    status, body = call(args, context, "GET", "/general/account/balance")
    after = body["data"]
    check(decimal.Decimal(after["USDT"]) == decimal.Decimal(before["USDT"]) - 10 and
          decimal.Decimal(after["TRX"]) == decimal.Decimal(before["TRX"]) +
          decimal.Decimal(swap["to_amount"]), "balances moved exactly")

    below = str(decimal.Decimal(pairs[("USDT", "TRX")]) / 2)
    status, body = call(args, context, "POST", "/general/swap",
                        '{"amount":' + below + ',"from_currency":"USDT","to_currency":"TRX"}')
    check(status == 400 and body["error"]["key"] == "amount", "below minimum names amount")
    status, body = call(args, context, "POST", "/general/swap",
                        '{"amount":100000000,"from_currency":"USDT","to_currency":"TRX"}')
    check(status == 400 and "balance" in body["error"]["message"].lower(), "insufficient balance")
    status, body = call(args, context, "POST", "/general/swap",
                        '{"amount":10,"from_currency":"USDT","to_currency":"USDT"}')
    check(status == 400, "same currency refused")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
