#include "engine/metrics.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <type_traits>

namespace swaprouter::metrics {

namespace {

bool is_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

bool is_label_name(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

void append_labels(std::string& out, const std::vector<std::string>& names,
                   const std::vector<std::string>& values, std::string_view le = {}) {
  if (names.empty() && le.empty()) return;
  out += '{';
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    out += escape_label_value(values[i]);
    out += '"';
  }
  if (!le.empty()) {
    if (!names.empty()) out += ',';
    out += "le=\"";
    out += le;
    out += '"';
  }
  out += '}';
}

void append_header(std::string& out, std::string_view name, std::string_view help,
                   metric_type type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += escape_help(help);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += to_string(type);
  out += '\n';
}

void append_sample(std::string& out, std::string_view name, double value) {
  out += name;
  out += ' ';
  out += format_value(value);
  out += '\n';
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string_view to_string(metric_type type) noexcept {
  switch (type) {
    case metric_type::counter:
      return "counter";
    case metric_type::gauge:
      return "gauge";
    case metric_type::histogram:
      return "histogram";
  }
  return "untyped";
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char text[32];
  const auto [end, ec] = std::to_chars(text, text + sizeof text, value);
  if (ec != std::errc()) return "NaN";  // cannot happen: 32 bytes hold any shortest double
  return std::string(text, end);
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

double to_display_double(decimal value) noexcept {
  try {
    const std::string text = value.to_string();
    double out = 0;
    // from_chars, not strtod: independent of the C locale.
    std::from_chars(text.data(), text.data() + text.size(), out);
    return out;
  } catch (...) {
    return std::nan("");
  }
}

std::vector<double> default_latency_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

void counter::inc(double amount) noexcept {
  if (amount >= 0) value_ += amount;  // false for NaN too
}

histogram::histogram(const std::vector<double>* bounds)
    : bounds_(bounds), counts_(bounds->size() + 1, 0) {}

void histogram::observe(double value) noexcept {
  if (std::isnan(value)) return;
  const auto it = std::lower_bound(bounds_->begin(), bounds_->end(), value);
  ++counts_[static_cast<std::size_t>(it - bounds_->begin())];
  ++count_;
  sum_ += value;
}

void histogram::observe(std::chrono::nanoseconds elapsed) noexcept {
  observe(std::chrono::duration<double>(elapsed).count());
}

std::uint64_t histogram::cumulative(std::size_t i) const noexcept {
  std::uint64_t total = 0;
  for (std::size_t b = 0; b <= i && b < counts_.size(); ++b) total += counts_[b];
  return total;
}

template <class Series>
family<Series>::family(std::string name, std::string help, std::vector<std::string> label_names,
                       std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      bounds_(std::move(bounds)) {}

template <class Series>
Series& family<Series>::with(std::initializer_list<std::string_view> values) {
  std::vector<std::string> key;
  key.reserve(values.size());
  for (const std::string_view v : values) key.emplace_back(v);
  return with(key);
}

template <class Series>
Series& family<Series>::with(const std::vector<std::string>& values) {
  if (values.size() != label_names_.size()) {
    throw std::invalid_argument(name_ + ": " + std::to_string(label_names_.size()) +
                                " label values expected, got " + std::to_string(values.size()));
  }
  auto it = series_.find(values);
  if (it == series_.end()) {
    std::unique_ptr<Series> series;
    if constexpr (std::is_same_v<Series, histogram>) {
      series = std::make_unique<histogram>(&bounds_);
    } else {
      series = std::make_unique<Series>();
    }
    it = series_.emplace(values, std::move(series)).first;
  }
  return *it->second;
}

template <class Series>
void family<Series>::render(std::string& out, metric_type type) const {
  append_header(out, name_, help_, type);
  for (const auto& [values, series] : series_) {
    if constexpr (std::is_same_v<Series, histogram>) {
      const std::string bucket = name_ + "_bucket";
      for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        out += bucket;
        const std::string le = i < bounds_.size() ? format_value(bounds_[i]) : "+Inf";
        append_labels(out, label_names_, values, le);
        out += ' ';
        out += std::to_string(series->cumulative(i));
        out += '\n';
      }
      out += name_;
      out += "_sum";
      append_labels(out, label_names_, values);
      out += ' ';
      out += format_value(series->sum());
      out += '\n';
      out += name_;
      out += "_count";
      append_labels(out, label_names_, values);
      out += ' ';
      out += std::to_string(series->count());
      out += '\n';
    } else {
      out += name_;
      append_labels(out, label_names_, values);
      out += ' ';
      out += format_value(series->value());
      out += '\n';
    }
  }
}

template class family<counter>;
template class family<gauge>;
template class family<histogram>;

struct registry::entry {
  metric_type type;
  std::unique_ptr<counter_family> counters;
  std::unique_ptr<gauge_family> gauges;
  std::unique_ptr<histogram_family> histograms;
};

namespace {
constexpr std::string_view rss_name = "process_resident_memory_bytes";
constexpr std::string_view start_name = "process_start_time_seconds";
constexpr std::string_view uptime_name = "process_uptime_seconds";
}  // namespace

registry::registry(bool process_metrics)
    : process_metrics_(process_metrics), start_time_seconds_(process_start_time_seconds()) {
  if (start_time_seconds_ <= 0) start_time_seconds_ = now_seconds();
  if (process_metrics_) {
    used_names_ = {std::string(rss_name), std::string(start_name), std::string(uptime_name)};
  }
}

registry::~registry() = default;

void registry::reserve_name(const std::string& name, metric_type type,
                            const std::vector<std::string>& label_names) {
  if (!is_metric_name(name)) throw std::invalid_argument("bad metric name: " + name);
  std::vector<std::string> names{name};
  if (type == metric_type::histogram) {
    names.push_back(name + "_bucket");
    names.push_back(name + "_sum");
    names.push_back(name + "_count");
  }
  for (const auto& n : names) {
    if (std::find(used_names_.begin(), used_names_.end(), n) != used_names_.end()) {
      throw std::invalid_argument("metric name already used: " + n);
    }
  }
  for (std::size_t i = 0; i < label_names.size(); ++i) {
    const std::string& l = label_names[i];
    if (!is_label_name(l)) throw std::invalid_argument(name + ": bad label name: " + l);
    if (type == metric_type::histogram && l == "le") {
      throw std::invalid_argument(name + ": a histogram cannot have a label named le");
    }
    if (std::find(label_names.begin(), label_names.begin() + static_cast<std::ptrdiff_t>(i), l) !=
        label_names.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw std::invalid_argument(name + ": label name repeated: " + l);
    }
  }
  used_names_.insert(used_names_.end(), names.begin(), names.end());
}

counter_family& registry::add_counter(std::string name, std::string help,
                                      std::vector<std::string> label_names) {
  reserve_name(name, metric_type::counter, label_names);
  auto e = std::make_unique<entry>();
  e->type = metric_type::counter;
  e->counters.reset(
      new counter_family(std::move(name), std::move(help), std::move(label_names), {}));
  counter_family& out = *e->counters;
  if (out.label_names().empty()) out.get();  // an unlabelled series exists from the start: 0
  families_.push_back(std::move(e));
  return out;
}

gauge_family& registry::add_gauge(std::string name, std::string help,
                                  std::vector<std::string> label_names) {
  reserve_name(name, metric_type::gauge, label_names);
  auto e = std::make_unique<entry>();
  e->type = metric_type::gauge;
  e->gauges.reset(new gauge_family(std::move(name), std::move(help), std::move(label_names), {}));
  gauge_family& out = *e->gauges;
  if (out.label_names().empty()) out.get();
  families_.push_back(std::move(e));
  return out;
}

histogram_family& registry::add_histogram(std::string name, std::string help,
                                          std::vector<std::string> label_names,
                                          std::vector<double> bounds) {
  if (bounds.empty()) throw std::invalid_argument(name + ": a histogram needs buckets");
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1]))) {
      throw std::invalid_argument(name + ": buckets must be finite and strictly increasing");
    }
  }
  reserve_name(name, metric_type::histogram, label_names);
  auto e = std::make_unique<entry>();
  e->type = metric_type::histogram;
  e->histograms.reset(new histogram_family(std::move(name), std::move(help), std::move(label_names),
                                           std::move(bounds)));
  histogram_family& out = *e->histograms;
  if (out.label_names().empty()) out.get();
  families_.push_back(std::move(e));
  return out;
}

