#include "projections/lease_index.h"

namespace jobtrail {

void LeaseIndex::Set(std::string_view job_id, std::optional<Millis> deadline) {
  std::lock_guard lock(mu_);
  std::string id(job_id);
  if (auto it = by_job_.find(id); it != by_job_.end()) {
    if (deadline && *deadline == it->second) return;
    by_deadline_.erase({it->second, id});
    if (!deadline) {
      by_job_.erase(it);
      return;
    }
    it->second = *deadline;
  } else if (!deadline) {
    return;
  } else {
    by_job_.emplace(id, *deadline);
  }
  by_deadline_.emplace(*deadline, std::move(id));
}

LeaseIndex::Overdue LeaseIndex::Before(Millis before, size_t count_limit,
                                       size_t list_limit) const {
  Overdue out;
  std::lock_guard lock(mu_);
  for (auto it = by_deadline_.begin();
       it != by_deadline_.end() && it->first < before && out.count < count_limit; ++it) {
    ++out.count;
    if (out.ids.size() < list_limit) out.ids.push_back(it->second);
  }
  return out;
}

size_t LeaseIndex::size() const {
  std::lock_guard lock(mu_);
  return by_job_.size();
}

void LeaseIndex::Clear() {
  std::lock_guard lock(mu_);
  by_deadline_.clear();
  by_job_.clear();
}

}  // namespace jobtrail
