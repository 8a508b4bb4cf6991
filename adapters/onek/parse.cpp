#include "adapters/onek/parse.hpp"

#include <fmt/format.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <utility>

#include "adapters/onek/wire.hpp"

namespace swaprouter::onek {
namespace {

// Values kept per body: a 200-swap list has about 6000; the cap bounds memory on hostile bodies.
constexpr std::size_t max_json_values = 250000;
constexpr std::size_t excerpt_chars = 40;

// Provider text in our messages is bounded and printable ASCII only, so it is safe in any log.
std::string excerpt(std::string_view text, std::size_t limit = excerpt_chars) {
  std::string out;
  const std::size_t n = std::min(text.size(), limit);
  out.reserve(n + 3);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (text.size() > limit) out += "...";
  return out;
}

// A parsed JSON value. Numbers keep their source text (VENUES.md "Common": never through double),
// which also lets a field tell a JSON number from a JSON string.
struct json {
  enum class kind : std::uint8_t { null, boolean, number, string, array, object };
  kind type = kind::null;
  bool flag = false;
  std::string text;               // number or string
  std::vector<std::string> keys;  // object member names, parallel to items
  std::vector<json> items;        // array elements or object member values

  const json* member(std::string_view key) const {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] == key) return &items[i];
    }
    return nullptr;
  }
};

std::string_view kind_name(json::kind k) {
  switch (k) {
    case json::kind::null:
      return "null";
    case json::kind::boolean:
      return "a boolean";
    case json::kind::number:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "?";
}

// RapidJSON SAX handler building `json` with a depth limit, a value cap and duplicate-key
// rejection (RapidJSON's DOM would keep both members of {"a":1,"a":2}).
class tree_builder {
 public:
  bool Null() { return add(json{}); }
  bool Bool(bool b) {
    json v;
    v.type = json::kind::boolean;
    v.flag = b;
    return add(std::move(v));
  }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    return add(scalar(json::kind::number, s, n));
  }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    return add(scalar(json::kind::string, s, n));
  }
  // Never called with kParseNumbersAsStringsFlag; present for the handler concept.
  bool Int(int) { return false; }
  bool Uint(unsigned) { return false; }
  bool Int64(std::int64_t) { return false; }
  bool Uint64(std::uint64_t) { return false; }
  bool Double(double) { return false; }
  bool StartObject() { return open(json::kind::object); }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    stack_.back().keys.emplace_back(s, n);
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    json v = std::move(stack_.back());
    stack_.pop_back();
    std::vector<std::string_view> names(v.keys.begin(), v.keys.end());
    std::sort(names.begin(), names.end());
    if (auto dup = std::adjacent_find(names.begin(), names.end()); dup != names.end()) {
      problem_ = fmt::format("duplicate key \"{}\"", excerpt(*dup));
      return false;
    }
    return add(std::move(v));
  }
  bool StartArray() { return open(json::kind::array); }
  bool EndArray(rapidjson::SizeType) {
    json v = std::move(stack_.back());
    stack_.pop_back();
    return add(std::move(v));
  }

  json& root() { return root_; }
  const std::string& problem() const { return problem_; }

 private:
  static json scalar(json::kind k, const char* s, rapidjson::SizeType n) {
    json v;
    v.type = k;
    v.text.assign(s, n);
    return v;
  }
  bool count() {
    if (++values_ > max_json_values) {
      problem_ = "too many values";
      return false;
    }
    return true;
  }
  bool open(json::kind k) {
    if (stack_.size() >= static_cast<std::size_t>(max_json_depth)) {
      problem_ = fmt::format("nested deeper than {}", max_json_depth);
      return false;
    }
    if (!count()) return false;
    json v;
    v.type = k;
    stack_.push_back(std::move(v));
    return true;
  }
  bool add(json v) {
    if (v.type != json::kind::array && v.type != json::kind::object && !count()) return false;
    if (stack_.empty()) {
      root_ = std::move(v);
    } else {
      stack_.back().items.push_back(std::move(v));
    }
    return true;
  }

  std::vector<json> stack_;
  json root_;
  std::string problem_;
  std::size_t values_ = 0;
};

