#include "engine/hmac.hpp"

#include <gtest/gtest.h>

#include <array>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace swaprouter {
namespace {

static_assert(!std::is_copy_constructible_v<hmac_sha256>);
static_assert(!std::is_copy_assignable_v<hmac_sha256>);
static_assert(std::is_nothrow_move_constructible_v<hmac_sha256>);

std::string repeat(char c, std::size_t n) { return std::string(n, c); }

struct rfc4231_case {
  const char* name;
  std::string key;
  std::string data;
  const char* expected;
};

// RFC 4231 section 4, HMAC-SHA-256 results. Case 5 (output truncated to 128 bits) does not apply.
std::vector<rfc4231_case> rfc4231_cases() {
  std::string key4;
  for (char c = 0x01; c <= 0x19; ++c) key4.push_back(c);
  return {
      {"case1", repeat('\x0b', 20), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"case2", "Jefe", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {"case3", repeat('\xaa', 20), repeat('\xdd', 50),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {"case4", key4, repeat('\xcd', 50),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {"case6", repeat('\xaa', 131), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {"case7", repeat('\xaa', 131),
       "This is a test using a larger than block-size key and a larger than block-size data. The "
       "key needs to be hashed before being used by the HMAC algorithm.",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
}

TEST(Hmac, Rfc4231Vectors) {
  for (const rfc4231_case& c : rfc4231_cases()) {
    hmac_sha256 mac(c.key);
    EXPECT_EQ(mac.sign_hex(c.data), c.expected) << c.name;
    EXPECT_EQ(to_hex(mac.sign(c.data)), c.expected) << c.name;
  }
}

TEST(Hmac, EmptyKeyAndEmptyData) {
  hmac_sha256 mac("");
  EXPECT_EQ(mac.sign_hex(""), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
  EXPECT_EQ(mac.sign_hex(std::string_view{}),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(Hmac, PiecesEqualConcatenation) {
  hmac_sha256 mac("Jefe");
  EXPECT_EQ(mac.sign_hex({"what do ya ", "want", "", " for nothing?"}),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

  const std::string access_key = "ak_live_123";
  const std::string path = "/v1/swap/open?from=USDT&to=COPM";
  const std::string timestamp = "1700000000123";
  const std::string body = R"({"amount":"100.00"})";
  const std::string joined = access_key + path + timestamp + body;
  EXPECT_EQ(mac.sign_hex({access_key, path, timestamp, body}), mac.sign_hex(joined));
  EXPECT_EQ(mac.sign({access_key, path, timestamp, body}), mac.sign(joined));

  const std::array<std::string_view, 4> pieces{access_key, path, timestamp, body};
  EXPECT_EQ(mac.sign_hex(std::span<const std::string_view>(pieces)), mac.sign_hex(joined));
  EXPECT_EQ(mac.sign_hex(std::initializer_list<std::string_view>{}), mac.sign_hex(""));
}

TEST(Hmac, ReusedContextRepeats) {
  hmac_sha256 mac(repeat('\xaa', 131));
  const std::string expected = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54";
  const std::string data = "Test Using Larger Than Block-Size Key - Hash Key First";
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(mac.sign_hex(data), expected) << "call " << i;
    // Interleaved different messages must not leak state into the next signature.
    ASSERT_EQ(mac.sign_hex({"x", std::to_string(i)}), mac.sign_hex("x" + std::to_string(i)));
  }
}

TEST(Hmac, MoveKeepsKeyAndMovedFromThrows) {
  hmac_sha256 a("Jefe");
  hmac_sha256 b(std::move(a));
  EXPECT_EQ(b.sign_hex("what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_THROW(a.sign("x"), std::logic_error);  // NOLINT(bugprone-use-after-move)

  hmac_sha256 c("other");
  c = std::move(b);
  EXPECT_EQ(c.sign_hex("what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Hmac, ToHex) {
  const std::array<unsigned char, 5> bytes{0x00, 0x0f, 0x10, 0xab, 0xff};
  EXPECT_EQ(to_hex(bytes), "000f10abff");
  EXPECT_EQ(to_hex(std::span<const unsigned char>{}), "");
}

}  // namespace
}  // namespace swaprouter
