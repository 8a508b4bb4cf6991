#include "engine/json_read.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>
#include <memory>
#include <span>

#include "engine/redact.hpp"

namespace swaprouter {

// Builds a json_document from RapidJSON's events over the document's own copy of the body, parsed
// in situ: string and number events point into that copy, so a value costs no allocation. Children
// wait on a stack until their container closes, then move as one block into the document's value
// array; their spans are set once that array stops growing (finish). The scratch stacks are kept
// per thread, so a parse allocates only what its document keeps.
class json_document_builder {
 public:
  static constexpr std::size_t terminator_bytes = 4;

  // Gives `doc` its copy of `body`, NUL-terminated: the in-situ stream has no length and stops
  // at the NUL where the body ends. RapidJSON's UTF-8 validation takes a multi-byte sequence's
  // continuation bytes without looking for the end (up to 3 after its lead byte): a body that
  // ends inside one reads on into padding NULs, which fail the sequence, never past the copy.
  json_document_builder(std::string_view body, const json_limits& limits, json_document& doc)
      : limits_(limits), doc_(doc), scratch_(thread_scratch()) {
    scratch_.clear();
    doc_.text_ = std::make_unique_for_overwrite<char[]>(body.size() + terminator_bytes);
    std::copy(body.begin(), body.end(), doc_.text_.get());
    std::fill_n(doc_.text_.get() + body.size(), terminator_bytes, '\0');
    // Up to one value per 4 bytes in providers' answers (KIIEX's books of numbers: 5); the array
    // grows if there are more.
    doc_.values_.reserve(std::min<std::size_t>(body.size() / 4, limits.max_values) + 1);
  }
  json_document_builder(const json_document_builder&) = delete;
  json_document_builder& operator=(const json_document_builder&) = delete;
  ~json_document_builder() { scratch_.trim(); }

  bool Null() { return add(json_value{}); }
  bool Bool(bool b) {
    json_value v;
    v.type = json_value::kind::boolean;
    v.flag = b;
    return add(v);
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
    scratch_.names.emplace_back(s, n);
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    const frame f = scratch_.frames.back();
    const std::span<const std::string_view> names(scratch_.names.data() + f.first_name,
                                                  scratch_.names.size() - f.first_name);
    if (const std::string_view* dup = duplicate(names)) {
      problem_ = fmt::format("duplicate key \"{}\"", excerpt(*dup));
      return false;
    }
    return close();
  }
  bool StartArray() { return open(json_value::kind::array); }
  bool EndArray(rapidjson::SizeType) { return close(); }

  // Sets every container's spans, now that the document's arrays are final.
  void finish() {
    const json_value* values = doc_.values_.data();
    const std::string_view* keys = doc_.keys_.data();
    for (std::size_t i = 0; i < doc_.values_.size(); ++i) {
      link_to(doc_.values_[i], scratch_.links[i], values, keys);
    }
    static_cast<json_value&>(doc_) = root_.value;
    link_to(doc_, root_.to, values, keys);
  }

  char* text() { return doc_.text_.get(); }
  const std::string& problem() const { return problem_; }

 private:
  // Where a container's children went in the document: `count` values from `first_item`, and
  // for an object as many names from `first_key`.
  struct link {
    std::uint32_t first_item = 0;
    std::uint32_t first_key = 0;
    std::uint32_t count = 0;
  };
  struct pending {
    json_value value;
    link to;
  };
  struct frame {
    std::size_t first_child;  // in scratch.values and scratch.value_links
    std::size_t first_name;   // in scratch.names
    json_value::kind type;
  };
  struct scratch {
    // Finished children of the open containers, and where their own children went.
    std::vector<json_value> values;
    std::vector<link> value_links;
    std::vector<std::string_view> names;
    std::vector<frame> frames;
    std::vector<link> links;  // parallel to the document's values
    std::vector<std::string_view> sorted;

    void clear() {
      values.clear();
      value_links.clear();
      names.clear();
      frames.clear();
      links.clear();
    }
    // A huge body's stacks are not kept for the rest of the thread's life.
    void trim() {
      constexpr std::size_t keep = 1u << 14;
      if (values.capacity() > keep) std::vector<json_value>().swap(values);
      if (value_links.capacity() > keep) std::vector<link>().swap(value_links);
      if (names.capacity() > keep) std::vector<std::string_view>().swap(names);
      if (links.capacity() > keep) std::vector<link>().swap(links);
      if (sorted.capacity() > keep) std::vector<std::string_view>().swap(sorted);
    }
  };

  static scratch& thread_scratch() {
    thread_local scratch s;
    return s;
  }

  static void link_to(json_value& v, const link& to, const json_value* values,
                      const std::string_view* keys) {
    if (v.type == json_value::kind::array || v.type == json_value::kind::object) {
      v.items = std::span<const json_value>(values + to.first_item, to.count);
      if (v.type == json_value::kind::object) {
        v.keys = std::span<const std::string_view>(keys + to.first_key, to.count);
      }
    }
  }

  static json_value scalar(json_value::kind k, const char* s, rapidjson::SizeType n) {
    json_value v;
    v.type = k;
    v.text = std::string_view(s, n);
    return v;
  }

