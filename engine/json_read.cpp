#include "engine/json_read.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <chrono>
#include <cstring>
#include <memory>
#include <span>
#include <utility>

#include "engine/redact.hpp"

namespace swaprouter {

namespace {

// The storage of the thread's last small document, for its next parse: a decision parses a few
// quote bodies of a few KB, and reusing their arrays spares three allocations a body. Bigger
// documents' storage goes back to the heap at once.
struct document_storage {
  static constexpr std::size_t keep_bytes = 64u << 10;
  std::unique_ptr<char[]> text;
  std::size_t text_capacity = 0;
  std::vector<json_value> values;
  std::vector<std::string_view> keys;
};

// Set when the thread's storage is gone (thread exit): a document destroyed later frees its own.
thread_local bool spare_storage_gone = false;

struct spare_storage_holder {
  document_storage storage;
  spare_storage_holder() = default;
  spare_storage_holder(const spare_storage_holder&) = delete;
  spare_storage_holder& operator=(const spare_storage_holder&) = delete;
  ~spare_storage_holder() { spare_storage_gone = true; }
};

document_storage* spare_storage() {
  if (spare_storage_gone) return nullptr;
  thread_local spare_storage_holder holder;
  return &holder.storage;
}

}  // namespace

json_document::~json_document() {
  if (!text_ && values_.capacity() == 0 && keys_.capacity() == 0) return;
  document_storage* spare = spare_storage();
  if (spare == nullptr) return;
  constexpr std::size_t keep = document_storage::keep_bytes;
  // The larger of the two is kept, within the bound.
  if (text_ && text_capacity_ <= keep && text_capacity_ > spare->text_capacity) {
    spare->text = std::move(text_);
    spare->text_capacity = text_capacity_;
  }
  if (values_.capacity() * sizeof(json_value) <= keep &&
      values_.capacity() > spare->values.capacity()) {
    spare->values = std::move(values_);
  }
  if (keys_.capacity() * sizeof(std::string_view) <= keep &&
      keys_.capacity() > spare->keys.capacity()) {
    spare->keys = std::move(keys_);
  }
}

// Builds a json_document from RapidJSON's events over the document's own copy of the body, parsed
// in situ: string and number events point into that copy, so a value costs no allocation. Children
// wait on a stack until their container closes, then move as one block into the document's value
// array; their spans are set once that array stops growing (finish). The scratch stacks are kept
// per thread, so a parse allocates only what its document keeps.
class json_document_builder {
 public:
  static constexpr std::size_t terminator_bytes = 8;

