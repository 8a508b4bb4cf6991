// The metrics registry: a strict parser for the Prometheus text format 0.0.4 reads what render()
// writes; label escaping; histogram bucket math; name checks; the bot's families.
#include "engine/metrics.hpp"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace swaprouter::metrics {
namespace {

// --- A strict 0.0.4 parser: throws std::runtime_error naming the line on anything off-grammar.

struct sample {
  std::string name;
  std::map<std::string, std::string> labels;  // unescaped values
  double value = 0;
};

struct parsed_family {
  std::string help;
  std::string type;
  std::vector<sample> samples;
};

struct exposition {
  std::vector<std::string> order;  // family names as they appear
  std::map<std::string, parsed_family> families;
};

bool metric_char(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
         (!first && c >= '0' && c <= '9');
}

double parse_value(std::string_view text, const std::string& where) {
  if (text == "NaN") return std::nan("");
  if (text == "+Inf") return INFINITY;
  if (text == "-Inf") return -INFINITY;
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw std::runtime_error("bad value '" + std::string(text) + "' in " + where);
  }
  return v;
}

std::string family_of(const std::string& name, const exposition& e) {
  for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      const std::string base = name.substr(0, name.size() - suffix.size());
      const auto it = e.families.find(base);
      if (it != e.families.end() && it->second.type == "histogram") return base;
    }
  }
  return name;
}

exposition parse_exposition(const std::string& text) {
  if (text.empty() || text.back() != '\n') throw std::runtime_error("must end with a newline");
  exposition e;
  std::string current;  // family whose lines we are in
  std::set<std::string> closed;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    const std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty()) throw std::runtime_error("empty line");
    auto enter = [&](const std::string& name) {
      if (name == current) return;
      if (closed.contains(name)) throw std::runtime_error("family repeated: " + name);
      if (!current.empty()) closed.insert(current);
      current = name;
      if (!e.families.contains(name)) e.order.push_back(name);
      e.families[name];
    };
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
      const std::string rest = line.substr(7);
      const std::size_t sp = rest.find(' ');
      if (sp == std::string::npos) throw std::runtime_error("no text: " + line);
      const std::string name = rest.substr(0, sp);
      for (std::size_t i = 0; i < name.size(); ++i) {
        if (!metric_char(name[i], i == 0)) throw std::runtime_error("bad name: " + line);
      }
      enter(name);
      parsed_family& f = e.families[name];
      if (line[2] == 'H') {
        if (!f.help.empty()) throw std::runtime_error("second HELP: " + line);
        const std::string help = rest.substr(sp + 1);
        for (std::size_t i = 0; i < help.size(); ++i) {
          if (help[i] == '\\') {
            if (i + 1 >= help.size() || (help[i + 1] != '\\' && help[i + 1] != 'n')) {
              throw std::runtime_error("bad HELP escape: " + line);
            }
            ++i;
          }
        }
        f.help = help;
      } else {
        if (!f.type.empty()) throw std::runtime_error("second TYPE: " + line);
        if (!f.samples.empty()) throw std::runtime_error("TYPE after samples: " + line);
        f.type = rest.substr(sp + 1);
        if (f.type != "counter" && f.type != "gauge" && f.type != "histogram" &&
            f.type != "summary" && f.type != "untyped") {
          throw std::runtime_error("bad TYPE: " + line);
        }
      }
      continue;
    }
    if (line.front() == '#') continue;  // other comments are allowed
    // A sample: name [{labels}] value [timestamp]
    std::size_t i = 0;
    while (i < line.size() && metric_char(line[i], i == 0)) ++i;
    if (i == 0) throw std::runtime_error("bad sample name: " + line);
    sample s;
    s.name = line.substr(0, i);
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        const std::size_t start = i;
        while (i < line.size() && (metric_char(line[i], i == start) && line[i] != ':')) ++i;
        if (i == start || i >= line.size() || line[i] != '=') {
          throw std::runtime_error("bad label name: " + line);
        }
        const std::string label = line.substr(start, i - start);
        if (++i >= line.size() || line[i] != '"') throw std::runtime_error("no quote: " + line);
        ++i;
        std::string value;
        for (;; ++i) {
          if (i >= line.size()) throw std::runtime_error("unterminated value: " + line);
          if (line[i] == '"') break;
          if (line[i] == '\\') {
            ++i;
            if (i >= line.size()) throw std::runtime_error("bad escape: " + line);
            if (line[i] == '\\') {
              value += '\\';
            } else if (line[i] == '"') {
              value += '"';
            } else if (line[i] == 'n') {
              value += '\n';
            } else {
              throw std::runtime_error("bad escape: " + line);
            }
          } else {
            value += line[i];
          }
        }
        ++i;  // closing quote
        if (!s.labels.emplace(label, value).second) {
          throw std::runtime_error("label repeated: " + line);
        }
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) throw std::runtime_error("unterminated labels: " + line);
      ++i;  // '}'
    }
    if (i >= line.size() || line[i] != ' ') throw std::runtime_error("no space: " + line);
    ++i;
    const std::string rest = line.substr(i);
    const std::size_t sp = rest.find(' ');
    s.value = parse_value(rest.substr(0, sp), line);
    if (sp != std::string::npos) {
      std::int64_t ts = 0;
      const std::string t = rest.substr(sp + 1);
      const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), ts);
      if (ec != std::errc() || end != t.data() + t.size()) {
        throw std::runtime_error("bad timestamp: " + line);
      }
    }
    const std::string fam = family_of(s.name, e);
    enter(fam);
    parsed_family& f = e.families[fam];
    if (f.type == "counter" && (s.value < 0 || std::isnan(s.value))) {
      throw std::runtime_error("counter below 0: " + line);
    }
    if (f.type == "histogram" && s.name.ends_with("_bucket") && !s.labels.contains("le")) {
      throw std::runtime_error("bucket without le: " + line);
    }
    f.samples.push_back(std::move(s));
  }
  // Histogram rules: per label set, cumulative buckets ending in +Inf that equals _count.
  for (const auto& [name, f] : e.families) {
    if (f.type != "histogram") continue;
    std::map<std::map<std::string, std::string>, std::vector<std::pair<double, double>>> buckets;
    std::map<std::map<std::string, std::string>, double> counts;
    std::map<std::map<std::string, std::string>, bool> sums;
    for (const sample& s : f.samples) {
      auto labels = s.labels;
      if (s.name == name + "_bucket") {
        const double le = parse_value(labels.at("le"), s.name);
        labels.erase("le");
        buckets[labels].emplace_back(le, s.value);
      } else if (s.name == name + "_count") {
        counts[labels] = s.value;
      } else if (s.name == name + "_sum") {
        sums[labels] = true;
      } else {
        throw std::runtime_error("stray sample in histogram " + name + ": " + s.name);
      }
    }
    for (const auto& [labels, list] : buckets) {
      for (std::size_t i = 1; i < list.size(); ++i) {
        if (!(list[i].first > list[i - 1].first) || list[i].second < list[i - 1].second) {
          throw std::runtime_error(name + ": buckets not increasing");
        }
      }
      if (list.empty() || !std::isinf(list.back().first)) {
        throw std::runtime_error(name + ": no +Inf bucket");
      }
      if (!counts.contains(labels) || counts.at(labels) != list.back().second) {
        throw std::runtime_error(name + ": _count differs from the +Inf bucket");
      }
      if (!sums.contains(labels)) throw std::runtime_error(name + ": no _sum");
    }
  }
  return e;
}

