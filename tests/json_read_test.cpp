// The bounded JSON reader's document: values are views into storage the document owns (not into
// the body), strings unescaped, numbers as their source text, every limit refused with its text.
#include "engine/json_read.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace swaprouter {
namespace {

using kind = json_value::kind;

std::string error_of(std::string_view body, const json_limits& limits = {}) {
  auto doc = parse_json_text(body, "t", limits);
  return doc ? std::string("parsed") : doc.error().message;
}

TEST(JsonRead, ValuesOutliveTheBody) {
  std::string body = R"({"id":"abc","n":-12.50e3,"ok":true,"none":null,"list":[1,"two",[3]]})";
  auto parsed = parse_json_text(body, "t");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  // The body is overwritten and freed: the document keeps its own copy.
  std::fill(body.begin(), body.end(), 'x');
  body = std::string();
  json_document doc = std::move(*parsed);
  ASSERT_EQ(doc.type, kind::object);
  ASSERT_EQ(doc.keys.size(), 5u);
  EXPECT_EQ(doc.keys[0], "id");
  EXPECT_EQ(doc.keys[4], "list");
  EXPECT_EQ(doc.member("id")->text, "abc");
  EXPECT_EQ(doc.member("n")->type, kind::number);
  EXPECT_EQ(doc.member("n")->text, "-12.50e3");  // the source text, never a double
  EXPECT_TRUE(doc.member("ok")->flag);
  EXPECT_EQ(doc.member("none")->type, kind::null);
  EXPECT_EQ(doc.member("missing"), nullptr);
  const json_value& list = *doc.member("list");
  ASSERT_EQ(list.items.size(), 3u);
  EXPECT_TRUE(list.keys.empty());
  EXPECT_EQ(list.items[0].text, "1");
  EXPECT_EQ(list.items[1].type, kind::string);
  EXPECT_EQ(list.items[1].text, "two");
  ASSERT_EQ(list.items[2].items.size(), 1u);
  EXPECT_EQ(list.items[2].items[0].text, "3");
}

TEST(JsonRead, MovingTheDocumentKeepsItsViews) {
  auto parsed = parse_json_text(R"(["a","b"])", "t");
  ASSERT_TRUE(parsed.has_value());
  const json_value* first = &parsed->items[0];
  std::vector<json_document> docs;
  docs.push_back(std::move(*parsed));
  docs.reserve(16);  // moves the document again
  EXPECT_EQ(&docs[0].items[0], first);
  EXPECT_EQ(docs[0].items[1].text, "b");
  // A scalar root and an empty body's null default.
  auto scalar = parse_json_text(R"("only")", "t");
  ASSERT_TRUE(scalar.has_value());
  json_document moved = std::move(*scalar);
  EXPECT_EQ(moved.type, kind::string);
  EXPECT_EQ(moved.text, "only");
  EXPECT_EQ(json_document().type, kind::null);
}

TEST(JsonRead, EscapesAreUnescaped) {
  auto doc = parse_json_text(R"({"k\"ey":"a\\b\n\u00e9\ud83d\ude00\u0000z","plain":"x"})", "t");
  ASSERT_TRUE(doc.has_value()) << doc.error().message;
  ASSERT_EQ(doc->keys.size(), 2u);
  EXPECT_EQ(doc->keys[0], "k\"ey");
  EXPECT_EQ(doc->items[0].text, std::string_view("a\\b\n\xc3\xa9\xf0\x9f\x98\x80\0z", 12));
  EXPECT_EQ(doc->member("plain")->text, "x");
  // Raw UTF-8 is kept as sent; a body with non-ASCII bytes is validated.
  auto raw = parse_json_text("{\"caf\xc3\xa9\":\"\xe2\x82\xac 5\"}", "t");
  ASSERT_TRUE(raw.has_value()) << raw.error().message;
  EXPECT_EQ(raw->keys[0], "caf\xc3\xa9");
  EXPECT_EQ(raw->items[0].text, "\xe2\x82\xac 5");
  EXPECT_EQ(error_of("{\"caf\xc3\xa9\":\"\xe2\x82\"}"),
            "t: invalid JSON at offset 10: Invalid encoding in string.");
}

