#pragma once
// The dashboard's files, embedded at build time (embed.cmake). Immutable,
// thread-safe: plain data.
#include <string_view>
#include <vector>

namespace jobtrail::http::ui {

struct Asset {
  std::string_view name;          // "app.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view body;
  std::string_view etag;          // "\"<16 hex digits of its SHA-256>\""
};

// Every file, index.html first.
const std::vector<Asset>& Assets();
// The file named `name`, or null.
const Asset* FindAsset(std::string_view name);

}  // namespace jobtrail::http::ui