const sample* find_sample(const exposition& e, const std::string& family, const std::string& name,
                          const std::map<std::string, std::string>& labels) {
  const auto it = e.families.find(family);
  if (it == e.families.end()) return nullptr;
  for (const sample& s : it->second.samples) {
    if (s.name == name && s.labels == labels) return &s;
  }
  return nullptr;
}

// --- Tests.

TEST(MetricsFormat, ValuesAndEscapes) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(-3), "-3");
  EXPECT_EQ(format_value(1e6), "1e+06");
  EXPECT_EQ(format_value(INFINITY), "+Inf");
  EXPECT_EQ(format_value(-INFINITY), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
  EXPECT_EQ(escape_label_value(R"(a\b"c)"
                               "\n"
                               "d"),
            R"(a\\b\"c\nd)");
  EXPECT_EQ(escape_label_value("plain/USDT"), "plain/USDT");
  EXPECT_EQ(escape_help("x\\y\n\"z\""), "x\\\\y\\n\"z\"");
}

TEST(MetricsFormat, DecimalsConvertForDisplayOnly) {
  EXPECT_EQ(to_display_double(*decimal::parse("29485.25")), 29485.25);
  EXPECT_EQ(to_display_double(*decimal::parse("-0.00003390")), -0.0000339);
  EXPECT_EQ(to_display_double(decimal()), 0.0);
}