// Strings are scanned many bytes at a time: every length around a step, with the byte that ends
// the plain run (an escape, a byte outside ASCII, the body's end) at every place in it.
TEST(JsonRead, StringsEndWhereTheirTextEnds) {
  // A character of the text, and how the body writes it.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"\"", "\\\""},   {"\\", "\\\\"},           {"\n", "\\n"},
      {"\x7f", "\x7f"}, {"\xc3\xa9", "\xc3\xa9"}, {"~", "~"}};
  for (std::size_t length = 0; length < 40; ++length) {
    for (std::size_t at = 0; at <= length; ++at) {
      for (const auto& [raw, escaped] : cases) {
        std::string text(length, 'a');
        std::string json = text;
        text.insert(at, raw);
        json.insert(at, escaped);
        auto doc = parse_json_text("{\"" + json + "\":[\"" + json + "\"]}", "t");
        ASSERT_TRUE(doc.has_value()) << doc.error().message;
        EXPECT_EQ(doc->keys[0], text) << length << " " << at;
        EXPECT_EQ(doc->items[0].items[0].text, text) << length << " " << at;
      }
    }
    const std::string open = "\"" + std::string(length, 'a');
    EXPECT_EQ(error_of(open), "t: invalid JSON at offset " + std::to_string(open.size()) +
                                  ": Missing a closing quotation mark in string.");
    EXPECT_NE(error_of(open + "\x01\""), "parsed") << length;
  }
}

TEST(JsonRead, ContainersKeepTheirOwnChildren) {
  auto doc = parse_json_text(R"({"a":{"x":1,"y":[]},"b":[{"x":2},{}],"c":{}})", "t");
  ASSERT_TRUE(doc.has_value()) << doc.error().message;
  const json_value& a = *doc->member("a");
  ASSERT_EQ(a.keys.size(), 2u);
  EXPECT_EQ(a.member("x")->text, "1");
  EXPECT_EQ(a.member("y")->type, kind::array);
  EXPECT_TRUE(a.member("y")->items.empty());
  const json_value& b = *doc->member("b");
  ASSERT_EQ(b.items.size(), 2u);
  EXPECT_EQ(b.items[0].member("x")->text, "2");
  EXPECT_TRUE(b.items[1].keys.empty());
  EXPECT_EQ(b.items[1].type, kind::object);
  EXPECT_TRUE(doc->member("c")->items.empty());
}

TEST(JsonRead, DuplicateKeysAreRefusedWithinOneObjectOnly) {
  // The same key in two objects is fine.
  EXPECT_EQ(error_of(R"([{"a":1},{"a":2}])"), "parsed");
  EXPECT_EQ(error_of(R"({"a":{"a":1}})"), "parsed");
  EXPECT_EQ(error_of(R"({"a":1,"b":2,"a":3})"),
            "t: invalid JSON at offset 18: duplicate key \"a\"");
  // Two duplicated names: the smallest is named, whatever the order.
  EXPECT_EQ(error_of(R"({"z":1,"m":1,"z":2,"m":2})"),
            "t: invalid JSON at offset 24: duplicate key \"m\"");
  // Escaped and plain spellings of one name are the same key.
  EXPECT_EQ(error_of(R"({"ab":1,"a\u0062":2})"),
            "t: invalid JSON at offset 19: duplicate key \"ab\"");
  // A large object (sorted rather than compared pair by pair).
  std::string large = "{";
  for (int i = 0; i < 40; ++i) large += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  EXPECT_NE(error_of(large + R"("k7":0})").find(": duplicate key \"k7\""), std::string::npos);
  EXPECT_NE(error_of(large + R"("k7":0,"k12":0})").find(": duplicate key \"k12\""),
            std::string::npos);
  large.back() = '}';
  EXPECT_EQ(error_of(large), "parsed");
}

TEST(JsonRead, LimitsAndMalformedInput) {
  EXPECT_EQ(error_of("[1,2]", json_limits{.max_body_bytes = 4}), "t: body of 5 bytes exceeds 4");
  EXPECT_EQ(error_of(std::string_view("[1,\0 2]", 7)), "t: NUL byte in body");
  EXPECT_EQ(error_of("[[[1]]]", json_limits{.max_depth = 2}),
            "t: invalid JSON at offset 2: nested deeper than 2");
  EXPECT_EQ(error_of("[[[1]]]", json_limits{.max_depth = 3}), "parsed");
  EXPECT_EQ(error_of("[1,2,3]", json_limits{.max_values = 3}),
            "t: invalid JSON at offset 5: too many values");
  EXPECT_EQ(error_of("[1,2,3]", json_limits{.max_values = 4}), "parsed");
  EXPECT_EQ(error_of("\"\xff\""), "t: invalid JSON at offset 1: Invalid encoding in string.");
  // A body cut inside a multi-byte sequence: the validation reads its continuation bytes without
  // looking for the end (under ASan this was a read past the copy, found by the fuzz targets).
  for (const std::string_view cut : {"\"\xe0", "\"\xf4", "\"\xf0\x90", "\"\xf0\x90\x80", "\"\xed"}) {
    EXPECT_EQ(error_of(cut), "t: invalid JSON at offset 1: Invalid encoding in string.")
        << excerpt(cut);
  }
  EXPECT_EQ(error_of("{\"\xf4"), "t: invalid JSON at offset 2: Invalid encoding in string.");
  EXPECT_EQ(error_of(""), "t: invalid JSON at offset 0: The document is empty.");
  EXPECT_EQ(error_of("[1] 2"),
            "t: invalid JSON at offset 4: The document root must not be followed by other values.");
  EXPECT_EQ(error_of(R"({"a":01})"),
            "t: invalid JSON at offset 6: Missing a comma or '}' after an object member.");
}

