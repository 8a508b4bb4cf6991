// Bounded JSON reading shared by the provider adapters: a depth- and size-limited parse into a
// document of views (one body copy, one value array: a few allocations per body, not per value)
// whose numbers keep their source text (VENUES.md "Common": never through double), a
// straight-line field reader that keeps the first problem, and ISO 8601 timestamps.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/decimal.hpp"
#include "engine/result.hpp"
#include "engine/venue.hpp"

namespace swaprouter {

/// Bounded, printable-ASCII copy of provider text (other bytes become '?', "..." marks a cut), so
/// it is safe in any log line. Pure.
std::string excerpt(std::string_view text, std::size_t limit = 40);

/// ISO 8601 date-time: "2023-01-15T14:30:15Z", with optional fractional seconds (up to
/// nanoseconds kept, further digits ignored) and "Z" or a "+hh:mm" / "-hhmm" offset. A time
/// without a zone is refused (it cannot be placed). Errors are invalid_argument. Pure.
result<wall_time> parse_iso_timestamp(std::string_view text);

/// Formats as "2023-01-15T14:30:15Z", with ".mmm" when the time has milliseconds. Pure.
std::string format_iso_timestamp(wall_time time);

/// A parsed JSON value: a view into the json_document it came from, valid while that document
/// lives (moving the document keeps it valid). Numbers keep their source text, which also lets a
/// field tell a JSON number from a JSON string; string text is unescaped. An object's members are
/// `keys` and `items`, parallel and in the body's order; an array's elements are `items`.
struct json_value {
  enum class kind : std::uint8_t { null, boolean, number, string, array, object };
  kind type = kind::null;
  bool flag = false;
  std::string_view text;                   // number or string
  std::span<const std::string_view> keys;  // object member names, parallel to items
  std::span<const json_value> items;       // array elements or object member values

  const json_value* member(std::string_view key) const {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] == key) return &items[i];
    }
    return nullptr;
  }
};

/// A parsed body: its root value plus the storage every value's views point into, one copy of
/// the body (strings unescaped in place), one array of values in which each container's children
/// are contiguous, and one array of member names. It does not refer to the text it was parsed
/// from. At least 8 readable bytes follow every value's text (plain_amount reads by words).
/// Move-only; a default-constructed document is a JSON null.
class json_document : public json_value {
 public:
  json_document() = default;
  json_document(json_document&&) noexcept = default;
  json_document& operator=(json_document&&) noexcept = default;
  json_document(const json_document&) = delete;
  json_document& operator=(const json_document&) = delete;
  /// A small document's storage is kept for the destroying thread's next parse.
  ~json_document();

 private:
  friend class json_document_builder;
  std::unique_ptr<char[]> text_;
  std::size_t text_capacity_ = 0;  // bytes of text_
  std::vector<json_value> values_;
  std::vector<std::string_view> keys_;
};

/// Limits of parse_json_text.
struct json_limits {
  std::size_t max_body_bytes = 4u << 20;
  int max_depth = 32;
  std::size_t max_values = 250000;
};

/// Parses `body` without recursion: refuses a body over the size limit, a NUL byte, invalid UTF-8,
/// nesting deeper than the limit, more values than the limit and duplicate object keys. Errors
/// are bad_response naming `what`. The document does not refer to `body`. Pure and thread-safe.
result<json_document> parse_json_text(std::string_view body, std::string_view what,
                                      const json_limits& limits = {});

/// A number, string, boolean or null as read_scalar_rows gives it: json_value's fields of one.
struct json_scalar {
  json_value::kind type = json_value::kind::null;
  bool flag = false;
  std::string_view text;
};

/// Takes one row of read_scalar_rows: its first `width` values, valid during the call only;
/// false stops the reading.
using scalar_row_sink = bool (*)(void* context, const json_scalar* values);
/// The widest row read_scalar_rows reads.
inline constexpr std::size_t max_scalar_row = 16;

/// For a body that is an array of arrays holding only numbers, strings without escapes, booleans
/// and nulls (KIIEX's order books): the first `width` values of every row, each row given to
/// `take` as soon as it is read, without building a document. The values view `buffer`, which
/// keeps a copy of the body. False when the body is anything else, a row is shorter than
/// `width`, `width` is over max_scalar_row, the body is over 256 KiB, parse_json_text would
/// refuse it (the caller then reads it with parse_json_text; rows before the refusal may have
/// been taken) or `take` answers false; when true, parse_json_text would give these very values.
/// Pure and thread-safe when `take` is.
bool read_scalar_rows(std::string_view body, const json_limits& limits, std::size_t width,
                      std::string& buffer, scalar_row_sink take, void* context);

