// The bounded JSON reader every adapter parses with, under limits picked by the input (byte 0:
// depth 1..64, byte 1: value budget), then the field reader over whatever object it returns and
// the ISO 8601 timestamp reader on the same bytes. Byte 1 = 0xff instead builds a large body
// from a short input (FAULTS.md 14: a million-deep array, a body over
// the size limit), read with the adapters' limits: see large_body.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/json_read.hpp"
#include "fuzz/fuzz_support.hpp"

namespace sf = swaprouter::fuzz;
using swaprouter::json_value;

namespace {

// Depth and value count of the tree, without recursion (a deep tree must not need a deep stack).
void measure(const json_value& root, int& depth, std::size_t& values) {
  std::vector<std::pair<const json_value*, int>> todo{{&root, 1}};
  while (!todo.empty()) {
    const auto [v, d] = todo.back();
    todo.pop_back();
    ++values;
    const bool container =
        v->type == json_value::kind::array || v->type == json_value::kind::object;
    if (container && d > depth) depth = d;
    if (v->type == json_value::kind::object) {
      sf::require(v->keys.size() == v->items.size(), "object keys and items differ");
    } else {
      sf::require(v->keys.empty(), "keys on a non-object");
    }
    for (const auto& item : v->items) todo.emplace_back(&item, d + 1);
  }
}

// Every read of every member, in every form: the first problem is kept, nothing throws.
void read_fields(const json_value& object) {
  for (const auto amounts : {swaprouter::json_amount::string, swaprouter::json_amount::number,
                             swaprouter::json_amount::either}) {
    swaprouter::json_fields in(object, "fuzz", amounts);
    for (const auto& key : object.keys) {
      (void)in.optional_text(key);
      (void)in.optional_amount(key);
      (void)in.optional_time(key);
      (void)in.integer(key, -1000, 1000);
      (void)in.boolean(key);
      (void)in.text(key);
      (void)in.amount(key);
      (void)in.time(key);
    }
    if (in.failed()) sf::check_error(swaprouter::result<int>(in.failure()));
  }
}

// Rows read_scalar_rows reads are the document's values.
void scalar_rows(std::string_view body, const swaprouter::json_limits& limits, std::size_t width,
                 const swaprouter::result<swaprouter::json_document>& root) {
  using swaprouter::json_scalar;
  struct collected {
    std::vector<json_scalar> values;
    std::size_t width;
  };
  collected streamed{{}, width};
  std::string buffer;
  const bool read = swaprouter::read_scalar_rows(
      body, limits, width, buffer,
      [](void* context, const json_scalar* row) {
        auto& to = *static_cast<collected*>(context);
        to.values.insert(to.values.end(), row, row + to.width);
        return true;
      },
      &streamed);
  const auto same = [](const json_scalar& a, const auto& b) {
    return a.type == b.type && a.flag == b.flag && a.text == b.text;
  };
  if (!read) return;
  const std::vector<json_scalar>& kept = streamed.values;
  sf::require(root.has_value() && root->type == json_value::kind::array &&
                  root->items.size() * width == kept.size(),
              "rows read from a body the document reader reads otherwise");
  for (std::size_t r = 0; r < root->items.size(); ++r) {
    const json_value& row = root->items[r];
    sf::require(row.type == json_value::kind::array && row.items.size() >= width,
                "a row the document reader reads otherwise");
    for (std::size_t i = 0; i < width; ++i) {
      sf::require(same(kept[r * width + i], row.items[i]), "a value the document reads otherwise");
    }
  }
}

// "HEAD\nUNIT\nTAIL": HEAD, then UNIT repeated to 1 MiB (or to just past the adapters' size
// limit), then TAIL. Refused by size, depth or value count, or read within every limit; never a
// crash, a deep recursion or a timeout.
void large_body(std::string_view rest, bool over_size) {
  const auto first = rest.find('\n');
  const std::string_view head = rest.substr(0, first);
  rest = first == std::string_view::npos ? std::string_view() : rest.substr(first + 1);
  const auto second = rest.find('\n');
  const std::string_view unit = rest.substr(0, second);
  const std::string_view tail =
      second == std::string_view::npos ? std::string_view() : rest.substr(second + 1);
  if (unit.empty()) return;
  const swaprouter::json_limits limits;  // the adapters' limits
  const std::size_t ends = head.size() + tail.size();
  // Over the limit: refused before parsing. Under it, 1 MiB is enough for a million-deep array
  // and for more values than the limit allows, and keeps the fuzzer fast.
  constexpr std::size_t mib = 1u << 20;
  const std::size_t bytes = over_size ? limits.max_body_bytes + 1 : mib - std::min(ends, mib);
  // The repeats by doubling: a few large copies rather than a million small appends.
  std::string repeated(unit);
  const std::size_t count = (bytes + unit.size() - 1) / unit.size();
  while (repeated.size() * 2 <= count * unit.size()) repeated += repeated;
  repeated.append(repeated, 0, count * unit.size() - repeated.size());
  std::string body;
  body.reserve(ends + repeated.size());
  body.append(head).append(repeated).append(tail);
  auto root = swaprouter::parse_json_text(body, "large", limits);
  sf::check_error(root);
  if (body.size() > limits.max_body_bytes) sf::require(!root, "body over the limit accepted");
  if (root) {
    int depth = 0;
    std::size_t values = 0;
    measure(*root, depth, values);
    sf::require(depth <= limits.max_depth && values <= limits.max_values, "limits not kept");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  if (data[1] == 0xff) {
    large_body(std::string_view(reinterpret_cast<const char*>(data) + 2, size - 2), data[0] & 1);
    return 0;
  }
  swaprouter::json_limits limits;
  limits.max_depth = 1 + data[0] % 64;
  limits.max_values = data[1] == 0 ? limits.max_values : std::size_t{data[1]} * 16;
  const std::string_view body(reinterpret_cast<const char*>(data) + 2, size - 2);

  auto root = swaprouter::parse_json_text(body, "fuzz", limits);
  sf::check_error(root);
  if (root) {
    int depth = 0;
    std::size_t values = 0;
    measure(*root, depth, values);
    sf::require(depth <= limits.max_depth, "tree deeper than the limit");
    sf::require(values <= limits.max_values, "more values than the limit");
    if (root->type == json_value::kind::object) read_fields(*root);
    for (const auto& item : root->items) {
      if (item.type == json_value::kind::object) read_fields(item);
    }
  }

  scalar_rows(body, limits, 1 + data[0] % 12, root);

  auto t = swaprouter::parse_iso_timestamp(body);
  sf::check_error(t);
  if (t) {
    const auto again = swaprouter::parse_iso_timestamp(swaprouter::format_iso_timestamp(*t));
    sf::require(!again || *again == std::chrono::floor<std::chrono::milliseconds>(*t),
                "timestamp does not read back");
  }
  sf::require(sf::printable_and_bounded(swaprouter::excerpt(body)), "excerpt not printable");
  return 0;
}
