#include "http/server/router.h"

#include <algorithm>

namespace jobtrail::http {
namespace {

bool IsParam(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

bool Router::Add(std::string method, std::string pattern, RouteHandler handler) {
  Entry entry;
  for (std::string_view s : SplitPath(pattern)) entry.segments.emplace_back(s);
  entry.method = std::move(method);
  entry.pattern = std::move(pattern);
  entry.handler = std::move(handler);
  for (Entry& e : routes_) {
    if (e.method == entry.method && e.segments == entry.segments) {
      e = std::move(entry);
      return false;
    }
  }
  routes_.push_back(std::move(entry));
  return true;
}

bool Router::MatchSegments(const Entry& e,
                           const std::vector<std::string_view>& path,
                           std::vector<bool>& literal_mask, StringPairs* params) {
  if (e.segments.size() != path.size()) return false;
  literal_mask.assign(path.size(), false);
  for (size_t i = 0; i < path.size(); ++i) {
    const std::string& seg = e.segments[i];
    if (IsParam(seg)) continue;
    if (seg != path[i]) return false;
    literal_mask[i] = true;
  }
  if (params != nullptr) {
    params->clear();
    for (size_t i = 0; i < path.size(); ++i) {
      const std::string& seg = e.segments[i];
      if (IsParam(seg)) {
        params->emplace_back(seg.substr(1, seg.size() - 2), std::string(path[i]));
      }
    }
  }
  return true;
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  const std::vector<std::string_view> segments = SplitPath(path);
  Match match;
  std::vector<bool> mask;
  std::vector<bool> best_mask;
  bool found = false;
  for (size_t i = 0; i < routes_.size(); ++i) {
    const Entry& e = routes_[i];
    if (!MatchSegments(e, segments, mask, nullptr)) continue;
    if (e.method != method) {
      if (std::find(match.allowed.begin(), match.allowed.end(), e.method) ==
          match.allowed.end()) {
        match.allowed.push_back(e.method);
      }
      continue;
    }
    // vector<bool> compares lexicographically: a literal (true) at the first
    // differing segment wins.
    if (!found || mask > best_mask) {
      found = true;
      best_mask = mask;
      match.route_index = i;
    }
  }
  std::sort(match.allowed.begin(), match.allowed.end());
  if (found) {
    match.kind = Match::Kind::kFound;
    MatchSegments(routes_[match.route_index], segments, mask, &match.params);
  } else if (!match.allowed.empty()) {
    match.kind = Match::Kind::kMethodNotAllowed;
  }
  return match;
}

std::vector<RouteInfo> Router::routes() const {
  std::vector<RouteInfo> out;
  out.reserve(routes_.size());
  for (const Entry& e : routes_) out.push_back({e.method, e.pattern});
  return out;
}

}  // namespace jobtrail::http
