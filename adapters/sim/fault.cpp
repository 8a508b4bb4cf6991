#include "adapters/sim/fault.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <utility>

namespace swaprouter::sim {

namespace {

constexpr std::array<std::pair<fault_kind, std::string_view>, 13> kind_names{{
    {fault_kind::delay, "delay"},
    {fault_kind::drop, "drop"},
    {fault_kind::reset_before, "reset_before"},
    {fault_kind::reset_after, "reset_after"},
    {fault_kind::status, "status"},
    {fault_kind::truncated_body, "truncated_body"},
    {fault_kind::truncated_chunked, "truncated_chunked"},
    {fault_kind::malformed_json, "malformed_json"},
    {fault_kind::timeout_400, "timeout_400"},
    {fault_kind::redirect, "redirect"},
    {fault_kind::oversize, "oversize"},
    {fault_kind::endless_chunked, "endless_chunked"},
    {fault_kind::short_content_length, "short_content_length"},
}};

std::string_view as_view(const rapidjson::Value& v) {
  return {v.GetString(), static_cast<std::size_t>(v.GetStringLength())};
}

}  // namespace

std::string_view to_string(fault_kind kind) noexcept {
  for (const auto& [k, name] : kind_names) {
    if (k == kind) return name;
  }
  return "unknown";
}

std::optional<fault_kind> parse_fault_kind(std::string_view name) noexcept {
  for (const auto& [k, n] : kind_names) {
    if (n == name) return k;
  }
  return std::nullopt;
}

fault_table::fault_table(std::uint64_t seed) : rng_(seed) {}

void fault_table::set(std::string route_pattern, fault value) {
  std::lock_guard lock(mutex_);
  auto same = [&](const fault_rule& r) {
    return r.route == route_pattern && r.value.method == value.method;
  };
  if (auto it = std::find_if(rules_.begin(), rules_.end(), same); it != rules_.end()) {
    it->value = std::move(value);
    return;
  }
  rules_.push_back(fault_rule{std::move(route_pattern), std::move(value)});
}

bool fault_table::clear(std::string_view route_pattern) {
  std::lock_guard lock(mutex_);
  return std::erase_if(rules_, [&](const fault_rule& r) { return r.route == route_pattern; }) > 0;
}

void fault_table::clear_all() {
  std::lock_guard lock(mutex_);
  rules_.clear();
}

std::vector<fault_rule> fault_table::list() const {
  std::lock_guard lock(mutex_);
  return rules_;
}

std::optional<fault> fault_table::pick(std::string_view route_pattern, std::string_view method) {
  std::lock_guard lock(mutex_);
  auto applies = [&](const fault_rule& r, std::string_view route) {
    return r.route == route && (r.value.method.empty() || r.value.method == method);
  };
  for (std::string_view route : {route_pattern, std::string_view("*")}) {
    for (auto it = rules_.begin(); it != rules_.end(); ++it) {
      if (!applies(*it, route)) continue;
      if (it->value.probability < 1.0 &&
          std::uniform_real_distribution<double>(0.0, 1.0)(rng_) >= it->value.probability) {
        continue;
      }
      fault chosen = it->value;
      if (chosen.delay_max > chosen.delay) {
        chosen.delay = std::chrono::milliseconds(std::uniform_int_distribution<std::int64_t>(
            chosen.delay.count(), chosen.delay_max.count())(rng_));
      }
      chosen.delay_max = chosen.delay;
      if (it->value.remaining > 0 && --it->value.remaining == 0) rules_.erase(it);
      return chosen;
    }
    if (route_pattern == "*") break;
  }
  return std::nullopt;
}

std::expected<fault_rule, std::string> parse_fault_rule(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError()) {
    return std::unexpected(std::string("invalid JSON: ") +
                           rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (!doc.IsObject()) return std::unexpected(std::string("a fault must be a JSON object"));

  fault_rule rule;
  bool has_kind = false;
  for (const auto& member : doc.GetObject()) {
    const std::string_view name = as_view(member.name);
    const rapidjson::Value& v = member.value;
    auto wrong = [&](std::string_view expected) {
      return std::unexpected(std::string(name) + " must be " + std::string(expected));
    };
    if (name == "route") {
      if (!v.IsString() || v.GetStringLength() == 0) return wrong("a non-empty string");
      rule.route = as_view(v);
    } else if (name == "kind") {
      if (!v.IsString()) return wrong("a string");
      auto kind = parse_fault_kind(as_view(v));
      if (!kind) return std::unexpected("unknown fault kind: " + std::string(as_view(v)));
      rule.value.kind = *kind;
      has_kind = true;
    } else if (name == "status") {
      if (!v.IsInt() || v.GetInt() < 100 || v.GetInt() > 599) return wrong("an HTTP status");
      rule.value.status = v.GetInt();
    } else if (name == "body") {
      if (!v.IsString()) return wrong("a string");
      rule.value.body = as_view(v);
    } else if (name == "retry_after_seconds") {
      if (!v.IsInt() || v.GetInt() < 0) return wrong("a non-negative integer");
      rule.value.retry_after_seconds = v.GetInt();
    } else if (name == "retry_after_date") {
      if (!v.IsString()) return wrong("a string");
      rule.value.retry_after_date = as_view(v);
    } else if (name == "delay_ms" || name == "delay_max_ms") {
      if (!v.IsInt64() || v.GetInt64() < 0) return wrong("a non-negative integer");
      (name == "delay_ms" ? rule.value.delay : rule.value.delay_max) =
          std::chrono::milliseconds(v.GetInt64());
    } else if (name == "remaining") {
      if (!v.IsInt() || v.GetInt() == 0 || v.GetInt() < -1)
        return wrong("-1 or a positive integer");
      rule.value.remaining = v.GetInt();
    } else if (name == "probability") {
      if (!v.IsNumber() || !(v.GetDouble() >= 0.0 && v.GetDouble() <= 1.0)) {
        return wrong("a number in [0, 1]");
      }
      rule.value.probability = v.GetDouble();
    } else if (name == "method") {
      if (!v.IsString()) return wrong("a string");
      rule.value.method = as_view(v);
    } else if (name == "run_handler") {
      if (!v.IsBool()) return wrong("a boolean");
      rule.value.run_handler = v.GetBool();
    } else if (name == "size_bytes") {
      if (!v.IsUint64()) return wrong("a non-negative integer");
      rule.value.size_bytes = static_cast<std::size_t>(v.GetUint64());
    } else {
      return std::unexpected("unknown field: " + std::string(name));
    }
  }
  if (rule.route.empty()) return std::unexpected(std::string("route is required"));
  if (!has_kind) return std::unexpected(std::string("kind is required"));
  return rule;
}

std::string faults_to_json(const std::vector<fault_rule>& rules) {
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> w(out);
  w.StartObject();
  w.Key("faults");
  w.StartArray();
  for (const auto& [route, f] : rules) {
    w.StartObject();
    w.Key("route");
    w.String(route);
    w.Key("kind");
    const std::string_view kind = to_string(f.kind);
    w.String(kind.data(), static_cast<rapidjson::SizeType>(kind.size()));
    w.Key("status");
    w.Int(f.status);
    w.Key("body");
    w.String(f.body);
    if (f.retry_after_seconds) {
      w.Key("retry_after_seconds");
      w.Int(*f.retry_after_seconds);
    }
    if (!f.retry_after_date.empty()) {
      w.Key("retry_after_date");
      w.String(f.retry_after_date);
    }
    w.Key("delay_ms");
    w.Int64(f.delay.count());
    w.Key("delay_max_ms");
    w.Int64(f.delay_max.count());
    w.Key("remaining");
    w.Int(f.remaining);
    w.Key("probability");
    w.Double(f.probability);
    w.Key("method");
    w.String(f.method);
    w.Key("run_handler");
    w.Bool(f.run_handler);
    w.Key("size_bytes");
    w.Uint64(f.size_bytes);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(out.GetString(), out.GetSize());
}

std::string format_http_date(std::chrono::system_clock::time_point time) {
  // Fixed English names: HTTP dates must not follow the process locale.
  static constexpr std::array<const char*, 7> days{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[64];
  std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                days[static_cast<std::size_t>(tm.tm_wday)], tm.tm_mday,
                months[static_cast<std::size_t>(tm.tm_mon)], tm.tm_year + 1900, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
  return text;
}

std::chrono::microseconds latency_model::sample(std::mt19937_64& rng) const {
  using std::chrono::microseconds;
  if (p50.count() <= 0) return microseconds{0};
  if (p99 <= p50) return std::chrono::duration_cast<microseconds>(p50);
  constexpr double z99 = 2.3263478740408408;
  const double median_us = static_cast<double>(microseconds(p50).count());
  const double p99_us = static_cast<double>(microseconds(p99).count());
  const double sigma = std::log(p99_us / median_us) / z99;
  const double drawn = std::lognormal_distribution<double>(std::log(median_us), sigma)(rng);
  return microseconds(static_cast<std::int64_t>(std::min(drawn, 4.0 * p99_us)));
}

}  // namespace swaprouter::sim
