// Reading YAML configuration into typed values with errors that name the file, line, column and
// key path: shared by the scenario file (adapters/sim/scenario.cpp) and the engine configuration
// (config/engine_config.cpp).
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/decimal.hpp"

namespace swaprouter::config {

/// A configuration error: where it is (file, 1-based line and column, key path such as
/// "providers.onek.directions[1].fee_percent") and what is wrong. what() is
/// "FILE:LINE:COLUMN: KEY_PATH: MESSAGE" (line and column omitted when unknown, i.e. 0; the key
/// path omitted when empty). Messages never contain a credential's value.
class config_error : public std::runtime_error {
 public:
  config_error(std::string file, int line, int column, std::string key_path, std::string message);

  const std::string& file() const noexcept { return file_; }
  int line() const noexcept { return line_; }
  int column() const noexcept { return column_; }
  const std::string& key_path() const noexcept { return key_path_; }
  const std::string& message() const noexcept { return message_; }

 private:
  std::string file_;
  int line_;
  int column_;
  std::string key_path_;
  std::string message_;
};

/// One key/value of a YAML mapping (or one item of a sequence), with its key path.
struct yaml_entry {
  std::string key;
  YAML::Node key_node;  ///< for a sequence item, the key of the sequence
  YAML::Node value;
  std::string path;
};

/// "a.b" from "a" and "b"; just "b" when `path` is empty.
std::string join_path(const std::string& path, std::string_view key);
/// "a.b[3]".
std::string index_path(const std::string& path, std::size_t i);
/// An asset code: 2 to 12 upper-case letters or digits ("USDT", "COPM", "BTC").
bool is_asset_code(std::string_view code);

/// Collects errors so that a loader can report every problem of a file, not only the first.
/// Not thread-safe.
class error_list {
 public:
  void add(config_error error) { errors_.push_back(std::move(error)); }
  /// Runs `fn`; a config_error it throws is recorded and false returned.
  template <class Fn>
  bool attempt(Fn&& fn) {
    try {
      fn();
      return true;
    } catch (const config_error& e) {
      add(e);
      return false;
    }
  }
  bool empty() const noexcept { return errors_.empty(); }
  const std::vector<config_error>& errors() const noexcept { return errors_; }
  /// The errors ordered by line and column (file-level errors first), in place.
  void sort();

 private:
  std::vector<config_error> errors_;
};

/// Looks up an environment variable; nullopt when unset.
using env_lookup = std::function<std::optional<std::string>(const std::string& name)>;
/// The process environment (getenv).
std::optional<std::string> process_env(const std::string& name);

/// Reads YAML nodes of one file into typed values. Every failure throws config_error at the
/// node's mark; callers that want every error wrap reads in error_list::attempt and pass an
/// error_list to map_entries. Stateless apart from the file name: thread-safe for const use.
class yaml_reader {
 public:
  explicit yaml_reader(std::string file) : file_(std::move(file)) {}

  const std::string& file() const noexcept { return file_; }

  /// The error at `mark` (line and column 0 when the mark is null).
  config_error error_at(const YAML::Mark& mark, const std::string& path,
                        const std::string& message) const;
  [[noreturn]] void fail_at(const YAML::Mark& mark, const std::string& path,
                            const std::string& message) const;
  [[noreturn]] void fail(const yaml_entry& e, const std::string& message) const;

  /// The value's mark, or the key's when the value has none (an empty value).
  static YAML::Mark mark_of(const yaml_entry& e);
  /// An entry whose value is its key node, so errors about the key point at the key.
  static yaml_entry key_entry(const yaml_entry& e);
  /// Item `i` of the sequence in `list.value`, with path "list.path[i]".
  static yaml_entry item(const yaml_entry& list, std::size_t i);

  /// The entries of a mapping in file order. Not a mapping: throws. An unknown or duplicate key
  /// throws, or, when `errors` is given, is recorded there and skipped.
  std::vector<yaml_entry> map_entries(const YAML::Node& node, const YAML::Mark& where,
                                      const std::string& path,
                                      std::initializer_list<std::string_view> allowed,
                                      error_list* errors = nullptr) const;
  std::vector<yaml_entry> map_entries(const YAML::Node& node, const YAML::Mark& where,
                                      const std::string& path,
                                      const std::function<bool(std::string_view)>& allowed,
                                      error_list* errors = nullptr) const;
  /// map_entries of an entry's value.
  std::vector<yaml_entry> map_entries(const yaml_entry& e,
                                      std::initializer_list<std::string_view> allowed,
                                      error_list* errors = nullptr) const;

  std::string scalar(const yaml_entry& e) const;
  std::string text(const yaml_entry& e) const;
  std::string non_empty_text(const yaml_entry& e) const;
  /// `true` or `false` only.
  bool boolean(const yaml_entry& e) const;
  std::int64_t integer(const yaml_entry& e, std::int64_t min, std::int64_t max) const;
  std::uint64_t unsigned_integer(const yaml_entry& e) const;
  /// Probabilities and volatilities only: never an amount.
  double real(const yaml_entry& e, double min, double max) const;
  /// An integer number of milliseconds (the scenario's `*_ms` keys).
  std::chrono::milliseconds millis(const yaml_entry& e, std::int64_t min = 0) const;
  /// A duration with units: "250ms", "5s", "2m", "1h", "1m30s"; between min and max.
  std::chrono::milliseconds duration(const yaml_entry& e, std::chrono::milliseconds min,
                                     std::chrono::milliseconds max) const;
  /// An exact decimal read from the scalar's text, never through a double.
  decimal amount(const yaml_entry& e) const;
  decimal non_negative(const yaml_entry& e) const;
  decimal positive(const yaml_entry& e) const;
  /// A limit: a decimal >= 0, or null for "no limit".
  std::optional<decimal> limit(const yaml_entry& e) const;
  /// The text with every ${NAME} replaced by the variable's value and "$$" by "$". An unset
  /// variable, a bad name or an unterminated "${" throws. Errors quote the text as written, never
  /// a substituted value.
  std::string expand_env(const yaml_entry& e, const env_lookup& env) const;

 private:
  std::string file_;
};

/// Parses YAML text; a syntax error throws config_error naming `source`, line and column.
YAML::Node parse_yaml(std::string_view text, const std::string& source);
/// The contents of a configuration file; an unreadable file throws config_error.
std::string read_config_file(const std::string& path);

}  // namespace swaprouter::config
