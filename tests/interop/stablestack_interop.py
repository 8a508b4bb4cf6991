#!/usr/bin/python3
"""Interop check of the StableStack emulator, standard library only.

Drives the documented flow as the seed's curl does (x-api-key, JSON string amounts): create a
wallet, POST /instant-swaps (firm quote in the double-nested data), POST /swaps/{id}/refresh,
POST /swaps (both legs PENDING, reference_id = swapId), poll by_ref_id until both legs are
COMPLETED, read by_txid, by_customer_id and GET /transactions, check the envelopes of
MISSING_TOKEN, INVALID_TOKEN and a missing field. Amounts are compared as exact decimals.

Usage: stablestack_interop.py --base-url https://127.0.0.1:PORT/api --ca CA.pem --api-key KEY
Exit status 0 when every check passes, 1 otherwise.
"""

import argparse
import decimal
import json
import ssl
import sys
import time
import urllib.error
import urllib.request

FAILURES = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        FAILURES.append(what)


def call(args, context, method, path, body=None, key="default"):
    headers = {"Accept": "application/json"}
    if key == "default":
        headers["x-api-key"] = args.api_key
    elif key is not None:
        headers["x-api-key"] = key
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(args.base_url.rstrip("/") + path, data=data,
                                     headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return response.status, json.loads(response.read(), parse_float=decimal.Decimal)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read(), parse_float=decimal.Decimal)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--api-key", required=True)
    args = parser.parse_args()
    context = ssl.create_default_context(cafile=args.ca)

    status, body = call(args, context, "GET", "/wallets", key=None)
    check(status == 401 and body["error"]["code"] == "MISSING_TOKEN", "missing key -> 401 MISSING_TOKEN")
    status, body = call(args, context, "GET", "/wallets", key="wrong")
    check(status == 401 and body["status"] == "failed" and body["error"]["code"] == "INVALID_TOKEN",
          "wrong key -> 401 INVALID_TOKEN in the envelope")

    customer = "85b148ab-3f6b-4d55-917f-3c8de668a48e"
    status, body = call(args, context, "POST", "/wallets", {"currency": "USDC", "customer_id": customer})
    check(status == 201 and body["data"]["currency"] == "USDC", "POST /wallets creates a wallet")
    status, body = call(args, context, "GET", "/wallets?customer_id=" + customer)
    before = {w["currency"]: decimal.Decimal(w["balance"]) for w in body["data"]}
    check(status == 200 and "USDT" in before, "GET /wallets lists balances (project assumption)")

    swap = {"customer_id": customer, "from_currency": "USDT", "to_currency": "USDC", "amount": "20"}
    status, body = call(args, context, "POST", "/instant-swaps", swap)
    quote = body["data"]["data"]
    check(status == 200 and body["data"]["status"] == "success" and quote["confirmed"] is False,
          "POST /instant-swaps answers a quote in data.data")
    refresh = {"customer_id": customer, "from_currency": "USDT", "to_currency": "USDC",
               "from_amount": "20"}
    status, body = call(args, context, "POST", "/swaps/" + quote["id"] + "/refresh", refresh)
    check(status == 200 and body["data"]["data"]["id"] == quote["id"], "refresh keeps the id")
    to_amount = decimal.Decimal(body["data"]["data"]["to_amount"])

    status, body = call(args, context, "POST", "/swaps", swap)
    data = body["data"]
    check(status == 200 and data["debitTransaction"]["reference_id"] == data["swapId"] and
          data["creditTransaction"]["reference_id"] == data["swapId"], "POST /swaps links both legs")
    check(data["debitTransaction"]["asset_code"] == "usdt" and
          data["debitTransaction"]["status"] == "PENDING", "legs are lower-case and PENDING")
    status, body = call(args, context, "POST", "/swaps", swap)
    check(status == 400 and body["error"]["code"] == "INVALID_PARAMETER",
          "a second execute without a new quote is a validation error")

    legs = []
    for _ in range(100):
        status, body = call(args, context, "GET", "/customers/transactions/by_ref_id/" + data["swapId"])
        legs = body["data"]
        if all(leg["status"] != "PENDING" for leg in legs):
            break
        time.sleep(0.1)
    check(len(legs) == 2 and all(leg["status"] == "COMPLETED" for leg in legs), "both legs COMPLETED")
    status, body = call(args, context, "GET", "/customers/transactions/by_txid/" +
                        data["debitTransaction"]["transaction_id"])
    check(status == 200 and body["data"]["id"] == data["debitTransaction"]["id"], "by_txid")
    status, body = call(args, context, "GET", "/customers/transactions/by_customer_id/" + customer +
                        "?transaction_mode=DEBIT&currency=USDT&page=1&limit=5")
    check(status == 200 and body["pagination"]["page"] == 1 and len(body["data"]) >= 1,
          "by_customer_id filters and paginates")
    status, body = call(args, context, "GET", "/transactions")
    check(status == 200 and body["status"] == "success", "GET /transactions")

    status, body = call(args, context, "GET", "/wallets?customer_id=" + customer)
    after = {w["currency"]: decimal.Decimal(w["balance"]) for w in body["data"]}
    check(after["USDT"] == before["USDT"] - 20 and after["USDC"] == before["USDC"] + to_amount,
          "balances moved by exactly the swap's amounts")

    status, body = call(args, context, "POST", "/instant-swaps", {"from_currency": "USDT"})
    check(status == 400 and body["error"]["code"] == "MISSING_REQUIRED_FIELD", "missing field")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
