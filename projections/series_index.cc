#include "projections/series_index.h"

#include <fmt/format.h>

#include <bit>
#include <memory>

#include "projections/view_keys.h"

namespace jobtrail {
namespace vk = view_keys;
namespace {

constexpr std::string_view kRowPrefix = "m";
constexpr std::string_view kLatestKey = "M";

std::string TypePrefix(std::string_view type) {
  std::string k(kRowPrefix);
  k.append(type);
  k.push_back('\0');
  return k;
}
std::string RowKey(std::string_view type, Millis minute) {
  return TypePrefix(type) + vk::EncodeU64(vk::SortableTime(minute));
}
Millis MinuteOf(Millis t) { return t - ((t % kMinuteMs) + kMinuteMs) % kMinuteMs; }

Error Io(const rocksdb::Status& s) { return Internal(fmt::format("views: {}", s.ToString())); }

void Merge(SeriesIndex::Row& into, const SeriesIndex::Row& from) {
  into.counts.enqueued += from.counts.enqueued;
  into.counts.started += from.counts.started;
  into.counts.completed += from.counts.completed;
  into.counts.failed += from.counts.failed;
  into.counts.retried += from.counts.retried;
  into.counts.cancelled += from.counts.cancelled;
  if (from.processing.count() == 0) return;  // most events: nothing finished
  std::map<int, uint64_t> buckets = into.processing.buckets();
  for (const auto& [b, n] : from.processing.buckets()) buckets[b] += n;
  into.processing.Restore(std::move(buckets),
                          into.processing.sum_ms() + from.processing.sum_ms(),
                          into.processing.count() + from.processing.count());
}

// counts (6 x u64), sum (f64 bits), count, n, then n x (bucket, count).
std::string Encode(const SeriesIndex::Row& r) {
  std::string out;
  const SeriesCounts& c = r.counts;
  for (uint64_t v : {c.enqueued, c.started, c.completed, c.failed, c.retried, c.cancelled}) {
    out += vk::EncodeU64(v);
  }
  out += vk::EncodeU64(std::bit_cast<uint64_t>(r.processing.sum_ms()));
  out += vk::EncodeU64(r.processing.count());
  out += vk::EncodeU64(r.processing.buckets().size());
  for (const auto& [b, n] : r.processing.buckets()) {
    out += vk::EncodeU64(uint64_t(int64_t(b)));
    out += vk::EncodeU64(n);
  }
  return out;
}

Result<SeriesIndex::Row> Decode(std::string_view in) {
  auto bad = [] { return DataLoss("views: a malformed series row"); };
  if (in.size() < 9 * 8) return bad();
  auto next = [&] {
    const uint64_t v = vk::DecodeU64(in);
    in.remove_prefix(8);
    return v;
  };
  SeriesIndex::Row r;
  SeriesCounts& c = r.counts;
  for (uint64_t* v : {&c.enqueued, &c.started, &c.completed, &c.failed, &c.retried,
                      &c.cancelled}) {
    *v = next();
  }
  const double sum = std::bit_cast<double>(next());
  const uint64_t count = next();
  const uint64_t n = next();
  if (in.size() != n * 16) return bad();
  std::map<int, uint64_t> buckets;
  for (uint64_t i = 0; i < n; ++i) {
    const int b = int(int64_t(next()));
    buckets[b] = next();
  }
  r.processing.Restore(std::move(buckets), sum, count);
  return r;
}

}  // namespace

Millis SeriesIndex::Cutoff() const { return DayStart(latest_) - kSeriesKeepDays * kDayMs; }

Result<void> SeriesIndex::Load(rocksdb::DB* views) {
  std::string value;
  rocksdb::Status s = views->Get(rocksdb::ReadOptions(), kLatestKey, &value);
  if (s.IsNotFound()) {
    latest_ = pruned_ = 0;
    types_.clear();
    return Ok();
  }
  if (!s.ok()) return Io(s);
  if (value.size() != 8) return DataLoss("views: the series' newest time is malformed");
  latest_ = vk::TimeFromSortable(vk::DecodeU64(value));
  pruned_ = Cutoff();
  // The types with rows, one seek each.
  std::unique_ptr<rocksdb::Iterator> it(views->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(kRowPrefix); it->Valid() && it->key().starts_with(kRowPrefix);) {
    const std::string_view key = it->key().ToStringView();
    const size_t zero = key.find('\0');
    if (zero == std::string_view::npos) return DataLoss("views: a malformed series key");
    std::string type(key.substr(1, zero - 1));
    std::string after = TypePrefix(type);
    after.back() = '\x01';
    types_.insert(std::move(type));
    it->Seek(after);
  }
  if (!it->status().ok()) return Io(it->status());
  return Ok();
}

void SeriesIndex::Observe(const JobView& after, const RecordedEvent& event) {
  Row delta;
  switch (KindOf(event.body)) {
    case EventKind::kEnqueued: delta.counts.enqueued = 1; break;
    case EventKind::kStarted: delta.counts.started = 1; break;
    case EventKind::kRetried: delta.counts.retried = 1; break;
    case EventKind::kCancelled: delta.counts.cancelled = 1; break;
    case EventKind::kCompleted:
    case EventKind::kFailed:
      (KindOf(event.body) == EventKind::kCompleted ? delta.counts.completed
                                                   : delta.counts.failed) = 1;
      if (auto t = after.ProcessingTime()) delta.processing.Add(*t);
      break;
    default:
      return;
  }
  latest_ = std::max(latest_, event.timestamp);
  const Millis minute = MinuteOf(event.timestamp);
  // What falls out of the kept history need not be held (a rebuild
  // observes years of log before it writes).
  if (const Millis cutoff = Cutoff(); cutoff > pending_cutoff_) {
    pending_cutoff_ = cutoff;
    std::erase_if(pending_, [&](const auto& entry) { return entry.first.second < cutoff; });
    last_row_ = last_all_ = nullptr;
  }
  if (minute < pending_cutoff_) return;
  // Consecutive events mostly share their type and minute: the rows they
  // last went to are found again without a lookup (map nodes are stable).
  if (last_row_ == nullptr || last_minute_ != minute || last_type_ != after.spec.type) {
    last_row_ = &pending_[{after.spec.type, minute}];
    last_all_ = &pending_[{std::string(), minute}];
    last_minute_ = minute;
    last_type_ = after.spec.type;
  }
  Merge(*last_row_, delta);
  Merge(*last_all_, delta);
}

Result<void> SeriesIndex::Flush(rocksdb::DB* views, rocksdb::WriteBatch& batch) {
  if (pending_.empty()) return Ok();
  std::map<std::pair<std::string, Millis>, Row> pending;
  pending.swap(pending_);
  last_row_ = last_all_ = nullptr;
  const Millis cutoff = Cutoff();
  rocksdb::Status status;
  if (cutoff > pruned_) {
    for (const std::string& type : types_) {
      if (status.ok()) status = batch.DeleteRange(TypePrefix(type), RowKey(type, cutoff));
    }
    pruned_ = cutoff;
  }
  for (auto& [key, delta] : pending) {
    const auto& [type, minute] = key;
    if (minute < cutoff) continue;  // already out of the kept history
    const std::string row_key = RowKey(type, minute);
    std::string value;
    rocksdb::Status s = views->Get(rocksdb::ReadOptions(), row_key, &value);
    Row row;
    if (s.ok()) {
      BOOST_OUTCOME_TRY(stored, Decode(value));
      row = std::move(stored);
    } else if (!s.IsNotFound()) {
      return Io(s);
    }
    Merge(row, delta);
    if (status.ok()) status = batch.Put(row_key, Encode(row));
    types_.insert(type);
  }
  if (status.ok()) status = batch.Put(kLatestKey, vk::EncodeU64(vk::SortableTime(latest_)));
  if (!status.ok()) return Io(status);
  return Ok();
}

void SeriesIndex::MergeFrom(const SeriesIndex& other) {
  latest_ = std::max(latest_, other.latest_);
  for (const auto& [key, row] : other.pending_) Merge(pending_[key], row);
  // What falls out of the kept history now (WriteFresh skips it anyway).
  last_row_ = last_all_ = nullptr;
}

void SeriesIndex::WriteFresh(RowSink& sink) {
  if (latest_ == 0 && pending_.empty()) return;
  const Millis cutoff = Cutoff();
  for (const auto& [key, row] : pending_) {
    const auto& [type, minute] = key;
    if (minute < cutoff) continue;
    sink.Put(RowKey(type, minute), Encode(row));
    types_.insert(type);
  }
  pending_.clear();
  last_row_ = last_all_ = nullptr;
  pruned_ = cutoff;
  sink.Put(kLatestKey, vk::EncodeU64(vk::SortableTime(latest_)));
}

Result<std::vector<SeriesPoint>> ReadSeries(rocksdb::DB* views, const rocksdb::Snapshot* snapshot,
                                            const SeriesQuery& q) {
  if (q.step <= 0 || q.step % kMinuteMs != 0) {
    return InvalidArgument("step must be a whole number of minutes");
  }
  if (q.from % kMinuteMs != 0 || q.to <= q.from) {
    return InvalidArgument("from must be a whole minute before to");
  }
  const Millis points = (q.to - q.from + q.step - 1) / q.step;
  if (points > Millis(kMaxSeriesPoints)) {
    return InvalidArgument(fmt::format("at most {} points: widen the step", kMaxSeriesPoints));
  }
  using Row = SeriesIndex::Row;
  std::vector<Row> rows(size_t(points), Row{});
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  std::unique_ptr<rocksdb::Iterator> it(views->NewIterator(ro));
  const std::string prefix = TypePrefix(q.type);
  const std::string end = RowKey(q.type, q.to);
  for (it->Seek(RowKey(q.type, q.from)); it->Valid() && it->key().ToStringView() < end;
       it->Next()) {
    const std::string_view key = it->key().ToStringView();
    if (!key.starts_with(prefix) || key.size() != prefix.size() + 8) break;
    const Millis minute = vk::TimeFromSortable(vk::DecodeU64(key.substr(prefix.size())));
    BOOST_OUTCOME_TRY(row, Decode(it->value().ToStringView()));
    Merge(rows[size_t((minute - q.from) / q.step)], row);
  }
  if (!it->status().ok()) return Io(it->status());
  std::vector<SeriesPoint> out;
  out.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    out.push_back(SeriesPoint{q.from + Millis(i) * q.step, rows[i].counts,
                              rows[i].processing.Summarize()});
  }
  return out;
}

}  // namespace jobtrail
