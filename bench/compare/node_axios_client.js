#!/usr/bin/env node
// The quote fan-out with axios and Promise.all, as the seeds' JavaScript example calls the API
// (004_e52f202ba4b5e8ab.txt, "4.3 JavaScript Integration Examples": the 001k ApiClient and its
// HMAC signature). One keep-alive https.Agent trusting only the run's CA is shared by all calls.
//
// Usage: node node_axios_client.js providers.json   (see common.py); prints one JSON line.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const https = require('https');
const axios = require('axios');

// Loopback only: never through a proxy named in the environment.
axios.defaults.proxy = false;

class ApiClient {
  constructor(baseUrl, accessKey, secretKey, agent) {
    this.baseUrl = baseUrl.replace(/\/$/, '').replace(/\/api\/v1$/, '');
    this.accessKey = accessKey;
    this.secretKey = secretKey;
    this.agent = agent;
  }

  getTimestamp() {
    return Date.now().toString();
  }

  generateSignature(path, timestamp, body = '') {
    const message = `${this.accessKey}${path}${timestamp}${body}`;
    return crypto.createHmac('sha256', this.secretKey).update(message).digest('hex');
  }

  async request(method, endpoint, params = {}, data = null) {
    const path = `/api/v1${endpoint}`;
    const url = `${this.baseUrl}${path}`;
    const timestamp = this.getTimestamp();
    const headers = {'X-Access-Key': this.accessKey, 'X-Timestamp': timestamp};
    let body = '';
    if (['POST', 'PUT', 'PATCH'].includes(method.toUpperCase()) && data !== null) {
      body = JSON.stringify(data);
      headers['Content-Type'] = 'application/json';
    }
    headers['X-Signature'] = this.generateSignature(path, timestamp, body);
    const response = await axios({
      method,
      url,
      params: method.toUpperCase() === 'GET' ? params : undefined,
      data: body || undefined,
      headers,
      httpsAgent: this.agent,
    });
    return response.data;
  }

  async get(endpoint, params = {}) {
    return this.request('GET', endpoint, params);
  }
}

function onekReceive(directions, spend, receive, amount) {
  const d = directions.find((x) => x.spend_currency === spend && x.receive_currency === receive);
  if (!d) return null;
  const gross = (amount * Number(d.receive_rate_value)) / Number(d.spend_rate_value);
  return gross * (1 - Number(d.fee_percent) / 100);
}

function kiiexReceive(rows, amount, feePercent) {
  const bids = rows
    .filter((r) => r[9] === 0 && r[3] !== 2)
    .map((r) => [Number(r[6]), Number(r[8])])
    .sort((a, b) => b[0] - a[0]);
  let left = amount;
  let got = 0;
  for (const [price, quantity] of bids) {
    const take = Math.min(left, quantity);
    got += take * price;
    left -= take;
    if (left <= 0) break;
  }
  return left <= 0 ? got * (1 - feePercent / 100) : null;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.min(sorted.length, Math.ceil((p / 100) * sorted.length - 1e-9)));
  return sorted[rank - 1];
}

async function main() {
  const s = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const spend = s.from;
  const receive = s.to;
  const amount = Number(s.amount);
  const agent = new https.Agent({keepAlive: true, maxSockets: 4, ca: fs.readFileSync(s.ca)});
  const onek = new ApiClient(s.onek.base_url, s.onek.access_key, s.onek.secret, agent);

  const k = s.kiiex;
  const kbase = k.base_url.replace(/\/$/, '');
  const nonce = String(Math.floor(Math.random() * 1e15));
  const signature = crypto.createHmac('sha256', k.secret)
    .update(nonce + k.user_id + k.api_key).digest('hex');
  const login = await axios.get(`${kbase}/AuthenticateUser`, {
    headers: {APIKey: k.api_key, Signature: signature, UserId: k.user_id, Nonce: nonce},
    httpsAgent: agent,
  });
  const token = login.data.SessionToken;
  const kheaders = {aptoken: token, Authorization: `Bearer ${token}`,
    'Content-Type': 'application/json'};
  const instruments = (await axios.post(`${kbase}/GetInstruments`, {OMSId: 1},
    {headers: kheaders, httpsAgent: agent})).data;
  const instrument = instruments.find(
    (i) => i.Product1Symbol === spend && i.Product2Symbol === receive).InstrumentId;
  const kfee = Number(k.fee_percent || '0.2');
  const ssUrl = `${s.stablestack.base_url.replace(/\/$/, '')}/instant-swaps`;
  const oxUrl = `${s.oxapay.base_url.replace(/\/$/, '')}/general/swap/rate`;

  const fanOut = async () => {
    const [o, kk, ss, ox] = await Promise.all([
      onek.get('/swap-directions'),
      axios.post(`${kbase}/GetL2Snapshot`, {OMSId: 1, InstrumentId: instrument, Depth: 50},
        {headers: kheaders, httpsAgent: agent}),
      axios.post(ssUrl, {from_currency: spend, to_currency: receive, amount: s.amount},
        {headers: {'x-api-key': s.stablestack.api_key}, httpsAgent: agent}),
      axios.post(oxUrl, {from_currency: spend, to_currency: receive},
        {headers: {general_api_key: s.oxapay.api_key}, httpsAgent: agent}),
    ]);
    const quotes = {
      onek: onekReceive(o, spend, receive, amount),
      kiiex: kiiexReceive(kk.data, amount, kfee),
      stablestack: Number(ss.data.data.data.to_amount),
      oxapay: amount * Number(ox.data.data.rate),
    };
    let picked = null;
    for (const [name, value] of Object.entries(quotes)) {
      if (value !== null && (picked === null || value > quotes[picked])) picked = name;
    }
    return picked;
  };

  for (let i = 0; i < 3; ++i) await fanOut();  // warm-up, not measured
  const latencies = [];
  let errors = 0;
  let picked = null;
  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();  // the measured loop only, as for every client
  const elapsedS = () => Number(process.hrtime.bigint() - started) / 1e9;
  while (latencies.length + errors < s.count && elapsedS() < s.duration_s) {
    const t0 = process.hrtime.bigint();
    try {
      picked = await fanOut();
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    } catch (e) {
      errors += 1;
      console.error(`node-axios: ${e.message}`);
    }
  }
  const wall = elapsedS();
  const usage = process.resourceUsage();
  const spent = process.cpuUsage(cpuBefore);
  const cpu = (spent.user + spent.system) / 1e6;
  latencies.sort((a, b) => a - b);
  const n = latencies.length;
  console.log(JSON.stringify({
    client: 'node axios Promise.all (concurrent)',
    count: n,
    errors,
    p50_ms: Number(percentile(latencies, 50).toFixed(3)),
    p99_ms: Number(percentile(latencies, 99).toFixed(3)),
    max_ms: n ? Number(latencies[n - 1].toFixed(3)) : 0,
    throughput_per_s: Number((n / wall).toFixed(2)),
    cpu_s_per_1000: n ? Number(((cpu * 1000) / n).toFixed(3)) : 0,
    rss_mb: Number((usage.maxRSS / 1024).toFixed(1)),
    picked,
  }));
  agent.destroy();
}

main().catch((e) => {
  console.error(`node-axios: ${e.stack || e}`);
  process.exit(1);
});
