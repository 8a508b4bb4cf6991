#!/usr/bin/python3
"""The quote fan-out written the way the seeds' Python example is: `requests`, one call after the
other (004_e52f202ba4b5e8ab.txt, "4.1 Python Integration Examples").

The 001k ApiClient below is the seed's, with one change: it sends through a requests.Session
instead of the module-level requests.request, so that connections are kept alive as for every
other client in the comparison (the seed's form opens a new TLS connection per call). TLS is
verified against the CA that `swaprouter simulate` printed.

Usage: py_requests_client.py providers.json   (see common.py); prints one JSON line.
"""

import hashlib
import hmac
import json
import sys
import time
import uuid

import requests

from common import (best, cpu_seconds, kiiex_receive, load_settings, onek_receive, report,
                    should_stop)


class ApiClient:
    def __init__(self, base_url, access_key, secret_key, session):
        self.base_url = base_url.rstrip('/')
        self.access_key = access_key
        self.secret_key = secret_key
        self.session = session

    def _get_timestamp(self):
        return str(int(time.time() * 1000))

    def _generate_signature(self, path, timestamp, body=''):
        message = f"{self.access_key}{path}{timestamp}{body}"
        signature = hmac.new(
            self.secret_key.encode('utf-8'),
            message.encode('utf-8'),
            hashlib.sha256
        ).hexdigest()
        return signature

    def request(self, method, endpoint, params=None, data=None):
        path = f"/api/v1{endpoint}"
        url = f"{self.base_url.removesuffix('/api/v1')}{path}"

        timestamp = self._get_timestamp()

        headers = {
            'X-Access-Key': self.access_key,
            'X-Timestamp': timestamp,
        }

        if method.upper() in ['POST', 'PUT', 'PATCH'] and data is not None:
            body = json.dumps(data)
            headers['Content-Type'] = 'application/json'
        else:
            body = ''

        headers['X-Signature'] = self._generate_signature(path, timestamp, body)

        response = self.session.request(
            method=method,
            url=url,
            params=params,
            data=body if body else None,
            headers=headers
        )

        return response.json()

    def get(self, endpoint, params=None):
        return self.request('GET', endpoint, params=params)


class Kiiex:
    """Login once (AuthenticateUser, signed Nonce + UserId + APIKey), then GetL2Snapshot."""

    def __init__(self, cfg, session, spend, receive):
        self.base = cfg["base_url"].rstrip('/')
        self.session = session
        nonce = str(uuid.uuid4().int % 10**15)
        signature = hmac.new(cfg["secret"].encode(), (nonce + cfg["user_id"] + cfg["api_key"]).encode(),
                             hashlib.sha256).hexdigest()
        answer = session.get(f"{self.base}/AuthenticateUser", headers={
            "APIKey": cfg["api_key"], "Signature": signature, "UserId": cfg["user_id"],
            "Nonce": nonce}).json()
        token = answer["SessionToken"]
        self.headers = {"aptoken": token, "Authorization": "Bearer " + token,
                        "Content-Type": "application/json"}
        instruments = session.post(f"{self.base}/GetInstruments", headers=self.headers,
                                   data=json.dumps({"OMSId": 1})).json()
        self.instrument = next(i["InstrumentId"] for i in instruments
                               if i["Product1Symbol"] == spend and i["Product2Symbol"] == receive)
        self.fee_percent = float(cfg.get("fee_percent", "0.2"))

    def l2(self):
        return self.session.post(f"{self.base}/GetL2Snapshot", headers=self.headers, data=json.dumps(
            {"OMSId": 1, "InstrumentId": self.instrument, "Depth": 50})).json()


def main():
    s = load_settings(sys.argv[1])
    spend, receive, amount = s["from"], s["to"], float(s["amount"])
    session = requests.Session()
    session.verify = s["ca"]
    # Only the run's CA and no proxy: with trust_env on, REQUESTS_CA_BUNDLE would replace
    # session.verify, and a proxy variable could route loopback through a proxy.
    session.trust_env = False
    onek = ApiClient(s["onek"]["base_url"], s["onek"]["access_key"], s["onek"]["secret"], session)
    kiiex = Kiiex(s["kiiex"], session, spend, receive)
    ss_url = s["stablestack"]["base_url"].rstrip('/') + "/instant-swaps"
    ss_headers = {"x-api-key": s["stablestack"]["api_key"]}
    ox_url = s["oxapay"]["base_url"].rstrip('/') + "/general/swap/rate"
    ox_headers = {"general_api_key": s["oxapay"]["api_key"]}

    def fan_out():
        quotes = {}
        quotes["onek"] = onek_receive(onek.get('/swap-directions'), spend, receive, amount)
        quotes["kiiex"] = kiiex_receive(kiiex.l2(), amount, kiiex.fee_percent)
        answer = session.post(ss_url, headers=ss_headers, json={
            "from_currency": spend, "to_currency": receive, "amount": s["amount"]}).json()
        quotes["stablestack"] = float(answer["data"]["data"]["to_amount"])
        answer = session.post(ox_url, headers=ox_headers, json={
            "from_currency": spend, "to_currency": receive}).json()
        quotes["oxapay"] = amount * float(answer["data"]["rate"])
        return best(quotes)

    for _ in range(3):  # warm-up, not measured
        fan_out()
    latencies, errors, picked = [], 0, None
    started = time.monotonic()
    cpu_before = cpu_seconds()
    while not should_stop(len(latencies) + errors, started, s):
        t0 = time.perf_counter()
        try:
            picked = fan_out()
            latencies.append(time.perf_counter() - t0)
        except Exception as e:  # noqa: BLE001 - a failed fan-out is counted, the run goes on
            errors += 1
            print(f"py-requests: {e}", file=sys.stderr)
    report("python requests (sequential)", latencies, errors, time.monotonic() - started, picked,
           cpu_seconds() - cpu_before)


if __name__ == "__main__":
    main()