result<json> parse_json(std::string_view body, std::string_view what) {
  if (body.size() > max_body_bytes) {
    return fail(error_kind::bad_response,
                fmt::format("{}: body of {} bytes exceeds {}", what, body.size(), max_body_bytes));
  }
  // MemoryStream reads a NUL as the end of input, which would silently drop what follows.
  if (body.find('\0') != std::string_view::npos) {
    return fail(error_kind::bad_response, fmt::format("{}: NUL byte in body", what));
  }
  constexpr unsigned flags = rapidjson::kParseIterativeFlag |
                             rapidjson::kParseValidateEncodingFlag |
                             rapidjson::kParseNumbersAsStringsFlag;
  rapidjson::MemoryStream stream(body.data(), body.size());
  rapidjson::Reader reader;
  tree_builder builder;
  const rapidjson::ParseResult ok = reader.Parse<flags>(stream, builder);
  if (!ok) {
    const std::string why = builder.problem().empty()
                                ? std::string(rapidjson::GetParseError_En(ok.Code()))
                                : builder.problem();
    return fail(error_kind::bad_response,
                fmt::format("{}: invalid JSON at offset {}: {}", what, ok.Offset(), why));
  }
  return std::move(builder.root());
}

// Reads the fields of one object. The first problem is kept and later reads return defaults, so a
// parser reads every field straight-line and checks once.
class fields {
 public:
  fields(const json& object, std::string context) : object_(object), context_(std::move(context)) {
    if (object_.type != json::kind::object) {
      problem_ = fmt::format("{}: expected an object, got {}", context_, kind_name(object_.type));
    }
  }

  bool failed() const { return !problem_.empty(); }
  std::unexpected<error> failure() const { return fail(error_kind::bad_response, problem_); }

  const json* get(std::string_view key, bool required) {
    if (failed()) return nullptr;
    const json* v = object_.member(key);
    if (v == nullptr && required) set(key, "missing");
    return v;
  }

  std::string text(std::string_view key) {
    const json* v = get(key, true);
    if (v == nullptr) return {};
    if (v->type != json::kind::string) {
      expected(key, "a string", *v);
      return {};
    }
    if (v->text.empty()) set(key, "empty");
    return v->text;
  }

  // Absent and null read as empty.
  std::string optional_text(std::string_view key) {
    const json* v = get(key, false);
    if (v == nullptr || v->type == json::kind::null) return {};
    if (v->type != json::kind::string) {
      expected(key, "a string or null", *v);
      return {};
    }
    return v->text;
  }

  decimal amount(std::string_view key) {
    const json* v = get(key, true);
    return v == nullptr ? decimal{} : to_amount(key, *v);
  }

  // Absent and null read as nullopt (a null max means no limit, VENUES.md 001k).
  std::optional<decimal> optional_amount(std::string_view key) {
    const json* v = get(key, false);
    if (v == nullptr || v->type == json::kind::null) return std::nullopt;
    return to_amount(key, *v);
  }