namespace detail {

// Flags (0x80) the bytes of `word` that are not ASCII digits: a byte is not a digit when adding
// 0x46 or subtracting 0x30 sets its top bit. Carries and borrows only move upward from a
// non-digit, so the lowest flag is exact (higher ones may not be).
constexpr std::uint64_t non_digit_bytes(std::uint64_t word) {
  return ((word + 0x4646464646464646u) | (word - 0x3030303030303030u)) & 0x8080808080808080u;
}

// The value of the first `count` (1..8) bytes of `word`, ASCII digits, the first in the lowest
// byte: three multiplications instead of one per digit. The digits move to the top bytes and '0's
// fill in below them as leading zeros.
constexpr std::uint64_t digits_value(std::uint64_t word, std::size_t count) {
  if (count < 8) word = word << (8 * (8 - count)) | 0x3030303030303030u >> (8 * count);
  word -= 0x3030303030303030u;
  word = word * 10 + (word >> 8);
  constexpr std::uint64_t pairs = 0x000000ff000000ffu;
  return ((word & pairs) * 0x000f424000000064u + ((word >> 16) & pairs) * 0x0000271000000001u) >>
         32;
}

}  // namespace detail

/// decimal::parse_plain's answer for the text of a json_document's value or of a read_scalar_rows
/// value, which at least 8 readable bytes follow: digits with at most one '.' inside them, up to 8
/// digits each side, are read a word at a time; any other text by parse_plain.
inline std::optional<decimal> plain_amount(std::string_view text) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    const char* const p = text.data();
    const std::size_t n = text.size();
    std::uint64_t word = 0;
    std::memcpy(&word, p, sizeof word);
    const std::uint64_t flags = detail::non_digit_bytes(word);
    const std::size_t whole = std::min<std::size_t>(
        flags == 0 ? 8 : static_cast<std::size_t>(std::countr_zero(flags) >> 3), n);
    if (whole == n && n != 0) {
      return decimal::from_raw(static_cast<int128>(detail::digits_value(word, n)) *
                               detail::pow10[decimal::scale]);
    }
    const std::size_t places = n - whole - 1;
    if (whole != 0 && p[whole] == '.' && places != 0 && places <= 8) {
      std::uint64_t digits = 0;
      if (n <= 8) {
        // One word: the '.' taken out, the fraction's bytes moved down onto it.
        const std::uint64_t below = (std::uint64_t{1} << (8 * whole)) - 1;
        word = (word & below) | ((word >> 8) & ~below);
        const std::uint64_t merged_flags = detail::non_digit_bytes(word);
        if (merged_flags != 0 &&
            static_cast<std::size_t>(std::countr_zero(merged_flags) >> 3) < n - 1) {
          return decimal::parse_plain(text);
        }
        digits = detail::digits_value(word, n - 1);
      } else {
        const std::uint64_t units = detail::digits_value(word, whole);
        std::memcpy(&word, p + whole + 1, sizeof word);
        const std::uint64_t fraction_flags = detail::non_digit_bytes(word);
        if (fraction_flags != 0 &&
            static_cast<std::size_t>(std::countr_zero(fraction_flags) >> 3) < places) {
          return decimal::parse_plain(text);
        }
        digits = units * detail::pow10[places] + detail::digits_value(word, places);
      }
      // Under 10^16 at 8 places or fewer: exact, far inside the range.
      return decimal::from_raw(static_cast<int128>(digits) *
                               detail::pow10[static_cast<std::size_t>(decimal::scale) - places]);
    }
  }
  return decimal::parse_plain(text);
}

/// "null", "a string", ... for messages.
std::string_view kind_name(json_value::kind k);

/// The array's elements, or nullptr with `problem` set when `v` is not an array.
const std::span<const json_value>* as_array(const json_value& v, std::string_view what,
                                            std::string& problem);

/// Which JSON form a provider sends amounts in: 001k and StableStack strings, OxaPay numbers.
enum class json_amount : std::uint8_t { string, number, either };

/// Reads the fields of one object. The first problem is kept and later reads return defaults, so
/// a parser reads every field straight-line and checks once. Amounts are non-negative exact
/// decimals in the form given at construction. Not thread-safe (one per parse).
class json_fields {
 public:
  json_fields(const json_value& object, std::string context,
              json_amount amounts = json_amount::string)
      : object_(object), context_(std::move(context)), amounts_(amounts) {
    check_object();
  }
  /// The object at `what[index]` (an array's element): the context is written only for a
  /// problem. `what` must outlive the reader.
  json_fields(const json_value& object, std::string_view what, std::size_t index,
              json_amount amounts = json_amount::string)
      : object_(object), what_(what), index_(index), amounts_(amounts) {
    check_object();
  }

  bool failed() const { return !problem_.empty(); }
  std::unexpected<error> failure() const { return fail(error_kind::bad_response, problem_); }

  const json_value* get(std::string_view key, bool required) {
    if (failed()) return nullptr;
    const json_value* v = find(key);
    if (v == nullptr && required) set(key, "missing");
    return v;
  }

  std::string text(std::string_view key) { return std::string(text_view(key)); }

  /// As text(), viewing the document's text (valid while the document lives): a field that is
  /// compared or copied into a longer-lived string at once needs no string of its own.
  std::string_view text_view(std::string_view key) {
    const json_value* v = get(key, true);
    if (v == nullptr) return {};
    if (v->type != json_value::kind::string) {
      expected(key, "a string", *v);
      return {};
    }
    if (v->text.empty()) set(key, "empty");
    return v->text;
  }

