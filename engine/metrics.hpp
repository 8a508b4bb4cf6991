// A small metrics registry rendered in the Prometheus text exposition format 0.0.4, and the
// families the bot exports. Written here rather than taken from prometheus-cpp (not packaged in
// Debian 12).
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/circuit_breaker.hpp"
#include "engine/decimal.hpp"

namespace swaprouter::metrics {

enum class metric_type : std::uint8_t { counter, gauge, histogram };

/// "counter", "gauge" or "histogram", as on a # TYPE line.
std::string_view to_string(metric_type type) noexcept;

/// Formats a sample value as the exposition format expects: shortest round-trip decimal or
/// exponent form ("0.25", "1e+06"), "NaN", "+Inf", "-Inf". Pure.
std::string format_value(double value);

/// Escapes a label value: backslash, double quote and line feed become \\, \" and \n. Pure.
std::string escape_label_value(std::string_view value);

/// Escapes HELP text: backslash and line feed become \\ and \n. Pure.
std::string escape_help(std::string_view text);

/// A decimal as a double, for display only: the nearest double to its exact text. Metrics are
/// for people and dashboards; nothing in the engine decides on a metric value. Pure.
double to_display_double(decimal value) noexcept;

/// Latency buckets in seconds (upper bounds), 1 ms to 10 s, for quote and order round trips.
std::vector<double> default_latency_buckets();

/// A monotonically increasing count. The handle stays valid as long as its registry.
class counter {
 public:
  /// Adds `amount`; negative or NaN amounts are ignored (a counter never goes down).
  void inc(double amount = 1.0) noexcept;
  double value() const noexcept { return value_; }

 private:
  double value_ = 0;
};

/// A value that goes up and down. The handle stays valid as long as its registry.
class gauge {
 public:
  void set(double value) noexcept { value_ = value; }
  /// Money: the exact decimal converted for display only (see to_display_double).
  void set(decimal value) noexcept { value_ = to_display_double(value); }
  void add(double amount) noexcept { value_ += amount; }
  double value() const noexcept { return value_; }

 private:
  double value_ = 0;
};

/// Observations counted in fixed buckets (le = upper bound, inclusive), with their sum and count.
/// The handle stays valid as long as its registry.
class histogram {
 public:
  /// `bounds` strictly increasing and finite (checked by the registry).
  explicit histogram(const std::vector<double>* bounds);
  /// Counts `value` in the first bucket whose bound is >= value (+Inf when none); NaN is ignored.
  void observe(double value) noexcept;
  void observe(std::chrono::nanoseconds elapsed) noexcept;

  std::uint64_t count() const noexcept { return count_; }
  double sum() const noexcept { return sum_; }
  /// Cumulative count of observations <= bounds()[i]; i == bounds().size() gives count().
  std::uint64_t cumulative(std::size_t i) const noexcept;
  const std::vector<double>& bounds() const noexcept { return *bounds_; }

 private:
  const std::vector<double>* bounds_;
  std::vector<std::uint64_t> counts_;  // per bucket, not cumulative; the last one is +Inf
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

/// One metric family: a name, help text, fixed label names and one series per label value tuple.
/// `with` finds or creates the series for the given label values (in label-name order) and
/// returns a reference that stays valid as long as the registry; a caller may keep it. A wrong
/// number of label values is a programming error: std::invalid_argument.
template <class Series>
class family {
 public:
  Series& with(std::initializer_list<std::string_view> values);
  Series& with(const std::vector<std::string>& values);
  /// The series without labels (a family declared with no label names).
  Series& get() { return with({}); }

  const std::string& name() const noexcept { return name_; }
  const std::vector<std::string>& label_names() const noexcept { return label_names_; }
  std::size_t size() const noexcept { return series_.size(); }

