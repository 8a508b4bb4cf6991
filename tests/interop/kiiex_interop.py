#!/usr/bin/python3
"""Interop check of the KIIEX (AlphaPoint APEX) emulator, standard library only.

Follows the seed's swap workflow (seed 000 "Stablecoin FX Quick Start", VENUES.md Part 2
section 1): AuthenticateUser with the API key signature, lowercase hex
HMAC-SHA256(secret, Nonce + UserId + APIKey) in the headers APIKey, Signature, UserId, Nonce; every
later call as POST /ap/<Function> with a JSON body and the session token as both `aptoken` and
`Authorization: Bearer`. Places a small limit IOC sell on the book, tracks it with GetOrderStatus
to its final state, reads its fills from GetTradesHistory and checks that GetAccountPositions moved
by exactly those fills. A wrong secret and a call without a token are refused. Numbers are read as
exact decimals (parse_float=Decimal), never as binary floats.

Usage: kiiex_interop.py --base-url https://127.0.0.1:PORT/ap --ca CA.pem --api-key KEY
       --secret SECRET --user-id 11 --account-id 13 [--order-status-array]
Exit status 0 when every check passes, 1 otherwise.
"""

import argparse
import decimal
import hashlib
import hmac
import json
import secrets
import ssl
import sys
import time
import urllib.error
import urllib.request

FAILURES = []
FINAL_STATES = {"Rejected", "Canceled", "Expired", "FullyExecuted"}


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        FAILURES.append(what)
    return condition


def signature(secret, nonce, user_id, api_key):
    """The documented login signature (VENUES.md 1.2): plain concatenation, lowercase hex."""
    message = (nonce + user_id + api_key).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def http(args, context, method, function, body=None, headers=None):
    all_headers = {"Accept": "application/json"}
    all_headers.update(headers or {})
    data = None
    if body is not None:
        data = body.encode()
        all_headers["Content-Type"] = "application/json"
    request = urllib.request.Request(args.base_url.rstrip("/") + "/" + function, data=data,
                                     headers=all_headers, method=method)
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return response.status, json.loads(response.read(), parse_float=decimal.Decimal)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read(), parse_float=decimal.Decimal)


def login(args, context, secret):
    nonce = str(secrets.randbelow(2**63))
    return http(args, context, "GET", "AuthenticateUser", headers={
        "APIKey": args.api_key,
        "Signature": signature(secret, nonce, args.user_id, args.api_key),
        "UserId": args.user_id,
        "Nonce": nonce,
    })


def call(args, context, token, function, body):
    return http(args, context, "POST", function, json.dumps(body), headers={
        "aptoken": token,
        "Authorization": "Bearer " + token,
    })


