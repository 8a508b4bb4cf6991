#!/usr/bin/python3
"""Interop check of the 001k emulator against the 001k document's own Python example.

The ApiClient below is the seed document's example (004_e52f202ba4b5e8ab.txt, "4.1 Python
Integration Examples") with `requests` replaced by urllib from the standard library and TLS
verified against the CA that `swaprouter simulate` prints. The signature is built exactly as
there: hex(HMAC-SHA256(secret, access_key + "/api/v1" + endpoint + timestamp + body)), body =
json.dumps(data) for POST and "" for GET.

Usage: onek_interop.py --base-url https://127.0.0.1:PORT/api/v1 --ca CA.pem \
           --access-key KEY --secret SECRET
Exit status 0 when every check passes, 1 otherwise.
"""

import argparse
import decimal
import hashlib
import hmac
import json
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


class ApiError(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


class ApiClient:
    def __init__(self, base_url, access_key, secret_key, context):
        self.base_url = base_url.rstrip('/')
        self.access_key = access_key
        self.secret_key = secret_key
        self.context = context

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
        url = f"{self.base_url}{path}"

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

        if params:
            url = f"{url}?{urllib.parse.urlencode(params)}"
        req = urllib.request.Request(url, data=body.encode('utf-8') if body else None,
                                     headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, context=self.context, timeout=10) as response:
                return json.loads(response.read().decode('utf-8'))
        except urllib.error.HTTPError as e:
            raise ApiError(e.code, e.read().decode('utf-8', 'replace')) from None

    def get(self, endpoint, params=None):
        return self.request('GET', endpoint, params=params)

    def post(self, endpoint, data=None):
        return self.request('POST', endpoint, data=data)


failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)
    return condition


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--base-url', required=True, help='as printed: https://127.0.0.1:PORT/api/v1')
    parser.add_argument('--ca', help='CA certificate printed by simulate (TLS)')
    parser.add_argument('--access-key', required=True)
    parser.add_argument('--secret', required=True)
    parser.add_argument('--direction', default='USDT-COPM')
    args = parser.parse_args()

    base = args.base_url.rstrip('/')
    if base.endswith('/api/v1'):
        base = base[:-len('/api/v1')]
    context = ssl.create_default_context(cafile=args.ca) if base.startswith('https') else None
    api = ApiClient(base, args.access_key, args.secret, context)

    # Status endpoint doesn't require authentication.
    with urllib.request.urlopen(f"{base}/api/v1/status", context=context, timeout=10) as r:
        status = json.loads(r.read())
    check(abs(status['timestamp'] - time.time() * 1000) < 60000, 'GET /status timestamp is now')

    balances = api.get('/balance')
    check(isinstance(balances, list) and balances, 'GET /balance answers a list')
    for balance in balances:
        check(all(isinstance(balance.get(k), str) for k in ('currency', 'available', 'frozen')),
              f"balance {balance.get('currency')}: {balance.get('available')} (available), "
              f"{balance.get('frozen')} (frozen)")

    directions = api.get('/swap-directions')
    check(isinstance(directions, list) and directions, 'GET /swap-directions answers a list')
    direction = next((d for d in directions if d['code'] == args.direction), None)
    if not check(direction is not None and direction['is_enabled'], f'{args.direction} is offered'):
        return 1
    precision = direction['spend_precision']
    least = max(decimal.Decimal(direction['min_spend_amount']) * 2, decimal.Decimal(10))
    spend = str(least.quantize(decimal.Decimal(1).scaleb(-precision), rounding=decimal.ROUND_DOWN))
    custom_id = f"interop-{int(time.time() * 1000)}"

    swap = api.post('/swap/open', {
        'direction': args.direction,
        'spend_amount': spend,
        'custom_id': custom_id,
        'time_to_live': 30000,
    })
    check(swap.get('status') == 'open', f"POST /swap/open opened {swap.get('code')}")
    check(swap.get('custom_id') == custom_id and swap.get('spend_amount') == spend,
          'the swap echoes custom_id and spend_amount')
    check(swap.get('fee_currency') == direction['receive_currency'], 'fee in the receive currency')

    again = api.post('/swap/open', {
        'direction': args.direction,
        'spend_amount': spend,
        'custom_id': custom_id,
    })
    check(again.get('code') == swap.get('code'), 'the same custom_id returns the same swap')

    # The seed's example signs the path alone and hands the query to the HTTP library.
    listed = api.get('/swap', params={'custom_id': custom_id, 'limit': 2})
    check(isinstance(listed, list) and [s.get('code') for s in listed] == [swap.get('code')],
          'GET /swap?custom_id= lists the swap (query parameters are not signed)')

    final = swap
    for _ in range(100):
        final = api.get(f"/swap/{swap['code']}")
        if final['status'] != 'open':
            break
        time.sleep(0.1)
    check(final['status'] == 'success', f"the swap ended {final['status']}")

    wrong = ApiClient(base, args.access_key, args.secret + 'x', context)
    try:
        wrong.get('/balance')
        check(False, 'a wrong secret is refused')
    except ApiError as e:
        code = json.loads(e.body).get('code') if e.body.startswith('{') else None
        check(e.status == 401 and code == 'signature.invalid',
              f'a wrong secret gets 401 signature.invalid (got {e.status} {code})')

    print('PASS' if not failures else f'{len(failures)} check(s) failed', flush=True)
    return 0 if not failures else 1


if __name__ == '__main__':
    sys.exit(main())
