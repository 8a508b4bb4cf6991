#include "engine/status.hpp"

#include <charconv>
#include <cmath>
#include <string_view>

#include "engine/json_write.hpp"

namespace swaprouter {

namespace {

void optional_time(json_out& out, std::string_view key, const std::optional<wall_time>& t) {
  out.key(key);
  if (t) {
    out.time(*t);
  } else {
    out.null();
  }
}

void optional_seconds(json_out& out, std::string_view key, const std::optional<double>& v) {
  out.key(key);
  if (v && std::isfinite(*v)) {
    // Microseconds are plenty for display and keep the text short; to_chars, not printf: no locale.
    const double rounded = std::round(*v * 1e6) / 1e6;
    char text[32];
    const auto [end, ec] = std::to_chars(text, text + sizeof text, rounded);
    out.raw_number(std::string_view(text, static_cast<std::size_t>(end - text)));
  } else {
    out.null();
  }
}

void amount(json_out& out, std::string_view key, decimal value) {
  out.key(key);
  out.str(value.to_string());
}

}  // namespace

std::string to_json(const status_snapshot& s) {
  json_out out;
  out.begin_object();
  out.field("mode", s.mode);
  out.key("generated_at");
  out.time(s.generated_at);
  optional_time(out, "started_at", s.started_at);

  out.key("providers");
  out.begin_array();
  for (const status_provider& p : s.providers) {
    out.begin_object();
    out.field("name", p.name);
    out.field("health", p.health);
    optional_time(out, "last_quote", p.last_quote);
    optional_seconds(out, "latency_p50_seconds", p.latency_p50_seconds);
    optional_seconds(out, "latency_p99_seconds", p.latency_p99_seconds);
    out.field("circuit", to_string(p.circuit));
    if (p.book) {
      out.key("quote_book");
      out.begin_object();
      optional_seconds(out, "age_seconds", p.book->age_seconds);
      optional_seconds(out, "quote_p50_seconds", p.book->quote_p50_seconds);
      optional_seconds(out, "quote_p99_seconds", p.book->quote_p99_seconds);
      optional_seconds(out, "execution_p50_seconds", p.book->execution_p50_seconds);
      optional_seconds(out, "execution_p99_seconds", p.book->execution_p99_seconds);
      out.key("failures");
      out.integer(static_cast<std::int64_t>(p.book->failures));
      out.end_object();
    }
    out.end_object();
  }
  out.end_array();

  out.key("open_intents");
  out.begin_array();
  for (const status_intent& i : s.open_intents) {
    out.begin_object();
    out.field("id", i.id);
    out.field("source", i.source);
    out.field("spend_asset", i.spend_asset);
    out.field("receive_asset", i.receive_asset);
    out.field("side", to_string(i.side));
    amount(out, "amount", i.amount);
    out.field("state", i.state);
    optional_time(out, "created_at", i.created_at);
    out.end_object();
  }
  out.end_array();

  out.key("open_legs");
  out.begin_array();
  for (const status_leg& l : s.open_legs) {
    out.begin_object();
    out.field("id", l.id);
    out.field("intent_id", l.intent_id);
    out.field("provider", l.provider);
    out.field("spend_asset", l.spend_asset);
    out.field("receive_asset", l.receive_asset);
    out.field("side", to_string(l.side));
    amount(out, "amount", l.amount);
    out.field("state", l.state);
    optional_time(out, "created_at", l.created_at);
    out.end_object();
  }
  out.end_array();

  out.key("balances");
  out.begin_array();
  for (const status_balance& b : s.balances) {
    out.begin_object();
    out.field("provider", b.provider);
    out.field("asset", b.asset);
    amount(out, "available", b.available);
    out.end_object();
  }
  out.end_array();

  out.key("risk");
  out.begin_object();
  out.key("halted");
  out.boolean(s.risk.halted);
  out.key("halt_reason");
  out.str_or_null(s.risk.halted ? std::string_view(s.risk.halt_reason) : std::string_view());
  out.key("halt_signal");
  out.str_or_null(s.risk.halted ? std::string_view(s.risk.halt_signal) : std::string_view());
  optional_time(out, "halted_at", s.risk.halted_at);
  out.key("limits");
  out.begin_array();
  for (const status_risk::limit& l : s.risk.limits) {
    out.begin_object();
    out.field("name", l.name);
    amount(out, "used", l.used);
    amount(out, "cap", l.cap);
    out.end_object();
  }
  out.end_array();
  out.end_object();

  out.key("last_decisions");
  out.begin_array();
  for (const status_decision& d : s.last_decisions) {
    out.begin_object();
    out.key("time");
    out.time(d.time);
    out.field("source", d.source);
    out.field("action", d.action);
    out.field("detail", d.detail);
    out.end_object();
  }
  out.end_array();

  out.end_object();
  return out.take();
}

}  // namespace swaprouter
