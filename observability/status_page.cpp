// The status page: static HTML and plain JavaScript, no build step. It renders /status with
// textContent only (never innerHTML), so a provider name or a halt reason cannot inject markup.
#include "observability/listener.hpp"

namespace swaprouter::observability {

namespace {

constexpr std::string_view page = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>swaprouter</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
  h1 { font-size: 1.3em; margin: 0 0 .5em; }
  h2 { font-size: 1.05em; margin: 1.2em 0 .3em; }
  table { border-collapse: collapse; }
  th, td { text-align: left; padding: .15em .8em .15em 0; border-bottom: 1px solid #ddd; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .halted { color: #b00; font-weight: bold; }
  .ok { color: #070; }
  .muted { color: #777; }
  #error { color: #b00; }
</style>
</head>
<body>
<h1>swaprouter <span class="muted">mode</span> <span id="mode">…</span></h1>
<div>Risk: <span id="risk">…</span> <span class="muted">updated <span id="updated">never</span></span>
  <span id="error"></span></div>

<h2>Providers</h2>
<table id="providers"><thead><tr><th>name</th><th>health</th><th>circuit</th><th>last quote</th>
  <th>p50 ms</th><th>p99 ms</th></tr></thead><tbody></tbody></table>

<h2>Open intents</h2>
<table id="intents"><thead><tr><th>id</th><th>source</th><th>side</th><th>amount</th>
  <th>spend</th><th>receive</th><th>state</th></tr></thead><tbody></tbody></table>

<h2>Open legs</h2>
<table id="legs"><thead><tr><th>id</th><th>intent</th><th>provider</th><th>side</th>
  <th>amount</th><th>spend</th><th>receive</th><th>state</th></tr></thead><tbody></tbody></table>

<h2>Balances</h2>
<table id="balances"><thead><tr><th>provider</th><th>asset</th><th>available</th></tr></thead>
  <tbody></tbody></table>

<h2>Last decisions</h2>
<table id="decisions"><thead><tr><th>time</th><th>source</th><th>action</th><th>detail</th></tr>
  </thead><tbody></tbody></table>

<script>
"use strict";
function text(v) { return v === null || v === undefined ? "–" : String(v); }
function ms(v) { return typeof v === "number" ? (v * 1000).toFixed(1) : "–"; }
function fill(tableId, rows, cells) {
  const body = document.querySelector("#" + tableId + " tbody");
  const fresh = document.createElement("tbody");
  for (const row of rows || []) {
    const tr = document.createElement("tr");
    for (const [value, numeric] of cells(row)) {
      const td = document.createElement("td");
      td.textContent = text(value);
      if (numeric) td.className = "num";
      tr.appendChild(td);
    }
    fresh.appendChild(tr);
  }
  if (!rows || rows.length === 0) {
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.className = "muted";
    td.textContent = "none";
    tr.appendChild(td);
    fresh.appendChild(tr);
  }
  body.replaceWith(fresh);
}
function show(s) {
  document.getElementById("mode").textContent = text(s.mode);
  const risk = document.getElementById("risk");
  if (s.risk && s.risk.halted) {
    risk.textContent = "HALTED: " + text(s.risk.halt_reason);
    risk.className = "halted";
  } else {
    risk.textContent = "running";
    risk.className = "ok";
  }
  fill("providers", s.providers, p => [[p.name], [p.health], [p.circuit], [p.last_quote],
                                       [ms(p.latency_p50_seconds), true],
                                       [ms(p.latency_p99_seconds), true]]);
  fill("intents", s.open_intents, i => [[i.id], [i.source], [i.side], [i.amount, true],
                                        [i.spend_asset], [i.receive_asset], [i.state]]);
  fill("legs", s.open_legs, l => [[l.id], [l.intent_id], [l.provider], [l.side],
                                  [l.amount, true], [l.spend_asset], [l.receive_asset],
                                  [l.state]]);
  fill("balances", s.balances, b => [[b.provider], [b.asset], [b.available, true]]);
  fill("decisions", s.last_decisions, d => [[d.time], [d.source], [d.action], [d.detail]]);
  document.getElementById("updated").textContent = text(s.generated_at);
}
async function refresh() {
  const error = document.getElementById("error");
  try {
    const res = await fetch("/status", {cache: "no-store"});
    if (!res.ok) throw new Error("HTTP " + res.status);
    show(await res.json());
    error.textContent = "";
  } catch (e) {
    error.textContent = "(status unavailable: " + e.message + ")";
  }
}
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
)html";

}  // namespace

std::string_view status_page_html() noexcept { return page; }

}  // namespace swaprouter::observability
