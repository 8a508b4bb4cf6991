// A compact JSON writer with string_view helpers, for request bodies and emulator answers.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/json_read.hpp"
#include "engine/venue.hpp"

namespace swaprouter {

/// Writes compact JSON in call order. `raw_number` writes decimal text as a JSON number
/// (exact: no double on the way). Not thread-safe; one per document.
class json_out {
 public:
  void begin_object() { w_.StartObject(); }
  void end_object() { w_.EndObject(); }
  void begin_array() { w_.StartArray(); }
  void end_array() { w_.EndArray(); }
  void key(std::string_view k) { w_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); }
  void str(std::string_view v) { w_.String(v.data(), static_cast<rapidjson::SizeType>(v.size())); }
  void raw_number(std::string_view v) { w_.RawValue(v.data(), v.size(), rapidjson::kNumberType); }
  /// Writes already-serialised JSON (an object or array this writer's user produced).
  void raw_object(std::string_view v) { w_.RawValue(v.data(), v.size(), rapidjson::kObjectType); }
  void null() { w_.Null(); }
  void boolean(bool v) { w_.Bool(v); }
  void integer(std::int64_t v) { w_.Int64(v); }
  void str_or_null(std::string_view v) {
    if (v.empty()) {
      null();
    } else {
      str(v);
    }
  }
  void time(wall_time t) { str(format_iso_timestamp(t)); }
  void field(std::string_view k, std::string_view v) {
    key(k);
    str(v);
  }
  std::string take() const { return std::string(buffer_.GetString(), buffer_.GetSize()); }

 private:
  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> w_{buffer_};
};

}  // namespace swaprouter