 private:
  friend class registry;
  family(std::string name, std::string help, std::vector<std::string> label_names,
         std::vector<double> bounds);
  void render(std::string& out, metric_type type) const;

  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  std::vector<double> bounds_;                                          // histograms only
  std::map<std::vector<std::string>, std::unique_ptr<Series>> series_;  // sorted: stable output
};

using counter_family = family<counter>;
using gauge_family = family<gauge>;
using histogram_family = family<histogram>;

/// Owns every family and renders them.
///
/// Names follow the exposition grammar (metric [a-zA-Z_:][a-zA-Z0-9_:]*, label
/// [a-zA-Z_][a-zA-Z0-9_]*, no "__" prefix, no "le" on a histogram); a bad name, a name used twice
/// (a histogram also takes NAME_bucket, NAME_sum and NAME_count) or bad buckets throw
/// std::invalid_argument when the family is added.
///
/// Thread-safety: none. The engine runs on one thread (its io_context); the bot updates metrics
/// and the listener renders them on that thread. Not copyable or movable: handles point into it.
class registry {
 public:
  /// `process_metrics` adds process_resident_memory_bytes, process_start_time_seconds and
  /// process_uptime_seconds, read at each render.
  explicit registry(bool process_metrics = true);
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;
  ~registry();

  counter_family& add_counter(std::string name, std::string help,
                              std::vector<std::string> label_names = {});
  gauge_family& add_gauge(std::string name, std::string help,
                          std::vector<std::string> label_names = {});
  histogram_family& add_histogram(std::string name, std::string help,
                                  std::vector<std::string> label_names,
                                  std::vector<double> bounds = default_latency_buckets());

  /// Every family in the order added, then the process metrics: "# HELP", "# TYPE", then one
  /// line per sample, "\n" after every line. A family without series yet shows HELP and TYPE only.
  std::string render() const;

  /// Names of every family, process metrics included, in render order.
  std::vector<std::string> family_names() const;

 private:
  void reserve_name(const std::string& name, metric_type type,
                    const std::vector<std::string>& label_names);

  struct entry;
  std::vector<std::unique_ptr<entry>> families_;
  std::vector<std::string> used_names_;
  bool process_metrics_;
  double start_time_seconds_;
};

/// Resident set size of this process in bytes (/proc/self/statm); 0 when unreadable.
std::uint64_t resident_memory_bytes() noexcept;
/// When this process started, in seconds since the epoch (/proc/self/stat and /proc/stat btime);
/// 0 when unreadable.
double process_start_time_seconds() noexcept;

/// The bot's metric families, registered in `registry` under the names below, as handles the bot
/// only increments or sets. Labels: provider (venue name), pair ("BTC/USDT"), asset, state.
/// Money (rates, amounts, fees) are gauges set from exact decimals, converted for display only.
struct bot_metrics {
  explicit bot_metrics(registry& r);

  histogram_family& quote_latency;   ///< swaprouter_quote_latency_seconds{provider}
  gauge_family& quote_age;           ///< swaprouter_quote_age_seconds{provider,pair}
  gauge_family& best_net_rate;       ///< swaprouter_best_net_rate{pair}
  gauge_family& provider_spread;     ///< swaprouter_provider_spread_ratio{pair}
  counter_family& swaps;             ///< swaprouter_swaps_total{provider,state}
  gauge_family& filled_amount;       ///< swaprouter_filled_amount{provider,asset}
  gauge_family& fees_paid;           ///< swaprouter_fees_paid{provider,asset}
  counter_family& unknown_outcomes;  ///< swaprouter_unknown_outcomes_total{provider}
  counter_family& rate_limited;      ///< swaprouter_rate_limited_total{provider} (HTTP 429)
  gauge_family& circuit;       ///< swaprouter_circuit_state{provider,state}: 1 current, 0 else
  gauge_family& clock_offset;  ///< swaprouter_clock_offset_seconds{provider}
  gauge_family& journal_size;  ///< swaprouter_journal_size_bytes
  gauge_family& halted;        ///< swaprouter_halted: 1 while the risk manager halts

  /// Sets swaprouter_circuit_state for every state of `provider`: 1 for `state`, 0 for the others.
  void set_circuit(std::string_view provider, circuit_state state);
};

}  // namespace swaprouter::metrics
