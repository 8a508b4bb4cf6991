// The JSON log line of `run --log-format json`: fields lifted from the bot's messages, escaping
// that keeps every line valid JSON.
#include "observability/log_format.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <chrono>
#include <string>

namespace swaprouter::observability {
namespace {

using namespace std::chrono_literals;

const auto t0 = std::chrono::system_clock::time_point(std::chrono::seconds(1'795'247'505)) + 184ms;

rapidjson::Document parse(const std::string& line) {
  EXPECT_TRUE(line.ends_with("}\n")) << line;
  rapidjson::Document doc;
  doc.Parse(line.data(), line.size() - 1);
  EXPECT_FALSE(doc.HasParseError()) << line;
  EXPECT_TRUE(doc.IsObject()) << line;
  return doc;
}

TEST(LogFormat, PhaseLineCarriesLegAndIntentIds) {
  const std::string line =
      format_json_line(t0, "info", "phase leg=I17-usdt-copm-1-L0-A0 filled: provider status Done");
  EXPECT_EQ(line,
            "{\"time\":\"2026-11-21T07:51:45.184Z\",\"level\":\"info\",\"event\":\"phase\","
            "\"intent\":\"I17-usdt-copm-1\",\"leg\":\"I17-usdt-copm-1-L0-A0\","
            "\"message\":\"phase leg=I17-usdt-copm-1-L0-A0 filled: provider status Done\"}\n");
}

TEST(LogFormat, DecisionLineCarriesStrategyAndIntent) {
  const log_fields f =
      parse_log_fields("decision strategy=usdt-copm intent=I1-usdt-copm-3 intent: spend 100 USDT");
  EXPECT_EQ(f.event, "decision");
  EXPECT_EQ(f.strategy, "usdt-copm");
  EXPECT_EQ(f.intent, "I1-usdt-copm-3");
  EXPECT_EQ(f.leg, "");
  const log_fields idle = parse_log_fields("decision strategy=twap intent=- idle: waiting");
  EXPECT_EQ(idle.intent, "");  // "-" means none
}

TEST(LogFormat, EventWordAndProvider) {
  EXPECT_EQ(parse_log_fields("halt: 3 unknown outcomes within 60s").event, "halt");
  EXPECT_EQ(parse_log_fields("balances provider=onek unavailable: timeout").provider, "onek");
  EXPECT_EQ(parse_log_fields("Recovered 2 legs").event, "log");
  EXPECT_EQ(parse_log_fields("").event, "log");
  EXPECT_EQ(parse_log_fields("x=1 y").event, "log");
}

TEST(LogFormat, EscapesControlCharactersAndBytesThatAreNotUtf8) {
  const std::string message =
      std::string("alarm provider said \"no\"\n\t\\ caf\xc3\xa9 \xff\xfe end");
  const std::string line = format_json_line(t0, "warning", message);
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // one line
  const auto doc = parse(line);
  EXPECT_STREQ(doc["level"].GetString(), "warning");
  EXPECT_STREQ(doc["event"].GetString(), "alarm");
  EXPECT_EQ(std::string(doc["message"].GetString()),
            "alarm provider said \"no\"\n\t\\ caf\xc3\xa9 \xc3\xbf\xc3\xbe end");
}

TEST(LogFormat, ParsesItsName) {
  EXPECT_EQ(parse_log_format("json"), log_format::json);
  EXPECT_EQ(parse_log_format("human"), log_format::human);
  EXPECT_FALSE(parse_log_format("JSON").has_value());
}

}  // namespace
}  // namespace swaprouter::observability