TEST(MetricsRegistry, RendersExactText) {
  registry r(false);
  auto& c = r.add_counter("x_total", "Things.\nSecond line \\ here.", {"provider"});
  c.with({"a"}).inc();
  c.with({"a"}).inc(2);
  c.with({"b\"\\\n"}).inc(-5);  // ignored: counters never go down
  auto& g = r.add_gauge("y", "A gauge.");
  g.get().set(1.5);
  auto& h = r.add_histogram("lat_seconds", "Latency.", {"provider"}, {0.1, 1});
  h.with({"p"}).observe(0.1);  // le is inclusive
  h.with({"p"}).observe(0.5);
  h.with({"p"}).observe(7.0);
  EXPECT_EQ(r.render(),
            "# HELP x_total Things.\\nSecond line \\\\ here.\n"
            "# TYPE x_total counter\n"
            "x_total{provider=\"a\"} 3\n"
            "x_total{provider=\"b\\\"\\\\\\n\"} 0\n"
            "# HELP y A gauge.\n"
            "# TYPE y gauge\n"
            "y 1.5\n"
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{provider=\"p\",le=\"0.1\"} 1\n"
            "lat_seconds_bucket{provider=\"p\",le=\"1\"} 2\n"
            "lat_seconds_bucket{provider=\"p\",le=\"+Inf\"} 3\n"
            "lat_seconds_sum{provider=\"p\"} 7.6\n"
            "lat_seconds_count{provider=\"p\"} 3\n");
}

TEST(MetricsRegistry, HistogramBucketMath) {
  registry r(false);
  auto& h = r.add_histogram("h_seconds", "H.", {}, {0.01, 0.1, 1});
  histogram& s = h.get();
  for (const double v : {0.0, 0.01, 0.0100001, 0.05, 0.1, 0.2, 1.0, 1.5, 100.0, -1.0}) s.observe(v);
  s.observe(std::nan(""));  // ignored
  s.observe(std::chrono::milliseconds(50));
  EXPECT_EQ(s.count(), 11u);
  EXPECT_EQ(s.cumulative(0), 3u);   // 0, 0.01, -1
  EXPECT_EQ(s.cumulative(1), 7u);   // + 0.0100001, 0.05, 0.1, 50 ms
  EXPECT_EQ(s.cumulative(2), 9u);   // + 0.2, 1.0
  EXPECT_EQ(s.cumulative(3), 11u);  // + 1.5, 100 (+Inf)
  EXPECT_NEAR(s.sum(), 0.0 + 0.01 + 0.0100001 + 0.05 + 0.1 + 0.2 + 1 + 1.5 + 100 - 1 + 0.05, 1e-9);
  const exposition e = parse_exposition(r.render());
  EXPECT_EQ(find_sample(e, "h_seconds", "h_seconds_bucket", {{"le", "0.1"}})->value, 7);
  EXPECT_EQ(find_sample(e, "h_seconds", "h_seconds_bucket", {{"le", "+Inf"}})->value, 11);
  EXPECT_EQ(find_sample(e, "h_seconds", "h_seconds_count", {})->value, 11);
}

TEST(MetricsRegistry, RefusesBadOrDuplicateNames) {
  registry r;
  r.add_counter("a_total", "A.");
  EXPECT_THROW(r.add_counter("a_total", "again"), std::invalid_argument);
  EXPECT_THROW(r.add_gauge("process_resident_memory_bytes", "taken"), std::invalid_argument);
  r.add_histogram("h", "H.", {});
  EXPECT_THROW(r.add_gauge("h_bucket", "collides"), std::invalid_argument);
  EXPECT_THROW(r.add_gauge("h_count", "collides"), std::invalid_argument);
  EXPECT_THROW(r.add_gauge("1abc", "bad"), std::invalid_argument);
  EXPECT_THROW(r.add_gauge("a-b", "bad"), std::invalid_argument);
  EXPECT_THROW(r.add_gauge("ok", "bad label", {"__x"}), std::invalid_argument);
  EXPECT_THROW(r.add_gauge("ok2", "bad label", {"a:b"}), std::invalid_argument);
  EXPECT_THROW(r.add_gauge("ok3", "repeated", {"a", "a"}), std::invalid_argument);
  EXPECT_THROW(r.add_histogram("h2", "le", {"le"}), std::invalid_argument);
  EXPECT_THROW(r.add_histogram("h3", "order", {}, {1, 1}), std::invalid_argument);
  EXPECT_THROW(r.add_histogram("h4", "inf", {}, {1, INFINITY}), std::invalid_argument);
  auto& g = r.add_gauge("g", "G.", {"provider", "pair"});
  EXPECT_THROW(g.with({"only one"}), std::invalid_argument);
  EXPECT_NO_THROW(parse_exposition(r.render()));
}

TEST(MetricsRegistry, HandlesStayValidAsSeriesGrow) {
  registry r(false);
  auto& g = r.add_gauge("g", "G.", {"k"});
  gauge& first = g.with({"m"});
  for (int i = 0; i < 200; ++i) g.with({std::to_string(i)}).set(i);
  first.set(42);
  EXPECT_EQ(g.with({"m"}).value(), 42);
  EXPECT_EQ(g.size(), 201u);
}

TEST(MetricsRegistry, ProcessMetricsAreReadFromProc) {
  EXPECT_GT(resident_memory_bytes(), 0u);
  const double start = process_start_time_seconds();
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_GT(start, now - 24 * 3600);  // tests do not run for a day
  EXPECT_LE(start, now + 1);
  registry r;
  const exposition e = parse_exposition(r.render());
  EXPECT_GT(
      find_sample(e, "process_resident_memory_bytes", "process_resident_memory_bytes", {})->value,
      0);
  EXPECT_GE(find_sample(e, "process_uptime_seconds", "process_uptime_seconds", {})->value, 0);
}

TEST(BotMetrics, EveryFamilyTheIssueListsParses) {
  registry r;
  bot_metrics m(r);
  m.quote_latency.with({"onek"}).observe(0.042);
  m.quote_latency.with({"kiiex"}).observe(std::chrono::milliseconds(230));
  m.quote_age.with({"onek", "BTC/USDT"}).set(1.25);
  m.best_net_rate.with({"BTC/USDT"}).set(*decimal::parse("29485.25"));
  m.provider_spread.with({"BTC/USDT"}).set(0.0021);
  m.swaps.with({"onek", "filled"}).inc();
  m.swaps.with({"onek", "unknown"}).inc();
  m.filled_amount.with({"onek", "USDT"}).set(*decimal::parse("100.5"));
  m.fees_paid.with({"onek", "USDT"}).set(*decimal::parse("0.1005"));
  m.unknown_outcomes.with({"onek"}).inc();
  m.rate_limited.with({"kiiex"}).inc(3);
  m.set_circuit("kiiex", circuit_state::open);
  m.clock_offset.with({"onek"}).set(-0.012);
  m.journal_size.get().set(4096);
  m.halted.get().set(0);

  const std::string text = r.render();
  const exposition e = parse_exposition(text);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"swaprouter_quote_latency_seconds", "histogram"},
      {"swaprouter_quote_age_seconds", "gauge"},
      {"swaprouter_best_net_rate", "gauge"},
      {"swaprouter_provider_spread_ratio", "gauge"},
      {"swaprouter_swaps_total", "counter"},
      {"swaprouter_filled_amount", "gauge"},
      {"swaprouter_fees_paid", "gauge"},
      {"swaprouter_unknown_outcomes_total", "counter"},
      {"swaprouter_rate_limited_total", "counter"},
      {"swaprouter_circuit_state", "gauge"},
      {"swaprouter_clock_offset_seconds", "gauge"},
      {"swaprouter_journal_size_bytes", "gauge"},
      {"swaprouter_halted", "gauge"},
      {"process_resident_memory_bytes", "gauge"},
      {"process_start_time_seconds", "gauge"},
      {"process_uptime_seconds", "gauge"},
  };
  ASSERT_EQ(e.order.size(), expected.size()) << text;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(e.order[i], expected[i].first);
    const parsed_family& f = e.families.at(expected[i].first);
    EXPECT_EQ(f.type, expected[i].second) << expected[i].first;
    EXPECT_FALSE(f.help.empty()) << expected[i].first;
    EXPECT_FALSE(f.samples.empty()) << expected[i].first;
  }
  EXPECT_EQ(r.family_names().size(), expected.size());
  EXPECT_EQ(
      find_sample(e, "swaprouter_best_net_rate", "swaprouter_best_net_rate", {{"pair", "BTC/USDT"}})
          ->value,
      29485.25);
  EXPECT_EQ(find_sample(e, "swaprouter_circuit_state", "swaprouter_circuit_state",
                        {{"provider", "kiiex"}, {"state", "open"}})
                ->value,
            1);
  EXPECT_EQ(find_sample(e, "swaprouter_circuit_state", "swaprouter_circuit_state",
                        {{"provider", "kiiex"}, {"state", "closed"}})
                ->value,
            0);
  m.set_circuit("kiiex", circuit_state::closed);
  const exposition after = parse_exposition(r.render());
  EXPECT_EQ(find_sample(after, "swaprouter_circuit_state", "swaprouter_circuit_state",
                        {{"provider", "kiiex"}, {"state", "closed"}})
                ->value,
            1);
}

TEST(StrictParser, RejectsWhatTheFormatForbids) {
  EXPECT_THROW(parse_exposition("a 1"), std::runtime_error);  // no final newline
  EXPECT_THROW(parse_exposition("a{x=\"\\t\"} 1\n"), std::runtime_error);
  EXPECT_THROW(parse_exposition("a 1\nb 1\na 2\n"), std::runtime_error);  // family repeated
  EXPECT_THROW(parse_exposition("a one\n"), std::runtime_error);
  EXPECT_THROW(parse_exposition("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\nh_sum 1\n"),
               std::runtime_error);  // no +Inf
  EXPECT_NO_THROW(parse_exposition("# TYPE a counter\na{x=\"\\\\\\\"\\n\"} 1 1700000000000\n"));
}

}  // namespace
}  // namespace swaprouter::metrics
