#include "observability/log_format.hpp"

#include <fmt/format.h>
#include <spdlog/details/log_msg.h>

#include <array>
#include <cstdint>

namespace swaprouter::observability {

namespace {

bool is_event_word(std::string_view word) {
  if (word.empty() || word.front() < 'a' || word.front() > 'z') return false;
  for (char c : word) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// "I1-usdt-copm-3-L0-A1" -> "I1-usdt-copm-3": client ids are "<intent>-L<index>-A<attempt>".
std::string intent_of_leg(std::string_view leg) {
  const auto a = leg.rfind("-A");
  if (a == std::string_view::npos) return {};
  const auto l = leg.rfind("-L", a);
  if (l == std::string_view::npos || l == 0) return {};
  return std::string(leg.substr(0, l));
}

// Length of the valid UTF-8 sequence at the start of `s`, 0 when it is not one.
std::size_t utf8_sequence(std::string_view s) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if (b0 < 0x80) return 1;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4;
    cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  for (std::size_t i = 1; i < n; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  // Overlong forms, surrogates and values beyond Unicode are not UTF-8.
  static constexpr std::array<std::uint32_t, 5> min_of{0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_of[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  while (!text.empty()) {
    const char c = text.front();
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
      text.remove_prefix(1);
    } else if (u < 0x20 || u == 0x7F) {
      out += fmt::format("\\u{:04x}", u);
      text.remove_prefix(1);
    } else if (u < 0x80) {
      out += c;
      text.remove_prefix(1);
    } else if (const std::size_t n = utf8_sequence(text); n > 0) {
      out.append(text.substr(0, n));
      text.remove_prefix(n);
    } else {
      // Not UTF-8 (provider bytes): shown as the Latin-1 character of the byte.
      out += fmt::format("\\u{:04x}", u);
      text.remove_prefix(1);
    }
  }
  out += '"';
}

void append_field(std::string& out, std::string_view key, std::string_view value) {
  out += ',';
  append_json_string(out, key);
  out += ':';
  append_json_string(out, value);
}

class json_formatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto level = spdlog::level::to_string_view(msg.level);
    const std::string line =
        format_json_line(msg.time, std::string_view(level.data(), level.size()),
                         std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<json_formatter>();
  }
};

}  // namespace

std::optional<log_format> parse_log_format(std::string_view text) noexcept {
  if (text == "human") return log_format::human;
  if (text == "json") return log_format::json;
  return std::nullopt;
}

log_fields parse_log_fields(std::string_view message) {
  log_fields out;
  bool first = true;
  std::size_t pos = 0;
  while (pos < message.size()) {
    const auto start = message.find_first_not_of(' ', pos);
    if (start == std::string_view::npos) break;
    auto end = message.find(' ', start);
    if (end == std::string_view::npos) end = message.size();
    std::string_view word = message.substr(start, end - start);
    pos = end;
    if (first) {
      first = false;
      std::string_view name = word;
      if (name.ends_with(':')) name.remove_suffix(1);
      out.event = is_event_word(name) && name.find('=') == std::string_view::npos
                      ? std::string(name)
                      : "log";
      if (out.event != "log") continue;
    }
    const auto eq = word.find('=');
    if (eq == std::string_view::npos || eq + 1 == word.size()) continue;
    const std::string_view key = word.substr(0, eq);
    std::string_view value = word.substr(eq + 1);
    while (!value.empty() && (value.back() == ':' || value.back() == ',' || value.back() == ';')) {
      value.remove_suffix(1);
    }
    if (value.empty() || value == "-") continue;
    if (key == "intent" && out.intent.empty()) out.intent = std::string(value);
    if (key == "leg" && out.leg.empty()) out.leg = std::string(value);
    if (key == "strategy" && out.strategy.empty()) out.strategy = std::string(value);
    if (key == "provider" && out.provider.empty()) out.provider = std::string(value);
  }
  if (out.event.empty()) out.event = "log";
  if (out.intent.empty() && !out.leg.empty()) out.intent = intent_of_leg(out.leg);
  return out;
}

std::string format_json_line(std::chrono::system_clock::time_point time, std::string_view level,
                             std::string_view message) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(time);
  const auto day = floor<days>(ms);
  const year_month_day date{day};
  const hh_mm_ss clock{ms - day};
  // Always three fraction digits: lines sort and align as text.
  const std::string when = fmt::format(
      "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(date.year()),
      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()), clock.hours().count(),
      clock.minutes().count(), clock.seconds().count(), clock.subseconds().count());
  const log_fields f = parse_log_fields(message);
  std::string out = "{";
  append_json_string(out, "time");
  out += ':';
  append_json_string(out, when);
  append_field(out, "level", level);
  append_field(out, "event", f.event);
  if (!f.intent.empty()) append_field(out, "intent", f.intent);
  if (!f.leg.empty()) append_field(out, "leg", f.leg);
  if (!f.strategy.empty()) append_field(out, "strategy", f.strategy);
  if (!f.provider.empty()) append_field(out, "provider", f.provider);
  append_field(out, "message", message);
  out += "}\n";
  return out;
}

std::unique_ptr<spdlog::formatter> make_json_formatter() {
  return std::make_unique<json_formatter>();
}

}  // namespace swaprouter::observability