TEST(JsonRead, FieldsReadFromTheDocument) {
  auto doc = parse_json_text(
      R"({"s":"x","d":"1.50","n":7,"b":false,"t":"2023-01-15T14:30:15Z","e":""})", "t");
  ASSERT_TRUE(doc.has_value());
  json_fields in(*doc, "obj");
  EXPECT_EQ(in.text("s"), "x");
  EXPECT_EQ(in.amount("d"), decimal::parse("1.5").value());
  EXPECT_EQ(in.integer("n", 0, 10), 7);
  EXPECT_FALSE(in.boolean("b"));
  EXPECT_EQ(format_iso_timestamp(in.time("t")), "2023-01-15T14:30:15Z");
  EXPECT_FALSE(in.failed());
  EXPECT_EQ(in.text("e"), "");
  EXPECT_EQ(in.failure().error().message, "obj.e: empty");
}

TEST(JsonRead, DenseBodyAndLargeBodyReadAsSmallOnes) {
  // One value per two bytes is more than a first reservation takes; past 256 KiB RapidJSON reads.
  for (const std::size_t n : {std::size_t{100}, std::size_t{100000}}) {
    std::string body = "[";
    for (std::size_t i = 0; i < n; ++i) body += i == 0 ? "7" : ",7";
    body += ']';
    auto doc = parse_json_text(body, "t");
    ASSERT_TRUE(doc.has_value()) << doc.error().message;
    ASSERT_EQ(doc->items.size(), n);
    EXPECT_EQ(doc->items.back().text, "7");
  }
}

// read_scalar_rows' rows one after another in `out` (cleared first).
bool read_rows(std::string_view body, const json_limits& limits, std::size_t width,
               std::string& buffer, std::vector<json_scalar>& out) {
  struct collected {
    std::vector<json_scalar>& values;
    std::size_t width;
  };
  out.clear();
  collected to{out, width};
  return read_scalar_rows(
      body, limits, width, buffer,
      [](void* context, const json_scalar* row) {
        auto& c = *static_cast<collected*>(context);
        c.values.insert(c.values.end(), row, row + c.width);
        return true;
      },
      &to);
}

TEST(JsonRead, ScalarRowsAreTheDocumentsValues) {
  std::string buffer;
  std::vector<json_scalar> out;
  const std::string body = R"( [[1,"a",true,null,4], [-0.5e-3,"b",false,2,3,[9]]] )";
  // The second row holds an array: left to the document.
  EXPECT_FALSE(read_rows(body, {}, 4, buffer, out));
  const std::string plain = R"( [[1,"a",true,null,4], [-0.5e-3,"b",false,2,3]] )";
  ASSERT_TRUE(read_rows(plain, {}, 4, buffer, out));
  ASSERT_EQ(out.size(), 8u);
  EXPECT_EQ(out[0].type, kind::number);
  EXPECT_EQ(out[0].text, "1");
  EXPECT_EQ(out[1].text, "a");
  EXPECT_TRUE(out[2].flag);
  EXPECT_EQ(out[3].type, kind::null);
  EXPECT_EQ(out[4].text, "-0.5e-3");
  EXPECT_EQ(out[5].type, kind::string);
  EXPECT_FALSE(out[6].flag);
  EXPECT_EQ(out[7].text, "2");
  ASSERT_TRUE(read_rows("[]", {}, 4, buffer, out));
  EXPECT_TRUE(out.empty());
  // Left to parse_json_text: a short row, an escape, malformed text, a limit, a body over 256 KiB.
  EXPECT_FALSE(read_rows("[[1,2,3]]", {}, 4, buffer, out));
  EXPECT_FALSE(read_rows(R"([["a\n",2,3,4]])", {}, 4, buffer, out));
  EXPECT_FALSE(read_rows("[[1,2,3,4],]", {}, 4, buffer, out));
  EXPECT_FALSE(read_rows("[[01,2,3,4]]", {}, 4, buffer, out));
  EXPECT_FALSE(read_rows("[[1,2,3,4]] x", {}, 4, buffer, out));
  json_limits six;
  six.max_values = 6;  // the root, the row and its four values
  EXPECT_TRUE(read_rows("[[1,2,3,4]]", six, 4, buffer, out));
  json_limits five;
  five.max_values = 5;
  EXPECT_FALSE(read_rows("[[1,2,3,4]]", five, 4, buffer, out));
  std::string large = "[[1,2,3," + std::string(300000, ' ') + "4]]";
  EXPECT_FALSE(read_rows(large, {}, 4, buffer, out));
}

