#pragma once
// Comparing a dialect's answer with its seed's documented example, field by
// field: same keys (no more, no fewer), same JSON types, same values. In the
// expected text the string "<string>" matches any string (ids the server
// makes up) and "<number>" any number.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <set>
#include <string>

namespace jobtrail::testing {

inline std::string JsonText(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

inline void ExpectJsonMatches(const rapidjson::Value& actual, const rapidjson::Value& expected,
                              const std::string& path) {
  if (expected.IsString()) {
    const std::string e = expected.GetString();
    if (e == "<string>") {
      EXPECT_TRUE(actual.IsString()) << path << ": expected a string, got " << JsonText(actual);
      return;
    }
    if (e == "<number>") {
      EXPECT_TRUE(actual.IsNumber()) << path << ": expected a number, got " << JsonText(actual);
      return;
    }
  }
  if (expected.IsObject()) {
    ASSERT_TRUE(actual.IsObject()) << path << ": expected an object, got " << JsonText(actual);
    std::set<std::string> seen;
    for (auto it = expected.MemberBegin(); it != expected.MemberEnd(); ++it) {
      const std::string key = it->name.GetString();
      seen.insert(key);
      auto a = actual.FindMember(key.c_str());
      if (a == actual.MemberEnd()) {
        ADD_FAILURE() << path << "." << key << ": missing";
        continue;
      }
      ExpectJsonMatches(a->value, it->value, path + "." + key);
    }
    for (auto it = actual.MemberBegin(); it != actual.MemberEnd(); ++it) {
      EXPECT_TRUE(seen.count(it->name.GetString()))
          << path << "." << it->name.GetString() << ": not in the seed's example";
    }
    return;
  }
  if (expected.IsArray()) {
    ASSERT_TRUE(actual.IsArray()) << path << ": expected an array, got " << JsonText(actual);
    ASSERT_EQ(actual.Size(), expected.Size()) << path << ": " << JsonText(actual);
    for (rapidjson::SizeType i = 0; i < expected.Size(); ++i) {
      ExpectJsonMatches(actual[i], expected[i], path + "[" + std::to_string(i) + "]");
    }
    return;
  }
  if (expected.IsNumber()) {
    ASSERT_TRUE(actual.IsNumber()) << path << ": expected a number, got " << JsonText(actual);
    EXPECT_EQ(actual.IsInt64(), expected.IsInt64()) << path << ": integer vs fraction, got "
                                                    << JsonText(actual);
    EXPECT_DOUBLE_EQ(actual.GetDouble(), expected.GetDouble()) << path;
    return;
  }
  EXPECT_TRUE(actual == expected) << path << ": expected " << JsonText(expected) << ", got "
                                  << JsonText(actual);
}

// `body` against the seed's example `expected` (JSON text).
inline void ExpectMatchesSeed(const std::string& body, const std::string& expected) {
  rapidjson::Document a, e;
  a.Parse(body.data(), body.size());
  ASSERT_FALSE(a.HasParseError()) << body;
  e.Parse(expected.data(), expected.size());
  ASSERT_FALSE(e.HasParseError()) << "bad expected JSON: " << expected;
  ExpectJsonMatches(a, e, "$");
}

}  // namespace jobtrail::testing
