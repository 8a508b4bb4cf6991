#include "engine/json_read.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <charconv>
#include <chrono>

#include "engine/redact.hpp"

namespace swaprouter {
namespace {

class tree_builder {
 public:
  explicit tree_builder(const json_limits& limits) : limits_(limits) {}
  bool Null() { return add(json_value{}); }
  bool Bool(bool b) {
    json_value v;
    v.type = json_value::kind::boolean;
    v.flag = b;
    return add(std::move(v));
  }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    return add(scalar(json_value::kind::number, s, n));
  }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    return add(scalar(json_value::kind::string, s, n));
  }
  // Never called with kParseNumbersAsStringsFlag; present for the handler concept.
  bool Int(int) { return false; }
  bool Uint(unsigned) { return false; }
  bool Int64(std::int64_t) { return false; }
  bool Uint64(std::uint64_t) { return false; }
  bool Double(double) { return false; }
  bool StartObject() { return open(json_value::kind::object); }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    stack_.back().keys.emplace_back(s, n);
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    json_value v = std::move(stack_.back());
    stack_.pop_back();
    std::vector<std::string_view> names(v.keys.begin(), v.keys.end());
    std::sort(names.begin(), names.end());
    if (auto dup = std::adjacent_find(names.begin(), names.end()); dup != names.end()) {
      problem_ = fmt::format("duplicate key \"{}\"", excerpt(*dup));
      return false;
    }
    return add(std::move(v));
  }
  bool StartArray() { return open(json_value::kind::array); }
  bool EndArray(rapidjson::SizeType) {
    json_value v = std::move(stack_.back());
    stack_.pop_back();
    return add(std::move(v));
  }

  json_value& root() { return root_; }
  const std::string& problem() const { return problem_; }

 private:
  static json_value scalar(json_value::kind k, const char* s, rapidjson::SizeType n) {
    json_value v;
    v.type = k;
    v.text.assign(s, n);
    return v;
  }
  bool count() {
    if (++values_ > limits_.max_values) {
      problem_ = "too many values";
      return false;
    }
    return true;
  }
  bool open(json_value::kind k) {
    if (stack_.size() >= static_cast<std::size_t>(limits_.max_depth)) {
      problem_ = fmt::format("nested deeper than {}", limits_.max_depth);
      return false;
    }
    if (!count()) return false;
    json_value v;
    v.type = k;
    stack_.push_back(std::move(v));
    return true;
  }
  bool add(json_value v) {
    if (v.type != json_value::kind::array && v.type != json_value::kind::object && !count())
      return false;
    if (stack_.empty()) {
      root_ = std::move(v);
    } else {
      stack_.back().items.push_back(std::move(v));
    }
    return true;
  }

  std::vector<json_value> stack_;
  json_value root_;
  std::string problem_;
  std::size_t values_ = 0;
  json_limits limits_;
};

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

std::string excerpt(std::string_view raw, std::size_t limit) {
  // A provider may echo a credential back: blanked before anything is cut or copied.
  const std::string clean = redact(raw);
  const std::string_view text = clean;
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

std::string_view kind_name(json_value::kind k) {
  switch (k) {
    case json_value::kind::null:
      return "null";
    case json_value::kind::boolean:
      return "a boolean";
    case json_value::kind::number:
      return "a number";
    case json_value::kind::string:
      return "a string";
    case json_value::kind::array:
      return "an array";
    case json_value::kind::object:
      return "an object";
  }
  return "?";
}

const std::vector<json_value>* as_array(const json_value& v, std::string_view what,
                                        std::string& problem) {
  if (v.type != json_value::kind::array) {
    problem = fmt::format("{}: expected an array, got {}", what, kind_name(v.type));
    return nullptr;
  }
  return &v.items;
}

result<json_value> parse_json_text(std::string_view body, std::string_view what,
                                   const json_limits& limits) {
  if (body.size() > limits.max_body_bytes) {
    return fail(error_kind::bad_response, fmt::format("{}: body of {} bytes exceeds {}", what,
                                                      body.size(), limits.max_body_bytes));
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
  tree_builder builder(limits);
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

result<wall_time> parse_iso_timestamp(std::string_view text) {
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

std::string format_iso_timestamp(wall_time time) {
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

}  // namespace swaprouter
