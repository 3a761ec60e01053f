#pragma once
// JsonWriter: RapidJSON's Writer with the few helpers every response needs
// (string_view keys and values, optional fields as null, embedding JSON text
// that is already valid). All response bodies are produced with it.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace jobtrail::http {

class JsonWriter {
 public:
  JsonWriter() : w_(buf_) {}

  JsonWriter& StartObject() { w_.StartObject(); return *this; }
  JsonWriter& EndObject() { w_.EndObject(); return *this; }
  JsonWriter& StartArray() { w_.StartArray(); return *this; }
  JsonWriter& EndArray() { w_.EndArray(); return *this; }

  JsonWriter& Key(std::string_view k) {
    w_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    return *this;
  }
  JsonWriter& String(std::string_view s) {
    w_.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    return *this;
  }
  JsonWriter& Uint(uint64_t v) { w_.Uint64(v); return *this; }
  JsonWriter& Int(int64_t v) { w_.Int64(v); return *this; }
  JsonWriter& Double(double v) { w_.Double(v); return *this; }
  JsonWriter& Bool(bool v) { w_.Bool(v); return *this; }
  JsonWriter& Null() { w_.Null(); return *this; }
  // Embeds JSON text that is known to be valid; empty text renders null.
  JsonWriter& Raw(std::string_view json) {
    if (json.empty()) return Null();
    w_.RawValue(json.data(), json.size(), rapidjson::kObjectType);
    return *this;
  }

  JsonWriter& Field(std::string_view k, std::string_view v) { return Key(k).String(v); }
  JsonWriter& Field(std::string_view k, const char* v) { return Key(k).String(v); }
  JsonWriter& Field(std::string_view k, uint64_t v) { return Key(k).Uint(v); }
  JsonWriter& Field(std::string_view k, int64_t v) { return Key(k).Int(v); }
  JsonWriter& Field(std::string_view k, int v) { return Key(k).Int(v); }
  JsonWriter& Field(std::string_view k, double v) { return Key(k).Double(v); }
  JsonWriter& Field(std::string_view k, bool v) { return Key(k).Bool(v); }
  template <typename T>
  JsonWriter& Field(std::string_view k, const std::optional<T>& v) {
    if (!v) return Key(k).Null();
    return Field(k, *v);
  }
  JsonWriter& StringOrNull(std::string_view k, std::string_view v) {
    return v.empty() ? Key(k).Null() : Field(k, v);
  }
  JsonWriter& RawField(std::string_view k, std::string_view json) {
    return Key(k).Raw(json);
  }

  std::string Take() const { return std::string(buf_.GetString(), buf_.GetSize()); }

 private:
  rapidjson::StringBuffer buf_;
  rapidjson::Writer<rapidjson::StringBuffer> w_;
};

// A JSON string literal for `s`, quotes included.
inline std::string JsonQuote(std::string_view s) {
  JsonWriter w;
  w.String(s);
  return w.Take();
}

}  // namespace jobtrail::http