// Each row is handed over as it is read, each value as the document reads it (the room of one
// row is reused for the next: nothing of a row shows in the next one).
TEST(JsonRead, ScalarRowsOneAtATime) {
  struct seen {
    std::vector<json_scalar> values;
    std::size_t stop_after = 100;
  };
  const auto take = [](void* context, const json_scalar* row) {
    auto& to = *static_cast<seen*>(context);
    to.values.insert(to.values.end(), row, row + 3);
    return to.values.size() / 3 < to.stop_after;
  };
  const std::string body = R"([["x",true,7], [null,false,"y"], [1.5,2,3,4]])";
  auto doc = parse_json_text(body, "t");
  ASSERT_TRUE(doc.has_value()) << doc.error().message;
  std::vector<const json_value*> kept;
  for (const json_value& row : doc->items) {
    for (std::size_t i = 0; i < 3; ++i) kept.push_back(&row.items[i]);
  }
  seen rows;
  std::string row_buffer;
  ASSERT_TRUE(read_scalar_rows(body, {}, 3, row_buffer, take, &rows));
  ASSERT_EQ(rows.values.size(), kept.size());
  for (std::size_t i = 0; i < kept.size(); ++i) {
    EXPECT_EQ(rows.values[i].type, kept[i]->type) << i;
    EXPECT_EQ(rows.values[i].flag, kept[i]->flag) << i;
    EXPECT_EQ(rows.values[i].text, kept[i]->text) << i;
  }
  EXPECT_EQ(rows.values[3].type, kind::null);
  EXPECT_EQ(rows.values[3].text, "");
  EXPECT_FALSE(rows.values[4].flag);
  // A false answer stops the reading; so does a row wider than the form reads.
  seen first_only;
  first_only.stop_after = 1;
  EXPECT_FALSE(read_scalar_rows(body, {}, 3, row_buffer, take, &first_only));
  EXPECT_EQ(first_only.values.size(), 3u);
  seen wide;
  EXPECT_FALSE(read_scalar_rows(body, {}, max_scalar_row + 1, row_buffer, take, &wide));
  EXPECT_TRUE(wide.values.empty());
}

// plain_amount reads by words what follows the text too: its answer is parse_plain's whatever
// those bytes are, for every form near its limits (8 digits a side, a '.' at either end, signs,
// exponents, other bytes at every place).
TEST(JsonRead, PlainAmountIsParsePlainWhateverFollows) {
  std::vector<std::string> texts = {"",
                                    "0",
                                    "7",
                                    "3988.005",
                                    "1.1234",
                                    "12345678",
                                    "123456789",
                                    "1.12345678",
                                    "1.123456789",
                                    "12345678.12345678",
                                    "123456789.5",
                                    "0.00100000",
                                    "294852.500000",
                                    ".5",
                                    "5.",
                                    ".",
                                    "-3.5",
                                    "+2",
                                    "1e5",
                                    "1.5e-3",
                                    "1..2",
                                    "1.2.3",
                                    "00012.50",
                                    "9999999999999999999",
                                    "0.000000000000000001",
                                    "1.0000000000000000001",
                                    " 1",
                                    "1 "};
  const std::string digits = "0123456789";
  for (std::size_t whole = 0; whole <= 10; ++whole) {
    for (std::size_t places = 0; places <= 10; ++places) {
      std::string t;
      for (std::size_t i = 0; i < whole; ++i) t += digits[(i * 7 + 3) % 10];
      t += '.';
      for (std::size_t i = 0; i < places; ++i) t += digits[(i * 3 + 1) % 10];
      texts.push_back(t);
      texts.push_back(t.substr(0, t.size() - (places != 0 ? 1 : 0)) + "x");
      if (places == 0) texts.push_back(t.substr(0, whole));
    }
  }
  const std::vector<std::string> afters = {std::string(8, '\0'), "99999999", ".1234567",
                                           "\"},{}:[]", "e5------"};
  for (const std::string& text : texts) {
    for (const std::string& after : afters) {
      const std::string padded = text + after;
      const std::string_view view(padded.data(), text.size());
      const auto expected = decimal::parse_plain(text);
      const auto got = plain_amount(view);
      ASSERT_EQ(got.has_value(), expected.has_value()) << text << " then " << after;
      if (expected) {
        EXPECT_TRUE(got->raw() == expected->raw()) << text << " then " << after;
      }
    }
  }
  const std::string book_price = std::string("3988.005") + std::string(8, '\0');
  EXPECT_TRUE(plain_amount(std::string_view(book_price.data(), 8)) ==
              decimal::from_raw(int128{3988005} * 1'000'000'000'000'000));
}

}  // namespace
}  // namespace swaprouter