std::string registry::render() const {
  std::string out;
  out.reserve(4096);
  for (const auto& e : families_) {
    switch (e->type) {
      case metric_type::counter:
        e->counters->render(out, e->type);
        break;
      case metric_type::gauge:
        e->gauges->render(out, e->type);
        break;
      case metric_type::histogram:
        e->histograms->render(out, e->type);
        break;
    }
  }
  if (process_metrics_) {
    append_header(out, rss_name, "Resident memory size in bytes.", metric_type::gauge);
    append_sample(out, rss_name, static_cast<double>(resident_memory_bytes()));
    append_header(out, start_name, "Start time of the process since unix epoch in seconds.",
                  metric_type::gauge);
    append_sample(out, start_name, start_time_seconds_);
    append_header(out, uptime_name, "Seconds since the process started.", metric_type::gauge);
    append_sample(out, uptime_name, std::max(0.0, now_seconds() - start_time_seconds_));
  }
  return out;
}

std::vector<std::string> registry::family_names() const {
  std::vector<std::string> out;
  for (const auto& e : families_) {
    switch (e->type) {
      case metric_type::counter:
        out.push_back(e->counters->name());
        break;
      case metric_type::gauge:
        out.push_back(e->gauges->name());
        break;
      case metric_type::histogram:
        out.push_back(e->histograms->name());
        break;
    }
  }
  if (process_metrics_) {
    out.emplace_back(rss_name);
    out.emplace_back(start_name);
    out.emplace_back(uptime_name);
  }
  return out;
}