  std::int64_t integer(std::string_view key, std::int64_t low, std::int64_t high) {
    const json* v = get(key, true);
    if (v == nullptr) return 0;
    if (v->type != json::kind::number) {
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
    const json* v = get(key, true);
    if (v == nullptr) return false;
    if (v->type != json::kind::boolean) {
      expected(key, "a boolean", *v);
      return false;
    }
    return v->flag;
  }

  wall_time time(std::string_view key) {
    const json* v = get(key, true);
    if (v == nullptr) return {};
    if (v->type != json::kind::string) {
      expected(key, "a string", *v);
      return {};
    }
    return to_time(key, v->text);
  }

  std::optional<wall_time> optional_time(std::string_view key) {
    const json* v = get(key, false);
    if (v == nullptr || v->type == json::kind::null) return std::nullopt;
    if (v->type != json::kind::string) {
      expected(key, "a string or null", *v);
      return std::nullopt;
    }
    return to_time(key, v->text);
  }

  void set(std::string_view key, std::string_view why) {
    if (!failed()) problem_ = fmt::format("{}.{}: {}", context_, key, why);
  }

 private:
  void expected(std::string_view key, std::string_view what, const json& got) {
    set(key, fmt::format("expected {}, got {}", what, kind_name(got.type)));
  }

  decimal to_amount(std::string_view key, const json& v) {
    // 001k sends every amount and rate as a JSON string (seed: "strings to preserve precision").
    if (v.type != json::kind::string) {
      expected(key, "a decimal string", v);
      return {};
    }
    auto d = decimal::parse(v.text);
    if (!d) {
      set(key, fmt::format("not a decimal: \"{}\"", excerpt(v.text)));
      return {};
    }
    if (d->is_negative()) {
      set(key, fmt::format("negative: \"{}\"", excerpt(v.text)));
      return {};
    }
    return *d;
  }

  wall_time to_time(std::string_view key, std::string_view text) {
    auto t = parse_timestamp(text);
    if (!t) {
      set(key, fmt::format("not an ISO 8601 time: \"{}\"", excerpt(text)));
      return {};
    }
    return *t;
  }

  const json& object_;
  std::string context_;
  std::string problem_;
};

const std::vector<json>* as_array(const json& v, std::string_view what, std::string& problem) {
  if (v.type != json::kind::array) {
    problem = fmt::format("{}: expected an array, got {}", what, kind_name(v.type));
    return nullptr;
  }
  return &v.items;
}

result<direction> read_direction(const json& v, std::string context) {
  namespace f = wire::direction_field;
  fields in(v, std::move(context));
  direction d;
  d.provider = std::string(provider_id);
  d.code = in.text(f::code);
  d.spend_asset = in.text(f::spend_currency);
  d.receive_asset = in.text(f::receive_currency);
  d.enabled = in.boolean(f::is_enabled);
  d.spend_precision = static_cast<int>(in.integer(f::spend_precision, 0, decimal::scale));
  d.receive_precision = static_cast<int>(in.integer(f::receive_precision, 0, decimal::scale));
  d.fee_percent = in.amount(f::fee_percent);
  d.min_spend = in.amount(f::min_spend_amount);
  d.max_spend = in.optional_amount(f::max_spend_amount);
  d.min_receive = in.amount(f::min_receive_amount);
  d.max_receive = in.optional_amount(f::max_receive_amount);
  d.spend_rate_value = in.amount(f::spend_rate_value);
  d.receive_rate_value = in.amount(f::receive_rate_value);
  // Pricing divides by spend_rate_value, and a fee of 100 % or more leaves nothing to receive.
  if (!in.failed() && !d.spend_rate_value.is_positive()) in.set(f::spend_rate_value, "not > 0");
  if (!in.failed() && !d.receive_rate_value.is_positive()) {
    in.set(f::receive_rate_value, "not > 0");
  }
  if (!in.failed() && d.fee_percent >= decimal::from_int(100)) in.set(f::fee_percent, ">= 100");
  if (in.failed()) return in.failure();
  return d;
}

result<swap> read_swap(const json& v, std::string context) {
  namespace f = wire::swap_field;
  fields in(v, std::move(context));
  swap s;
  s.code = in.text(f::code);
  s.custom_id = in.optional_text(f::custom_id);
  s.direction = in.text(f::direction);
  s.spend_currency = in.text(f::spend_currency);
  s.receive_currency = in.text(f::receive_currency);
  s.spend_amount = in.amount(f::spend_amount);
  s.receive_amount = in.amount(f::receive_amount);
  s.amount_parameter = in.optional_text(f::amount_parameter);
  s.fee_amount = in.optional_amount(f::fee_amount).value_or(decimal{});
  s.fee_currency = in.optional_text(f::fee_currency);
  const auto spend_filled = in.optional_amount(f::spend_filled);
  const auto receive_filled = in.optional_amount(f::receive_filled);
  s.fills_reported = spend_filled.has_value() && receive_filled.has_value();
  s.spend_filled = spend_filled.value_or(decimal{});
  s.receive_filled = receive_filled.value_or(decimal{});
  s.spend_fee_filled = in.optional_amount(f::spend_fee_filled).value_or(decimal{});
  s.receive_fee_filled = in.optional_amount(f::receive_fee_filled).value_or(decimal{});
  s.status = in.text(f::status);
  s.reason_code = in.optional_text(f::reason_code);
  s.reason_message = in.optional_text(f::reason_message);
  s.created_at = in.time(f::created_at);
  s.valid_till = in.optional_time(f::valid_till);
  // The seed's open sample names the expiry expires_at, its field table valid_till.
  if (!s.valid_till) s.valid_till = in.optional_time(f::expires_at);
  s.done_at = in.optional_time(f::done_at);
  s.cancel_requested_at = in.optional_time(f::cancel_requested_at);
  // Every other field (callback_url, rates, updated_at) is not used and not validated.
  if (in.failed()) return in.failure();
  return s;
}

result<balance> read_balance(const json& v, std::string context) {
  namespace f = wire::balance_field;
  fields in(v, std::move(context));
  balance b;
  b.asset = in.text(f::currency);
  b.available = in.amount(f::available);
  b.frozen = in.amount(f::frozen);
  if (in.failed()) return in.failure();
  return b;
}

template <class T, class Read>
result<std::vector<T>> read_array(std::string_view body, std::string_view what, Read read) {
  auto root = parse_json(body, what);
  if (!root) return std::unexpected(std::move(root.error()));
  std::string problem;
  const auto* items = as_array(*root, what, problem);
  if (items == nullptr) return fail(error_kind::bad_response, problem);
  std::vector<T> out;
  out.reserve(items->size());
  for (std::size_t i = 0; i < items->size(); ++i) {
    auto item = read((*items)[i], fmt::format("{}[{}]", what, i));
    if (!item) return std::unexpected(std::move(item.error()));
    out.push_back(std::move(*item));
  }
  return out;
}

// Parses exactly `n` digits at `pos`, advancing it.
bool digits(std::string_view text, std::size_t& pos, std::size_t n, int& out) {
  if (pos + n > text.size()) return false;
  int value = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  pos += n;
  out = value;
  return true;
}

bool expect(std::string_view text, std::size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

result<wall_time> parse_timestamp(std::string_view text) {
  using namespace std::chrono;
  const auto bad = [&] {
    return fail(error_kind::invalid_argument,
                fmt::format("not an ISO 8601 date-time: \"{}\"", excerpt(text)));
  };
  std::size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!digits(text, pos, 4, y) || !expect(text, pos, '-') || !digits(text, pos, 2, mo) ||
      !expect(text, pos, '-') || !digits(text, pos, 2, d)) {
    return bad();
  }
  if (pos >= text.size() || (text[pos] != 'T' && text[pos] != 't')) return bad();
  ++pos;
  if (!digits(text, pos, 2, h) || !expect(text, pos, ':') || !digits(text, pos, 2, mi) ||
      !expect(text, pos, ':') || !digits(text, pos, 2, s)) {
    return bad();
  }
  std::int64_t nanos = 0;
  if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
    ++pos;
    std::size_t count = 0;
    std::int64_t scale = 100000000;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (count < 9) {
        nanos += (text[pos] - '0') * scale;
        scale /= 10;
      }
      ++count;
      ++pos;
    }
    if (count == 0) return bad();
  }
  // A time without a zone cannot be placed on the provider's clock: refused.
  if (pos >= text.size()) return bad();
  int offset_minutes = 0;
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int oh = 0, om = 0;
    if (!digits(text, pos, 2, oh)) return bad();
    if (pos < text.size()) {
      expect(text, pos, ':');
      if (!digits(text, pos, 2, om)) return bad();
    }
    if (oh > 23 || om > 59) return bad();
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return bad();
  }
  if (pos != text.size()) return bad();
  const year_month_day date{year{y}, month{static_cast<unsigned>(mo)},
                            day{static_cast<unsigned>(d)}};
  // Second 60 is a leap second: accepted, it lands on the next second.
  if (!date.ok() || h > 23 || mi > 59 || s > 60) return bad();
  // wall_time counts nanoseconds in 64 bits: about 1677..2262.
  if (y < 1678 || y > 2261) return bad();
  const auto since_epoch = sys_days{date}.time_since_epoch() + hours{h} + minutes{mi} + seconds{s} -
                           minutes{offset_minutes};
  return wall_time{duration_cast<wall_time::duration>(since_epoch) +
                   duration_cast<wall_time::duration>(nanoseconds{nanos})};
}