def number(text):
    """A JSON number written from an exact decimal (the body is assembled as text)."""
    return format(decimal.Decimal(text), "f")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--user-id", required=True)
    parser.add_argument("--account-id", type=int, required=True)
    parser.add_argument("--order-status-array", action="store_true",
                        help="the scenario wraps GetOrderStatus in an array (KIIDOC)")
    args = parser.parse_args()
    context = ssl.create_default_context(cafile=args.ca)

    status, body = login(args, context, args.secret + "-wrong")
    check(status == 400 and body.get("Authenticated", body.get("authenticated")) is False
          and body.get("errormsg"), "wrong secret refused (400, Authenticated false, errormsg)")

    status, body = login(args, context, args.secret)
    check(status == 200 and body.get("Authenticated") is True and body.get("SessionToken"),
          "login with the documented signature")
    token = body.get("SessionToken", "")
    user = body.get("User", {})
    check(str(user.get("UserId")) == args.user_id and user.get("AccountId") == args.account_id,
          f"User {args.user_id} with AccountId {args.account_id} (scenario kiiex block)")
    oms = user.get("OMSId", 1)
    account = args.account_id

    status, body = http(args, context, "POST", "GetAccountPositions",
                        json.dumps({"OMSId": oms, "AccountId": account}))
    check(status == 401 and body.get("errorcode") == 20, "no token -> 401, errorcode 20")

    status, instruments = call(args, context, token, "GetInstruments", {"OMSId": oms})
    instrument = next((i for i in instruments if i["Symbol"] == "USDTCOPM"), None)
    if not check(status == 200 and instrument is not None, "GetInstruments lists USDTCOPM"):
        return 1
    instrument_id = instrument["InstrumentId"]
    status, book = call(args, context, token, "GetL2Snapshot",
                        {"OMSId": oms, "InstrumentId": instrument_id, "Depth": 10})
    bids = sorted((row[6] for row in book if row[9] == 0), reverse=True)
    check(status == 200 and all(len(row) == 10 for row in book) and bids,
          "GetL2Snapshot: 10-element levels with bids")
    best_bid = bids[0]

    def positions():
        _, rows = call(args, context, token, "GetAccountPositions",
                       {"OMSId": oms, "AccountId": account, "IncludePending": True})
        return {row["ProductSymbol"]: row for row in rows}

    before = positions()

    quantity = decimal.Decimal("10")
    client_order_id = secrets.randbelow(2**63 - 1) + 1
    order = ('{"InstrumentId":%d,"OMSId":%d,"AccountId":%d,"TimeInForce":3,"ClientOrderId":%d,'
             '"OrderIdOCO":0,"UseDisplayQuantity":false,"Side":1,"OrderType":2,"Quantity":%s,'
             '"LimitPrice":%s}' % (instrument_id, oms, account, client_order_id, number(quantity),
                                   number(best_bid)))
    status, sent = http(args, context, "POST", "SendOrder", order,
                        headers={"aptoken": token, "Authorization": "Bearer " + token})
    if not check(status == 200 and sent.get("status") == "Accepted" and sent.get("OrderId"),
                 "SendOrder: limit IOC sell at the best bid accepted"):
        return 1
    order_id = sent["OrderId"]

    final = None
    wrapped = None
    for _ in range(100):
        status, answer = call(args, context, token, "GetOrderStatus",
                              {"OMSId": oms, "AccountId": account, "OrderId": order_id})
        wrapped = isinstance(answer, list)
        current = answer[0] if wrapped and answer else answer
        if status == 200 and isinstance(current, dict) and current.get("OrderState") in FINAL_STATES:
            final = current
            break
        time.sleep(0.05)
    check(wrapped == args.order_status_array,
          "GetOrderStatus " + ("wrapped in an array" if wrapped else "a bare object"))
    if not check(final is not None, "GetOrderStatus reaches a final state"):
        return 1
    check(final["OrderState"] == "FullyExecuted" and final["QuantityExecuted"] == quantity
          and final["ClientOrderId"] == client_order_id,
          f"order {order_id} FullyExecuted for {quantity} with our ClientOrderId")

    status, trades = call(args, context, token, "GetTradesHistory",
                          {"OMSId": oms, "AccountId": account, "OrderId": order_id})
    fills = [t for t in trades if t["OrderId"] == order_id]
    check(status == 200 and fills, "GetTradesHistory has the fills")
    check(all(t["Price"] >= best_bid for t in fills), "no fill below the limit price")
    check(all(abs(t["Value"] - t["Price"] * t["Quantity"]) < decimal.Decimal("0.01") for t in fills),
          "Value = Price x Quantity (to the quote's 2 decimals)")
    executed = sum((t["Quantity"] for t in fills), decimal.Decimal(0))
    received = sum((t["Value"] - t["Fee"] for t in fills), decimal.Decimal(0))
    check(executed == quantity, "fills sum to the quantity")

    after = positions()
    check(before["USDT"]["Amount"] - after["USDT"]["Amount"] == quantity
          and after["USDT"]["Hold"] == 0, f"USDT down by exactly {quantity}, nothing held")
    check(after["COPM"]["Amount"] - before["COPM"]["Amount"] == received,
          f"COPM up by exactly the fills' net {received}")

    status, history = call(args, context, token, "GetOrdersHistory",
                           {"OMSId": oms, "AccountId": account, "ClientOrderId": client_order_id})
    check(status == 200 and [o["OrderId"] for o in history] == [order_id],
          "GetOrdersHistory finds the order by ClientOrderId")

    print("kiiex interop: %d failure(s)" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