std::uint64_t resident_memory_bytes() noexcept {
  try {
    std::ifstream statm("/proc/self/statm");
    std::uint64_t size = 0;
    std::uint64_t resident = 0;
    if (!(statm >> size >> resident)) return 0;
    const long page = sysconf(_SC_PAGESIZE);
    return page > 0 ? resident * static_cast<std::uint64_t>(page) : 0;
  } catch (...) {
    return 0;
  }
}

double process_start_time_seconds() noexcept {
  try {
    std::ifstream stat_file("/proc/self/stat");
    std::string line;
    if (!std::getline(stat_file, line)) return 0;
    // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
    const std::size_t close = line.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream fields(line.substr(close + 1));
    std::string field;
    std::uint64_t start_ticks = 0;
    for (int n = 3; fields >> field; ++n) {
      if (n == 22) {
        start_ticks = std::stoull(field);
        break;
      }
    }
    std::ifstream proc_stat("/proc/stat");
    std::uint64_t boot_time = 0;
    while (std::getline(proc_stat, line)) {
      if (line.starts_with("btime ")) {
        boot_time = std::stoull(line.substr(6));
        break;
      }
    }
    const long ticks = sysconf(_SC_CLK_TCK);
    if (boot_time == 0 || start_ticks == 0 || ticks <= 0) return 0;
    return static_cast<double>(boot_time) +
           static_cast<double>(start_ticks) / static_cast<double>(ticks);
  } catch (...) {
    return 0;
  }
}

bot_metrics::bot_metrics(registry& r)
    : quote_latency(r.add_histogram("swaprouter_quote_latency_seconds",
                                    "Quote round trip per provider, in seconds.", {"provider"})),
      quote_age(r.add_gauge("swaprouter_quote_age_seconds",
                            "Age of the freshest quote per provider and pair, in seconds.",
                            {"provider", "pair"})),
      best_net_rate(r.add_gauge("swaprouter_best_net_rate",
                                "Best net rate per pair after fees (display only).", {"pair"})),
      provider_spread(r.add_gauge(
          "swaprouter_provider_spread_ratio",
          "Spread between the best and worst provider net rates per pair, (best-worst)/best.",
          {"pair"})),
      swaps(r.add_counter("swaprouter_swaps_total", "Swap legs that reached each state.",
                          {"provider", "state"})),
      filled_amount(r.add_gauge("swaprouter_filled_amount",
                                "Amount filled since start per provider and asset (display only).",
                                {"provider", "asset"})),
      fees_paid(r.add_gauge("swaprouter_fees_paid",
                            "Fees paid since start per provider and asset (display only).",
                            {"provider", "asset"})),
      unknown_outcomes(r.add_counter("swaprouter_unknown_outcomes_total",
                                     "Orders whose outcome was unknown when sent.", {"provider"})),
      rate_limited(r.add_counter("swaprouter_rate_limited_total", "HTTP 429 answers per provider.",
                                 {"provider"})),
      circuit(r.add_gauge("swaprouter_circuit_state",
                          "Circuit breaker state per provider: 1 for the current state.",
                          {"provider", "state"})),
      clock_offset(r.add_gauge("swaprouter_clock_offset_seconds",
                               "Provider clock minus local clock, in seconds.", {"provider"})),
      journal_size(r.add_gauge("swaprouter_journal_size_bytes", "Size of the journal file.")),
      halted(r.add_gauge("swaprouter_halted", "1 while trading is halted, 0 otherwise.")) {}

void bot_metrics::set_circuit(std::string_view provider, circuit_state state) {
  for (const circuit_state s :
       {circuit_state::closed, circuit_state::half_open, circuit_state::open}) {
    circuit.with({provider, to_string(s)}).set(s == state ? 1.0 : 0.0);
  }
}

}  // namespace swaprouter::metrics