std::string format_timestamp(wall_time time) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(time);
  const auto day = floor<days>(ms);
  const year_month_day date{day};
  const hh_mm_ss clock{ms - day};
  std::string out =
      fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                  clock.hours().count(), clock.minutes().count(), clock.seconds().count());
  if (clock.subseconds().count() != 0) out += fmt::format(".{:03}", clock.subseconds().count());
  out += 'Z';
  return out;
}

result<wall_time> parse_status(std::string_view body) {
  auto root = parse_json(body, "status");
  if (!root) return std::unexpected(std::move(root.error()));
  fields in(*root, "status");
  // Upper bound keeps milliseconds * 10^6 inside wall_time's 64-bit nanoseconds (year 2255).
  const std::int64_t ms = in.integer(wire::status_field::timestamp, 0, 9'000'000'000'000);
  if (in.failed()) return in.failure();
  return wall_time{std::chrono::duration_cast<wall_time::duration>(std::chrono::milliseconds{ms})};
}

result<std::vector<direction>> parse_directions(std::string_view body) {
  return read_array<direction>(body, "swap_directions", read_direction);
}

result<swap> parse_swap(std::string_view body) {
  auto root = parse_json(body, "swap");
  if (!root) return std::unexpected(std::move(root.error()));
  return read_swap(*root, "swap");
}