  // Gives `doc` its copy of `body`, NUL-terminated: the in-situ stream has no length and stops
  // at the NUL where the body ends. RapidJSON's UTF-8 validation takes a multi-byte sequence's
  // continuation bytes without looking for the end (up to 3 after its lead byte): a body that
  // ends inside one reads on into padding NULs, which fail the sequence, never past the copy.
  // Eight NULs: plain_amount reads a value's text a word at a time.
  json_document_builder(std::string_view body, const json_limits& limits, json_document& doc)
      : limits_(limits), doc_(doc), scratch_(thread_scratch()) {
    scratch_.clear();
    doc_.text_ = std::make_unique_for_overwrite<char[]>(body.size() + terminator_bytes);
    doc_.text_capacity_ = body.size() + terminator_bytes;
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
    if (const std::string_view* dup = duplicate(names, scratch_.sorted)) {
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

  // The common case without RapidJSON: one pass over the document's copy of an ASCII body that
  // has only forms RapidJSON reads the same way, building the same values. Anything else (an
  // error, a \u escape, a byte outside ASCII, a number RapidJSON could call too big, a limit
  // reached, a duplicate key) returns false and the caller parses with RapidJSON, whose answer
  // (and error text) is then the one given. Children are written straight to the document's
  // final arrays, reserved up front so that spans set when a container closes stay valid.
  static bool parse_fast(std::string_view body, const json_limits& limits, json_document& doc);

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
  static const std::string_view* duplicate(std::span<const std::string_view> names,
                                           std::vector<std::string_view>& sorted) {
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
    sorted.assign(names.begin(), names.end());
    std::sort(sorted.begin(), sorted.end());
    const auto dup = std::adjacent_find(sorted.begin(), sorted.end());
    return dup == sorted.end() ? nullptr : &*dup;
  }

  // Whether two names fall in the same one of 1024 buckets. Equal names do: names in distinct
  // buckets are distinct, and most objects need no pair compared.
  static bool share_bucket(std::span<const std::string_view> names) {
    std::array<std::uint64_t, 16> buckets{};
    bool shared = false;
    for (const std::string_view n : names) {
      std::uint64_t key = n.size();
      if (!n.empty()) {
        const auto at = [&n](std::size_t i) -> std::uint64_t {
          return static_cast<unsigned char>(n[i]);
        };
        key |= at(0) << 8 | at(n.size() > 1 ? 1 : 0) << 16 | at(n.size() - 1) << 24;
      }
      const std::uint64_t h = (key * 0x9e3779b97f4a7c15u) >> 54;
      const std::uint64_t bit = std::uint64_t{1} << (h & 63);
      shared |= (buckets[h >> 6] & bit) != 0;
      buckets[h >> 6] |= bit;
    }
    return shared;
  }

  // Whether a name occurs twice. Names whose length and first and last bytes differ differ:
  // a small object compares those first, as one integer a pair.
  static bool has_duplicate(std::span<const std::string_view> names,
                            std::vector<std::string_view>& sorted) {
    constexpr std::size_t pairwise = 16;
    if (names.size() > pairwise) return duplicate(names, sorted) != nullptr;
    // A few names are compared at once; more go through buckets first.
    if (names.size() > 6 && !share_bucket(names)) return false;
    std::array<std::uint32_t, pairwise> tags{};
    for (std::size_t i = 0; i < names.size(); ++i) {
      const std::string_view n = names[i];
      tags[i] = n.empty()
                    ? 0
                    : static_cast<std::uint32_t>(n.size() & 0xffff) |
                          static_cast<std::uint32_t>(static_cast<unsigned char>(n.front())) << 16 |
                          static_cast<std::uint32_t>(static_cast<unsigned char>(n.back())) << 24;
    }
    for (std::size_t i = 0; i < names.size(); ++i) {
      for (std::size_t j = i + 1; j < names.size(); ++j) {
        if (tags[i] == tags[j] && names[i] == names[j]) return true;
      }
    }
    return false;
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

// Bytes a string holds as they are in the fast path: printable ASCII but the quote and the
// backslash. Control characters and other bytes are RapidJSON's to judge.
constexpr std::array<bool, 256> plain_bytes = [] {
  std::array<bool, 256> out{};
  for (int c = 0x20; c < 0x7f; ++c) out[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  out[0x7f] = true;
  return out;
}();

// Every JSON space is at most ' ': one comparison settles the usual byte after a token.
bool is_space(char c) {
  return static_cast<unsigned char>(c) <= ' ' && (c == ' ' || c == '\n' || c == '\r' || c == '\t');
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Past the JSON spaces from `p`. read_scalar_rows calls it as `p = skip_spaces(p)`, not through a
// lambda holding a reference to its position: that reference kept the position in memory, a
// store and a load at every value of a book.
[[gnu::always_inline]] inline char* skip_spaces(char* p) {
  while (is_space(*p)) ++p;
  return p;
}

// What follows an item of an array that read_scalar_rows reads.
enum class after_item : std::uint8_t { another, end, broken };

// Past the spaces after an item and, when a ',' announces another item, past it and the spaces
// after it; `p` stays on the closing ']' (end) or on anything else (broken). The ',' is tested
// first: it is the usual byte there, and spaces cannot precede it unseen (a ',' is not a space).
[[gnu::always_inline]] inline after_item next_item(char*& p) {
  if (*p != ',') {
    p = skip_spaces(p);
    if (*p != ',') return *p == ']' ? after_item::end : after_item::broken;
  }
  p = skip_spaces(p + 1);
  return after_item::another;
}

// Bytes of NUL padding after a fast path's copy of the body: skip_plain reads 16 at a time,
// skip_digits 8.
constexpr std::size_t fast_padding = 16;
// Larger bodies go to RapidJSON at once: a body the fast path reads to its end and then leaves
// to RapidJSON (a duplicate key in a huge object) costs two parses, bounded so to well under a
// millisecond. Quotes are a few KB, a 200-swap list about 200 KB.
constexpr std::size_t fast_body_bytes = 256u << 10;

// Past the digits from `p`, eight bytes at a time: a number's end is found without a branch per
// digit (whose misprediction at every number's end was most of a book's parse): the lowest byte
// detail::non_digit_bytes flags is the first non-digit. Reads up to 7 bytes past a non-digit,
// within the padding.
[[gnu::always_inline]] inline char* skip_digits(char* p) {
  if constexpr (std::endian::native == std::endian::little) {
    for (;;) {
      std::uint64_t word = 0;
      std::memcpy(&word, p, sizeof word);
      const std::uint64_t other = detail::non_digit_bytes(word);
      if (other != 0) return p + (std::countr_zero(other) >> 3);
      p += sizeof word;
    }
  } else {
    while (is_digit(*p)) ++p;
    return p;
  }
}

#if defined(__SSE2__)
// Past the plain bytes from `p` (see plain_bytes), sixteen at a time (SSE2 is baseline on x86-64;
// most strings then take one step): a byte is plain when, read as signed, it is above 0x1f (so
// 0x20..0x7f, as bytes from 0x80 are negative) and is neither a quote nor a backslash. Each byte
// is judged on its own, so the lowest flag is the first byte that is not plain. Reads up to 15
// bytes past it, within the padding.
[[gnu::always_inline]] inline char* skip_plain(char* p) {
  const __m128i control_top = _mm_set1_epi8(0x1f);
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  for (;;) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i special =
        _mm_or_si128(_mm_cmpeq_epi8(bytes, quote), _mm_cmpeq_epi8(bytes, backslash));
    const __m128i plain = _mm_andnot_si128(special, _mm_cmpgt_epi8(bytes, control_top));
    const auto other = static_cast<unsigned>(_mm_movemask_epi8(plain)) ^ 0xffffu;
    if (other != 0) return p + std::countr_zero(other);
    p += 16;
  }
}
#else
// Past the plain bytes from `p` (see plain_bytes), eight at a time as skip_digits: a byte is
// flagged when it is a quote or a backslash (equal: zero after xor), below 0x20 or from 0x80;
// the lowest flag is exact.
[[gnu::always_inline]] inline char* skip_plain(char* p) {
  if constexpr (std::endian::native == std::endian::little) {
    constexpr std::uint64_t ones = 0x0101010101010101u;
    constexpr std::uint64_t high = 0x8080808080808080u;
    for (;;) {
      std::uint64_t word = 0;
      std::memcpy(&word, p, sizeof word);
      const std::uint64_t quote = word ^ (ones * '"');
      const std::uint64_t backslash = word ^ (ones * '\\');
      const std::uint64_t flags = (((quote - ones) & ~quote) | ((backslash - ones) & ~backslash) |
                                   ((word - ones * 0x20) & ~word) | word) &
                                  high;
      if (flags != 0) return p + (std::countr_zero(flags) >> 3);
      p += sizeof word;
    }
  } else {
    while (plain_bytes[static_cast<unsigned char>(*p)]) ++p;
    return p;
  }
}
#endif

// A string's text from `p` (after its opening quote) to `last`, unescaped in place; `p` ends
// after the closing quote. False for what the fast path leaves to RapidJSON (\u escapes, control
// characters, bytes outside ASCII) and for errors.
[[gnu::always_inline]] inline bool read_string(char*& p, char*& last) {
  p = skip_plain(p);
  if (*p == '"') {
    last = p++;
    return true;
  }
  char* out = p;
  for (;;) {
    const char c = *p;
    if (plain_bytes[static_cast<unsigned char>(c)]) {
      *out++ = c;
      ++p;
      continue;
    }
    if (c == '"') {
      last = out;
      ++p;
      return true;
    }
    if (c != '\\') return false;
    switch (p[1]) {
      case '"':
      case '\\':
      case '/':
        *out++ = p[1];
        break;
      case 'b':
        *out++ = '\b';
        break;
      case 'f':
        *out++ = '\f';
        break;
      case 'n':
        *out++ = '\n';
        break;
      case 'r':
        *out++ = '\r';
        break;
      case 't':
        *out++ = '\t';
        break;
      default:
        return false;
    }
    p += 2;
  }
}

// A JSON number from `p` in RapidJSON's grammar, `p` ending after it. False for errors and for
// what RapidJSON could refuse as too big even keeping the text: more than 300 integer digits or a
// positive exponent above 308 (RapidJSON refuses neither below those).
[[gnu::always_inline]] inline bool read_number(char*& p) {
  char* q = p;
  if (*q == '-') ++q;
  if (*q == '0') {
    ++q;
  } else if (*q >= '1' && *q <= '9') {
    const char* first = q;
    q = skip_digits(q);
    if (q - first > 300) return false;
  } else {
    return false;
  }
  if (*q == '.') {
    ++q;
    if (!is_digit(*q)) return false;
    q = skip_digits(q);
  }
  if (*q == 'e' || *q == 'E') {
    ++q;
    const bool negative = *q == '-';
    if (*q == '+' || *q == '-') ++q;
    if (!is_digit(*q)) return false;
    int exponent = 0;
    for (; is_digit(*q); ++q) {
      if (negative) continue;
      exponent = exponent * 10 + (*q - '0');
      if (exponent > 308) return false;
    }
  }
  p = q;
  return true;
}

// How a fast pass ended: a document, a body left to RapidJSON, or arrays reserved too small.
enum class fast_pass : std::uint8_t { done, refused, full };

}  // namespace

bool json_document_builder::parse_fast(std::string_view body, const json_limits& limits,
                                       json_document& doc) {
  using kind = json_value::kind;
  // Every value but the root is followed by a comma or a closing bracket: at most one per two
  // bytes. A first pass reserves for one per four (as the RapidJSON path) and starts over with
  // the bound if that is not enough.
  const std::size_t bound = std::min(body.size() / 2, limits.max_values) + 1;
  std::size_t reserve = std::min(body.size() / 4, limits.max_values) + 1;
  // A local: the limit is not read again at every value (stores through the arrays could alias).
  const std::size_t max_values = limits.max_values;
  scratch& s = thread_scratch();
  const auto pass = [&]() -> fast_pass {
    s.clear();
    doc.values_.clear();
    doc.keys_.clear();
    doc.values_.reserve(reserve);
    doc.keys_.reserve(reserve);
    std::copy(body.begin(), body.end(), doc.text_.get());
    std::fill_n(doc.text_.get() + body.size(), fast_padding, '\0');
    char* p = doc.text_.get();
    char* const end = p + body.size();
    std::size_t count = 0;
    std::span<const json_value> items;
    std::span<const std::string_view> keys;
    char* first = nullptr;
    char* last = nullptr;
    bool object = false;
    std::size_t n = 0;
    frame f{};
    const auto spaces = [&p] {
      while (is_space(*p)) ++p;
    };
    spaces();
  value:
    if (++count > max_values) return fast_pass::refused;
    if (*p == '{' || *p == '[') {
      if (s.frames.size() >= static_cast<std::size_t>(limits.max_depth)) {
        return fast_pass::refused;
      }
      object = *p == '{';
      s.frames.push_back({s.values.size(), s.names.size(), object ? kind::object : kind::array});
      ++p;
      spaces();
      if (*p == (object ? '}' : ']')) {
        ++p;
        goto close;
      }
      if (object) goto key;
      goto value;
    }
    {
      // Written in place: a copy of a value built on the stack costs more than reading it.
      json_value& v = s.frames.empty() ? static_cast<json_value&>(doc) : s.values.emplace_back();
      switch (*p) {
        case '"':
          first = ++p;
          if (!read_string(p, last)) return fast_pass::refused;
          v.type = kind::string;
          v.text = std::string_view(first, static_cast<std::size_t>(last - first));
          break;
        case 't':
          if (p[1] != 'r' || p[2] != 'u' || p[3] != 'e') return fast_pass::refused;
          p += 4;
          v.type = kind::boolean;
          v.flag = true;
          break;
        case 'f':
          if (p[1] != 'a' || p[2] != 'l' || p[3] != 's' || p[4] != 'e') return fast_pass::refused;
          p += 5;
          v.type = kind::boolean;
          break;
        case 'n':
          if (p[1] != 'u' || p[2] != 'l' || p[3] != 'l') return fast_pass::refused;
          p += 4;
          break;
        default:
          first = p;
          if (!read_number(p)) return fast_pass::refused;
          v.type = kind::number;
          v.text = std::string_view(first, static_cast<std::size_t>(p - first));
          break;
      }
    }
  placed:
    if (s.frames.empty()) {
      spaces();
      return p == end ? fast_pass::done : fast_pass::refused;
    }
    spaces();
    object = s.frames.back().type == kind::object;
    if (*p == ',') {
      ++p;
      spaces();
      if (object) goto key;
      goto value;
    }
    if (*p != (object ? '}' : ']')) return fast_pass::refused;
    ++p;
  close:
    f = s.frames.back();
    s.frames.pop_back();
    n = s.values.size() - f.first_child;
    if (doc.values_.size() + n > doc.values_.capacity()) return fast_pass::full;
    items = std::span<const json_value>(doc.values_.data() + doc.values_.size(), n);
    // The children leave the scratch stack by erase, not resize: the stacks only shrink here, and
    // erasing a tail of trivially destructible values is inline where resize is a call.
    doc.values_.insert(doc.values_.end(),
                       s.values.begin() + static_cast<std::ptrdiff_t>(f.first_child),
                       s.values.end());
    s.values.erase(s.values.begin() + static_cast<std::ptrdiff_t>(f.first_child), s.values.end());
    keys = {};
    if (f.type == kind::object) {
      const std::span<const std::string_view> names(s.names.data() + f.first_name, n);
      if (has_duplicate(names, s.sorted)) return fast_pass::refused;
      if (doc.keys_.size() + n > doc.keys_.capacity()) return fast_pass::full;
      keys = std::span<const std::string_view>(doc.keys_.data() + doc.keys_.size(), n);
      doc.keys_.insert(doc.keys_.end(), names.begin(), names.end());
      s.names.erase(s.names.begin() + static_cast<std::ptrdiff_t>(f.first_name), s.names.end());
    }
    {
      json_value& v = s.frames.empty() ? static_cast<json_value&>(doc) : s.values.emplace_back();
      v.type = f.type;
      v.items = items;
      v.keys = keys;
    }
    goto placed;
  key:
    if (*p != '"') return fast_pass::refused;
    first = ++p;
    if (!read_string(p, last)) return fast_pass::refused;
    s.names.emplace_back(first, static_cast<std::size_t>(last - first));
    spaces();
    if (*p != ':') return fast_pass::refused;
    ++p;
    spaces();
    goto value;
  };
  // The thread's spare storage when it is large enough (its contents are overwritten).
  document_storage* spare = spare_storage();
  const std::size_t text_bytes = body.size() + fast_padding;
  if (spare != nullptr && spare->text_capacity >= text_bytes) {
    doc.text_ = std::move(spare->text);
    doc.text_capacity_ = std::exchange(spare->text_capacity, 0);
  } else {
    doc.text_ = std::make_unique_for_overwrite<char[]>(text_bytes);
    doc.text_capacity_ = text_bytes;
  }
  if (spare != nullptr) {
    if (spare->values.capacity() >= reserve) doc.values_ = std::move(spare->values);
    if (spare->keys.capacity() >= reserve) doc.keys_ = std::move(spare->keys);
  }
  fast_pass outcome = pass();
  if (outcome == fast_pass::full && reserve < bound) {
    reserve = bound;
    outcome = pass();
  }
  s.trim();
  return outcome == fast_pass::done;
}

bool read_scalar_rows(std::string_view body, const json_limits& limits, std::size_t width,
                      std::string& buffer, scalar_row_sink take, void* context) {
  using kind = json_value::kind;
  if (body.size() > std::min(limits.max_body_bytes, fast_body_bytes) || limits.max_depth < 2 ||
      width == 0 || width > max_scalar_row) {
    return false;
  }
  // One row's room, reused by the next row.
  std::array<json_scalar, max_scalar_row> row;
  // NUL-padded as parse_json_text's copy: reads stop at a NUL.
  buffer.assign(body);
  buffer.append(fast_padding, '\0');
  char* p = buffer.data();
  char* const end = p + body.size();
  const std::size_t max_values = limits.max_values;
  std::size_t count = 1;
  char* first = nullptr;
  char* last = nullptr;
  p = skip_spaces(p);
  if (*p != '[') return false;
  ++p;
  p = skip_spaces(p);
  if (*p != ']') {
    for (;;) {
      if (*p != '[') return false;
      ++p;
      p = skip_spaces(p);
      std::size_t items = 0;
      if (*p != ']') {
        for (;;) {
          // A number in the row's first `width` (a book's every value) is read without the
          // other values' tests.
          if (items < width && (is_digit(*p) || *p == '-')) {
            first = p;
            if (!read_number(p)) return false;
            json_scalar& v = row[items++];
            v.type = kind::number;
            v.flag = false;
            v.text = std::string_view(first, static_cast<std::size_t>(p - first));
            const after_item next = next_item(p);
            if (next == after_item::another) continue;
            if (next == after_item::broken) return false;
            break;
          }
          json_scalar scratch;
          json_scalar& v = items < width ? row[items] : scratch;
          // Every field is written: the room still holds the previous row.
          v = json_scalar{};
          switch (*p) {
            case '"':
              first = ++p;
              // Escapes would be unescaped in place: parse_json_text's to read.
              if (!read_string(p, last) || p - first - 1 != last - first) return false;
              v.type = kind::string;
              v.text = std::string_view(first, static_cast<std::size_t>(last - first));
              break;
            case 't':
              if (p[1] != 'r' || p[2] != 'u' || p[3] != 'e') return false;
              p += 4;
              v.type = kind::boolean;
              v.flag = true;
              break;
            case 'f':
              if (p[1] != 'a' || p[2] != 'l' || p[3] != 's' || p[4] != 'e') return false;
              p += 5;
              v.type = kind::boolean;
              break;
            case 'n':
              if (p[1] != 'u' || p[2] != 'l' || p[3] != 'l') return false;
              p += 4;
              break;
            default:
              first = p;
              if (!read_number(p)) return false;
              v.type = kind::number;
              v.text = std::string_view(first, static_cast<std::size_t>(p - first));
              break;
          }
          ++items;
          const after_item next = next_item(p);
          if (next == after_item::another) continue;
          if (next == after_item::broken) return false;
          break;
        }
      }
      ++p;
      // The row and its values counted at its end, not one by one: a body over the limit is
      // refused all the same, before the row is taken.
      count += 1 + items;
      if (count > max_values || items < width || !take(context, row.data())) return false;
      const after_item next = next_item(p);
      if (next == after_item::another) continue;
      if (next == after_item::broken) return false;
      break;
    }
  }
  ++p;
  p = skip_spaces(p);
  return p == end;
}

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
  // The fast path refuses a body with a NUL byte (not a byte of any JSON token or string it
  // reads), so the NUL test below is needed only when it did not read the body.
  {
    json_document doc;
    if (body.size() <= fast_body_bytes && json_document_builder::parse_fast(body, limits, doc)) {
      return doc;
    }
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

namespace {

// Eight bytes of a fixed form: `digits` marks (0xff) the bytes that must be ASCII digits, the
// others must equal `fixed`'s. Separators are set to '0' before the digit test (the skip_digits
// test: with every byte a digit nothing carries, and a non-digit always flags itself).
struct iso_chunk {
  std::uint64_t digits = 0;
  std::uint64_t fixed = 0;
};

constexpr iso_chunk iso_form(std::string_view pattern) {  // 'D' a digit, else that byte
  iso_chunk out;
  for (std::size_t i = 0; i < 8; ++i) {
    const auto byte = static_cast<std::uint64_t>(static_cast<unsigned char>(pattern[i]));
    if (pattern[i] == 'D') {
      out.digits |= std::uint64_t{0xff} << (8 * i);
    } else {
      out.fixed |= byte << (8 * i);
    }
  }
  return out;
}

bool fits(const char* at, iso_chunk form) {
  std::uint64_t w = 0;
  std::memcpy(&w, at, sizeof w);
  if ((w & ~form.digits) != form.fixed) return false;
  const std::uint64_t d = (w & form.digits) | (0x3030303030303030u & ~form.digits);
  return (((d + 0x4646464646464646u) | (d - 0x3030303030303030u)) & 0x8080808080808080u) == 0;
}

// The providers' usual forms, "2026-11-21T14:30:15Z" and "2026-11-21T14:30:15.123Z", read at
// fixed places: false for anything else (other lengths, 't', an offset, a non-digit), which the
// general reading then takes, giving these forms the same fields.
bool fixed_iso_fields(std::string_view text, int& y, int& mo, int& d, int& h, int& mi, int& s,
                      std::int64_t& nanos) {
  if constexpr (std::endian::native != std::endian::little) return false;
  static constexpr iso_chunk date = iso_form("DDDD-DD-");
  static constexpr iso_chunk day_time = iso_form("DDTDD:DD");
  static constexpr iso_chunk seconds = iso_form("D:DD:DDZ");  // from byte 12
  static constexpr iso_chunk millis = iso_form(":DD.DDDZ");   // from byte 16
  const std::size_t n = text.size();
  const char* c = text.data();
  if (n == 20) {
    if (!fits(c, date) || !fits(c + 8, day_time) || !fits(c + 12, seconds)) return false;
    nanos = 0;
  } else if (n == 24) {
    if (!fits(c, date) || !fits(c + 8, day_time) || !fits(c + 16, millis)) return false;
    nanos = std::int64_t{((c[20] - '0') * 10 + (c[21] - '0')) * 10 + (c[22] - '0')} * 1'000'000;
  } else {
    return false;
  }
  const auto two = [c](std::size_t i) { return (c[i] - '0') * 10 + (c[i + 1] - '0'); };
  y = two(0) * 100 + two(2);
  mo = two(5);
  d = two(8);
  h = two(11);
  mi = two(14);
  s = two(17);
  return true;
}

}  // namespace

result<wall_time> parse_iso_timestamp(std::string_view text) {
  using namespace std::chrono;
  const auto bad = [&] {
    return fail(error_kind::invalid_argument,
                fmt::format("not an ISO 8601 date-time: \"{}\"", excerpt(text)));
  };
  std::size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  std::int64_t nanos = 0;
  int offset_minutes = 0;
  if (fixed_iso_fields(text, y, mo, d, h, mi, s, nanos)) goto fields_read;
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
fields_read:
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