  // The smallest name that occurs twice (what sorting the names would find first), or nullptr.
  // Objects are small: pairs are compared in place, a large object is sorted in scratch.
  const std::string_view* duplicate(std::span<const std::string_view> names) {
    constexpr std::size_t pairwise = 16;
    if (names.size() <= pairwise) {
      const std::string_view* found = nullptr;
      for (std::size_t i = 0; i < names.size(); ++i) {
        for (std::size_t j = i + 1; j < names.size(); ++j) {
          if (names[i] == names[j] && (found == nullptr || names[i] < *found)) found = &names[i];
        }
      }
      return found;
    }
    auto& sorted = scratch_.sorted;
    sorted.assign(names.begin(), names.end());
    std::sort(sorted.begin(), sorted.end());
    const auto dup = std::adjacent_find(sorted.begin(), sorted.end());
    return dup == sorted.end() ? nullptr : &*dup;
  }

  bool count() {
    if (++values_ > limits_.max_values) {
      problem_ = "too many values";
      return false;
    }
    return true;
  }
  bool open(json_value::kind k) {
    if (scratch_.frames.size() >= static_cast<std::size_t>(limits_.max_depth)) {
      problem_ = fmt::format("nested deeper than {}", limits_.max_depth);
      return false;
    }
    if (!count()) return false;
    scratch_.frames.push_back({scratch_.values.size(), scratch_.names.size(), k});
    return true;
  }
  bool close() {
    const frame f = scratch_.frames.back();
    scratch_.frames.pop_back();
    pending done;
    done.value.type = f.type;
    done.to.first_item = static_cast<std::uint32_t>(doc_.values_.size());
    done.to.first_key = static_cast<std::uint32_t>(doc_.keys_.size());
    done.to.count = static_cast<std::uint32_t>(scratch_.values.size() - f.first_child);
    const auto first = static_cast<std::ptrdiff_t>(f.first_child);
    doc_.values_.insert(doc_.values_.end(), scratch_.values.begin() + first, scratch_.values.end());
    scratch_.links.insert(scratch_.links.end(), scratch_.value_links.begin() + first,
                          scratch_.value_links.end());
    scratch_.values.resize(f.first_child);
    scratch_.value_links.resize(f.first_child);
    if (f.type == json_value::kind::object) {
      doc_.keys_.insert(doc_.keys_.end(), scratch_.names.begin() + f.first_name,
                        scratch_.names.end());
      scratch_.names.resize(f.first_name);
    }
    return place(done);
  }
  bool add(const json_value& v) {
    if (!count()) return false;
    return place(pending{v, {}});
  }
  bool place(const pending& p) {
    if (scratch_.frames.empty()) {
      root_ = p;
    } else {
      scratch_.values.push_back(p.value);
      scratch_.value_links.push_back(p.to);
    }
    return true;
  }

  json_limits limits_;
  json_document& doc_;
  scratch& scratch_;
  pending root_;
  std::string problem_;
  std::size_t values_ = 0;
};

namespace {

bool ascii(std::string_view text) {
  // Eight bytes at a time: the body is scanned once more, at a small fraction of a parse's cost.
  std::uint64_t seen = 0;
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, text.data() + i, 8);
    seen |= word;
  }
  for (; i < text.size(); ++i) seen |= static_cast<unsigned char>(text[i]);
  return (seen & 0x8080808080808080u) == 0;
}

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

const std::span<const json_value>* as_array(const json_value& v, std::string_view what,
                                            std::string& problem) {
  if (v.type != json_value::kind::array) {
    problem = fmt::format("{}: expected an array, got {}", what, kind_name(v.type));
    return nullptr;
  }
  return &v.items;
}

result<json_document> parse_json_text(std::string_view body, std::string_view what,
                                      const json_limits& limits) {
  if (body.size() > limits.max_body_bytes) {
    return fail(error_kind::bad_response, fmt::format("{}: body of {} bytes exceeds {}", what,
                                                      body.size(), limits.max_body_bytes));
  }
  // The in-situ stream reads a NUL as the end of input, which would silently drop what follows.
  if (body.find('\0') != std::string_view::npos) {
    return fail(error_kind::bad_response, fmt::format("{}: NUL byte in body", what));
  }
  constexpr unsigned flags = rapidjson::kParseIterativeFlag | rapidjson::kParseInsituFlag |
                             rapidjson::kParseNumbersAsStringsFlag;
  json_document doc;
  json_document_builder builder(body, limits, doc);
  rapidjson::InsituStringStream stream(builder.text());
  // Kept per thread: a fresh reader allocates its allocator and its stack on every parse.
  thread_local rapidjson::Reader reader;
  // ASCII cannot be invalid UTF-8: RapidJSON's per-byte validation (2/5 of a parse of 001k's
  // directions) is only needed for a body with other bytes.
  const rapidjson::ParseResult ok =
      ascii(body) ? reader.Parse<flags>(stream, builder)
                  : reader.Parse<flags | rapidjson::kParseValidateEncodingFlag>(stream, builder);
  if (!ok) {
    const std::string why = builder.problem().empty()
                                ? std::string(rapidjson::GetParseError_En(ok.Code()))
                                : builder.problem();
    return fail(error_kind::bad_response,
                fmt::format("{}: invalid JSON at offset {}: {}", what, ok.Offset(), why));
  }
  builder.finish();
  return doc;
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