result<std::vector<swap>> parse_swap_list(std::string_view body) {
  return read_array<swap>(body, "swaps", read_swap);
}

result<std::vector<balance>> parse_balances(std::string_view body) {
  return read_array<balance>(body, "balances", read_balance);
}

provider_error parse_error_body(std::string_view body) {
  constexpr std::size_t code_chars = 64;
  constexpr std::size_t message_chars = 200;
  provider_error out;
  auto root = parse_json(body, "error");
  if (root && root->type == json::kind::object) {
    namespace f = wire::error_field;
    const json* code = root->member(f::code);
    const json* message = root->member(f::message);
    if (code != nullptr && (code->type == json::kind::string || code->type == json::kind::number)) {
      out.code = excerpt(code->text, code_chars);
    }
    if (message != nullptr && message->type == json::kind::string) {
      out.message = excerpt(message->text, message_chars);
    }
    if (!out.code.empty() || !out.message.empty()) return out;
  }
  out.message = excerpt(body, message_chars);
  return out;
}

leg_state map_state(const swap& s) {
  namespace st = wire::swap_status;
  if (s.status == st::open) return leg_state::open;
  if (s.status == st::success) {
    const bool short_fill =
        s.fills_reported && s.spend_filled < s.spend_amount && s.receive_filled < s.receive_amount;
    return short_fill ? leg_state::partially_filled : leg_state::filled;
  }
  if (s.status == st::failed) {
    if (s.reason_code == wire::reason::expired) return leg_state::expired;
    if (s.reason_code == wire::reason::cancelled) return leg_state::cancelled;
    return leg_state::failed;
  }
  return leg_state::unrecognised;
}

leg_status to_leg_status(const swap& s) {
  leg_status out;
  out.ref.provider_ref = s.code;
  out.ref.client = s.custom_id;
  out.state = map_state(s);
  out.provider_status = excerpt(s.status, 64);
  out.direction_code = s.direction;
  out.spend_amount = s.spend_amount;
  out.receive_amount = s.receive_amount;
  out.spend_filled = s.spend_filled;
  out.receive_filled = s.receive_filled;
  out.fee_filled = s.fee_currency == s.spend_currency && s.fee_currency != s.receive_currency
                       ? s.spend_fee_filled
                       : s.receive_fee_filled;
  // A success without *_filled fields: 001k swaps are all-or-nothing, so success executed the
  // swap's own amounts and fee.
  if (out.state == leg_state::filled && !s.fills_reported) {
    out.spend_filled = s.spend_amount;
    out.receive_filled = s.receive_amount;
    out.fee_filled = s.fee_amount;
  }
  out.reason_code = excerpt(s.reason_code, 64);
  out.reason_message = excerpt(s.reason_message, 200);
  out.created_at = s.created_at;
  out.valid_until = s.valid_till;
  out.cancel_requested_at = s.cancel_requested_at;
  return out;
}

}  // namespace swaprouter::onek
