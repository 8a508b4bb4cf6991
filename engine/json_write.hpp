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

/// Writes compact JSON in call order; every call returns the writer, so calls may chain.
/// `raw_number` and `num` write decimal text as a JSON number (exact: no double on the way).
/// Not thread-safe; one per document.
class json_out {
 public:
  json_out& begin_object() { return w_.StartObject(), *this; }
  json_out& end_object() { return w_.EndObject(), *this; }
  json_out& begin_array() { return w_.StartArray(), *this; }
  json_out& end_array() { return w_.EndArray(), *this; }
  json_out& key(std::string_view k) {
    w_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    return *this;
  }
  json_out& str(std::string_view v) {
    w_.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    return *this;
  }
  json_out& raw_number(std::string_view v) {
    w_.RawValue(v.data(), v.size(), rapidjson::kNumberType);
    return *this;
  }
  json_out& num(decimal v) { return raw_number(v.to_string()); }
  /// Writes already-serialised JSON (an object or array this writer's user produced).
  json_out& raw_object(std::string_view v) {
    w_.RawValue(v.data(), v.size(), rapidjson::kObjectType);
    return *this;
  }
  json_out& null() { return w_.Null(), *this; }
  json_out& boolean(bool v) { return w_.Bool(v), *this; }
  json_out& integer(std::int64_t v) { return w_.Int64(v), *this; }
  json_out& str_or_null(std::string_view v) { return v.empty() ? null() : str(v); }
  /// ISO 8601 text (format_iso_timestamp).
  json_out& time(wall_time t) { return str(format_iso_timestamp(t)); }
  json_out& time_or_null(const std::optional<wall_time>& t) { return t ? time(*t) : null(); }
  json_out& field(std::string_view k, std::string_view v) { return key(k).str(v); }
  json_out& field(std::string_view k, decimal v) { return key(k).num(v); }
  json_out& field(std::string_view k, wall_time t) { return key(k).time(t); }
  json_out& field_int(std::string_view k, std::int64_t v) { return key(k).integer(v); }
  std::string take() const { return std::string(buffer_.GetString(), buffer_.GetSize()); }

 private:
  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> w_{buffer_};
};

}  // namespace swaprouter