  // Absent and null read as empty.
  std::string optional_text(std::string_view key) {
    const json_value* v = get(key, false);
    if (v == nullptr || v->type == json_value::kind::null) return {};
    if (v->type != json_value::kind::string) {
      expected(key, "a string or null", *v);
      return {};
    }
    return std::string(v->text);
  }

  decimal amount(std::string_view key) {
    const json_value* v = get(key, true);
    return v == nullptr ? decimal{} : to_amount(key, *v);
  }

  // Absent and null read as nullopt (a null max means no limit, VENUES.md 001k).
  std::optional<decimal> optional_amount(std::string_view key) {
    const json_value* v = get(key, false);
    if (v == nullptr || v->type == json_value::kind::null) return std::nullopt;
    return to_amount(key, *v);
  }

  std::int64_t integer(std::string_view key, std::int64_t low, std::int64_t high) {
    const json_value* v = get(key, true);
    if (v == nullptr) return 0;
    if (v->type != json_value::kind::number) {
      expected(key, "an integer", *v);
      return 0;
    }
    std::int64_t out = 0;
    const char* first = v->text.data();
    const char* last = first + v->text.size();
    const auto [end, ec] = std::from_chars(first, last, out);
    if (ec != std::errc{} || end != last || out < low || out > high) {
      set(key, fmt::format("not an integer in [{}, {}]: {}", low, high, excerpt(v->text)));
      return 0;
    }
    return out;
  }

  bool boolean(std::string_view key) {
    const json_value* v = get(key, true);
    if (v == nullptr) return false;
    if (v->type != json_value::kind::boolean) {
      expected(key, "a boolean", *v);
      return false;
    }
    return v->flag;
  }

  wall_time time(std::string_view key) {
    const json_value* v = get(key, true);
    if (v == nullptr) return {};
    if (v->type != json_value::kind::string) {
      expected(key, "a string", *v);
      return {};
    }
    return to_time(key, v->text);
  }

  std::optional<wall_time> optional_time(std::string_view key) {
    const json_value* v = get(key, false);
    if (v == nullptr || v->type == json_value::kind::null) return std::nullopt;
    if (v->type != json_value::kind::string) {
      expected(key, "a string or null", *v);
      return std::nullopt;
    }
    return to_time(key, v->text);
  }

  // The key may be the provider's (OxaPay's balance currencies): escaped like any provider text.
  void set(std::string_view key, std::string_view why) {
    if (!failed()) problem_ = fmt::format("{}.{}: {}", context(), excerpt(key, 64), why);
  }

 private:
  void check_object() {
    if (object_.type != json_value::kind::object) {
      problem_ = fmt::format("{}: expected an object, got {}", context(), kind_name(object_.type));
    }
  }

  std::string context() const { return index_ ? fmt::format("{}[{}]", what_, *index_) : context_; }

  // Parsers read fields mostly in the body's order: the search starts after the last one found.
  // Names in a parsed object are unique, so where it starts cannot change what it finds.
  const json_value* find(std::string_view key) {
    const std::span<const std::string_view> keys = object_.keys;
    const std::size_t n = keys.size();
    // next_ is at most n (one past the last found): a compare, not a division, wraps it.
    for (std::size_t step = 0, i = next_ < n ? next_ : 0; step < n; ++step) {
      if (keys[i] == key) {
        next_ = i + 1;
        return &object_.items[i];
      }
      if (++i == n) i = 0;
    }
    return nullptr;
  }

  void expected(std::string_view key, std::string_view what, const json_value& got) {
    set(key, fmt::format("expected {}, got {}", what, kind_name(got.type)));
  }

  decimal to_amount(std::string_view key, const json_value& v) {
    const bool accepted = (v.type == json_value::kind::string && amounts_ != json_amount::number) ||
                          (v.type == json_value::kind::number && amounts_ != json_amount::string);
    if (!accepted) {
      expected(key, amounts_ == json_amount::number ? "a number" : "a decimal string", v);
      return {};
    }
    std::optional<decimal> d = plain_amount(v.text);
    if (!d) {
      auto parsed = decimal::parse(v.text);
      if (!parsed) {
        set(key, fmt::format("not a decimal: \"{}\"", excerpt(v.text)));
        return {};
      }
      d = *parsed;
    }
    if (d->is_negative()) {
      set(key, fmt::format("negative: \"{}\"", excerpt(v.text)));
      return {};
    }
    return *d;
  }

  wall_time to_time(std::string_view key, std::string_view text) {
    auto t = parse_iso_timestamp(text);
    if (!t) {
      set(key, fmt::format("not an ISO 8601 time: \"{}\"", excerpt(text)));
      return {};
    }
    return *t;
  }

  const json_value& object_;
  std::string context_;
  std::string_view what_;
  std::optional<std::size_t> index_;
  std::string problem_;
  std::size_t next_ = 0;
  json_amount amounts_;
};

}  // namespace swaprouter
