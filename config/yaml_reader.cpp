#include "config/yaml_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace swaprouter::config {

config_error::config_error(std::string file, int line, int column, std::string key_path,
                           std::string message)
    : std::runtime_error([&] {
        std::string what = file;
        if (line > 0) what += ":" + std::to_string(line) + ":" + std::to_string(column);
        what += ": ";
        if (!key_path.empty()) what += key_path + ": ";
        return what + message;
      }()),
      file_(std::move(file)),
      line_(line),
      column_(column),
      key_path_(std::move(key_path)),
      message_(std::move(message)) {}

std::string join_path(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string index_path(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

bool is_asset_code(std::string_view code) {
  return code.size() >= 2 && code.size() <= 12 && std::all_of(code.begin(), code.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
         });
}

void error_list::sort() {
  std::stable_sort(errors_.begin(), errors_.end(),
                   [](const config_error& a, const config_error& b) {
                     if (a.line() != b.line()) return a.line() < b.line();
                     return a.column() < b.column();
                   });
}

std::optional<std::string> process_env(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

config_error yaml_reader::error_at(const YAML::Mark& mark, const std::string& path,
                                   const std::string& message) const {
  if (mark.is_null()) return config_error(file_, 0, 0, path, message);
  return config_error(file_, mark.line + 1, mark.column + 1, path, message);
}

void yaml_reader::fail_at(const YAML::Mark& mark, const std::string& path,
                          const std::string& message) const {
  throw error_at(mark, path, message);
}

void yaml_reader::fail(const yaml_entry& e, const std::string& message) const {
  fail_at(mark_of(e), e.path, message);
}

YAML::Mark yaml_reader::mark_of(const yaml_entry& e) {
  const YAML::Mark mark = e.value.Mark();
  return mark.is_null() ? e.key_node.Mark() : mark;
}

yaml_entry yaml_reader::key_entry(const yaml_entry& e) {
  // Constructed, not assigned: assigning a YAML::Node overwrites the node it refers to.
  return yaml_entry{e.key, e.key_node, e.key_node, e.path};
}

yaml_entry yaml_reader::item(const yaml_entry& list, std::size_t i) {
  return yaml_entry{std::to_string(i), list.key_node, list.value[i], index_path(list.path, i)};
}

std::vector<yaml_entry> yaml_reader::map_entries(const YAML::Node& node, const YAML::Mark& where,
                                                 const std::string& path,
                                                 std::initializer_list<std::string_view> allowed,
                                                 error_list* errors) const {
  return map_entries(
      node, where, path,
      [&](std::string_view key) {
        return std::find(allowed.begin(), allowed.end(), key) != allowed.end();
      },
      errors);
}

std::vector<yaml_entry> yaml_reader::map_entries(const yaml_entry& e,
                                                 std::initializer_list<std::string_view> allowed,
                                                 error_list* errors) const {
  return map_entries(e.value, mark_of(e), e.path, allowed, errors);
}

std::vector<yaml_entry> yaml_reader::map_entries(
    const YAML::Node& node, const YAML::Mark& where, const std::string& path,
    const std::function<bool(std::string_view)>& allowed, error_list* errors) const {
  if (!node.IsMap()) {
    fail_at(node.Mark().is_null() ? where : node.Mark(), path,
            "expected a mapping (key: value lines)");
  }
  auto report = [&](const YAML::Mark& mark, const std::string& key_path, const char* message) {
    if (errors == nullptr) fail_at(mark, key_path, message);
    errors->add(error_at(mark, key_path, message));
  };
  std::vector<yaml_entry> entries;
  for (auto it = node.begin(); it != node.end(); ++it) {
    // Copies: the iterator's pair is a temporary proxy.
    const YAML::Node key_node = it->first;
    const YAML::Node value = it->second;
    if (!key_node.IsScalar()) {
      report(key_node.Mark(), path, "a key must be a plain string");
      continue;
    }
    const std::string key = key_node.Scalar();
    const std::string key_path = join_path(path, key);
    if (!allowed(std::string_view(key))) {
      report(key_node.Mark(), key_path, "unknown key");
      continue;
    }
    const bool duplicate = std::any_of(entries.begin(), entries.end(),
                                       [&](const yaml_entry& seen) { return seen.key == key; });
    if (duplicate) {
      report(key_node.Mark(), key_path, "duplicate key");
      continue;
    }
    entries.push_back(yaml_entry{key, key_node, value, key_path});
  }
  return entries;
}

std::string yaml_reader::scalar(const yaml_entry& e) const {
  if (!e.value.IsScalar()) fail(e, "expected a single value");
  return e.value.Scalar();
}

std::string yaml_reader::text(const yaml_entry& e) const {
  if (e.value.IsNull()) fail(e, "expected a value, got null");
  return scalar(e);
}

std::string yaml_reader::non_empty_text(const yaml_entry& e) const {
  std::string value = text(e);
  if (value.empty()) fail(e, "must not be empty");
  return value;
}

bool yaml_reader::boolean(const yaml_entry& e) const {
  const std::string value = text(e);
  if (value == "true") return true;
  if (value == "false") return false;
  fail(e, "expected true or false, got '" + value + "'");
}

std::int64_t yaml_reader::integer(const yaml_entry& e, std::int64_t min, std::int64_t max) const {
  const std::string value = text(e);
  std::int64_t out = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc{} || end != value.data() + value.size()) {
    fail(e, "expected an integer, got '" + value + "'");
  }
  if (out < min || out > max) {
    fail(e, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return out;
}

std::uint64_t yaml_reader::unsigned_integer(const yaml_entry& e) const {
  const std::string value = text(e);
  std::uint64_t out = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc{} || end != value.data() + value.size()) {
    fail(e, "expected a non-negative integer, got '" + value + "'");
  }
  return out;
}

double yaml_reader::real(const yaml_entry& e, double min, double max) const {
  const std::string value = text(e);
  double out = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc{} || end != value.data() + value.size() || !std::isfinite(out)) {
    fail(e, "expected a number, got '" + value + "'");
  }
  if (out < min || out > max) {
    fail(e, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return out;
}

std::chrono::milliseconds yaml_reader::millis(const yaml_entry& e, std::int64_t min) const {
  return std::chrono::milliseconds(integer(e, min, std::int64_t{1} << 40));
}

namespace {

// "1h", "1m30s", "250ms": groups of digits and a unit, largest first or not; nullopt when
// malformed or beyond a year.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  constexpr std::int64_t limit = std::int64_t{366} * 24 * 3600 * 1000;
  if (text.empty()) return std::nullopt;
  std::int64_t total = 0;
  while (!text.empty()) {
    std::int64_t count = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
    if (ec != std::errc{} || end == text.data() || count < 0) return std::nullopt;
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
    std::int64_t unit = 0;
    if (text.starts_with("ms")) {
      unit = 1;
      text.remove_prefix(2);
    } else if (text.starts_with("s")) {
      unit = 1000;
      text.remove_prefix(1);
    } else if (text.starts_with("m")) {
      unit = 60 * 1000;
      text.remove_prefix(1);
    } else if (text.starts_with("h")) {
      unit = 3600 * 1000;
      text.remove_prefix(1);
    } else {
      return std::nullopt;
    }
    if (count > limit / unit) return std::nullopt;
    total += count * unit;
    if (total > limit) return std::nullopt;
  }
  return std::chrono::milliseconds(total);
}

std::string format_duration(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms % 3600000 == 0 && ms != 0) return std::to_string(ms / 3600000) + "h";
  if (ms % 60000 == 0 && ms != 0) return std::to_string(ms / 60000) + "m";
  if (ms % 1000 == 0 && ms != 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

bool env_name_char(char c, bool first) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
         (!first && c >= '0' && c <= '9');
}

}  // namespace

std::chrono::milliseconds yaml_reader::duration(const yaml_entry& e, std::chrono::milliseconds min,
                                                std::chrono::milliseconds max) const {
  const std::string value = text(e);
  const auto parsed = parse_duration(value);
  if (!parsed) {
    fail(e, "expected a duration such as 250ms, 5s, 2m or 1h, got '" + value + "'");
  }
  if (*parsed < min || *parsed > max) {
    fail(e, "must be between " + format_duration(min) + " and " + format_duration(max));
  }
  return *parsed;
}

decimal yaml_reader::amount(const yaml_entry& e) const {
  const std::string value = text(e);
  auto parsed = decimal::parse(value);
  if (!parsed) fail(e, "expected a decimal number, got '" + value + "'");
  return *parsed;
}

decimal yaml_reader::non_negative(const yaml_entry& e) const {
  const decimal value = amount(e);
  if (value.is_negative()) fail(e, "must be >= 0");
  return value;
}

decimal yaml_reader::positive(const yaml_entry& e) const {
  const decimal value = amount(e);
  if (!value.is_positive()) fail(e, "must be > 0");
  return value;
}

std::optional<decimal> yaml_reader::limit(const yaml_entry& e) const {
  if (e.value.IsNull()) return std::nullopt;
  return non_negative(e);
}

std::string yaml_reader::expand_env(const yaml_entry& e, const env_lookup& env) const {
  const std::string raw = text(e);
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '$' || i + 1 == raw.size()) {
      out += raw[i];
      continue;
    }
    if (raw[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (raw[i + 1] != '{') {
      out += raw[i];
      continue;
    }
    const auto close = raw.find('}', i + 2);
    if (close == std::string::npos) fail(e, "unterminated ${ in '" + raw + "'");
    const std::string name = raw.substr(i + 2, close - i - 2);
    bool valid = !name.empty();
    for (std::size_t k = 0; k < name.size() && valid; ++k) valid = env_name_char(name[k], k == 0);
    if (!valid) {
      fail(e, "bad variable name '${" + name + "}': letters, digits and _, not first a digit");
    }
    const auto value = env(name);
    if (!value) fail(e, "environment variable " + name + " is not set");
    out += *value;
    i = close;
  }
  return out;
}

YAML::Node parse_yaml(std::string_view text, const std::string& source) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() ? 0 : e.mark.line + 1;
    const int column = e.mark.is_null() ? 0 : e.mark.column + 1;
    throw config_error(source, line, column, "", "YAML syntax: " + e.msg);
  }
}

std::string read_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw config_error(path, 0, 0, "",
                       std::string("cannot read the file: ") + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace swaprouter::config
