#pragma once
// A Server-Sent Events client for the tests, on libcurl: streams a GET and
// hands each event (and each comment) to a callback as it arrives. The
// callback returning false ends the connection there, as a client that is
// killed would.
//
// Not thread-safe: one client per thread.
#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace jobtrail::testing {

struct SseEvent {
  std::string id;     // "" when the event has none
  std::string event;  // "" for a plain message
  std::string data;
  bool comment = false;  // a ":" line (heartbeat); `data` holds its text
};

struct SseResult {
  long status = 0;                // 0: no answer at all
  std::string content_type;
  bool aborted = false;           // the callback ended it
  std::string body;               // a non-stream answer's body (errors)
};

class SseParser {
 public:
  // Feeds bytes; calls `sink` per complete event. False once sink said stop.
  bool Feed(std::string_view bytes, const std::function<bool(const SseEvent&)>& sink) {
    buffer_.append(bytes);
    size_t end;
    while ((end = buffer_.find("\n\n")) != std::string::npos) {
      std::string block = buffer_.substr(0, end);
      buffer_.erase(0, end + 2);
      SseEvent e;
      bool has_field = false;  // id, event or data: an event
      bool has_comment = false;
      std::string comment;
      size_t start = 0;
      while (start < block.size()) {
        size_t nl = block.find('\n', start);
        if (nl == std::string::npos) nl = block.size();
        const std::string line = block.substr(start, nl - start);
        start = nl + 1;
        if (line.empty()) continue;
        if (line[0] == ':') {
          if (!has_comment) comment = line.substr(1);
          has_comment = true;
          continue;
        }
        const size_t colon = line.find(':');
        const std::string field = line.substr(0, colon);
        std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') value.erase(0, 1);
        if (field == "id") e.id = value, has_field = true;
        if (field == "event") e.event = value, has_field = true;
        if (field == "data") e.data += value, has_field = true;
      }
      if (!has_field) {
        if (!has_comment) continue;
        e.comment = true;
        e.data = comment;
      }
      if (!sink(e)) return false;
    }
    return true;
  }

 private:
  std::string buffer_;
};

class SseClient {
 public:
  SseClient() : curl_(curl_easy_init()) {}
  ~SseClient() { curl_easy_cleanup(curl_); }
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  // `cancel` (may be null) set: the connection ends within about a second
  // even if nothing arrives (libcurl's progress callback).
  SseResult Stream(const std::string& url, const std::vector<std::string>& headers,
                   std::function<bool(const SseEvent&)> on_event,
                   const std::atomic<bool>* cancel = nullptr) {
    SseResult result;
    State state{&result, std::move(on_event), SseParser{}, false, cancel};
    curl_easy_reset(curl_);
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &SseClient::Write);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &state);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl_, CURLOPT_XFERINFOFUNCTION, &SseClient::Progress);
    curl_easy_setopt(curl_, CURLOPT_XFERINFODATA, &state);
    curl_slist* list = nullptr;
    for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
    list = curl_slist_append(list, "Accept: text/event-stream");
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, list);
    const CURLcode code = curl_easy_perform(curl_);
    curl_slist_free_all(list);
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &result.status);
    char* type = nullptr;
    curl_easy_getinfo(curl_, CURLINFO_CONTENT_TYPE, &type);
    if (type != nullptr) result.content_type = type;
    result.aborted = (code == CURLE_WRITE_ERROR && state.stopped) ||
                     code == CURLE_ABORTED_BY_CALLBACK;
    return result;
  }

 private:
  struct State {
    SseResult* result;
    std::function<bool(const SseEvent&)> on_event;
    SseParser parser;
    bool stopped = false;
    const std::atomic<bool>* cancel = nullptr;
  };

  static int Progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* state = static_cast<State*>(user);
    return state->cancel != nullptr && state->cancel->load() ? 1 : 0;
  }

  static size_t Write(char* data, size_t size, size_t n, void* user) {
    auto* state = static_cast<State*>(user);
    const std::string_view bytes(data, size * n);
    // An error answer's body, for messages (a stream's is not kept).
    if (state->result->body.size() < (1 << 16)) state->result->body.append(bytes);
    if (!state->parser.Feed(bytes, state->on_event)) {
      state->stopped = true;
      return 0;  // aborts the transfer: the connection is closed
    }
    return size * n;
  }

  CURL* curl_;
};

}  // namespace jobtrail::testing
