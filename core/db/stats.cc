// DB::StatsJson: the statistics of firkin_stats as one JSON object.
#include <cinttypes>
#include <cstdio>
#include <vector>

#include "core/compact/compactor.h"
#include "core/db/db.h"
#include "core/recovery/follower.h"
#include "core/util/epoch.h"

namespace firkin {
namespace {

void AppendEscaped(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof(b), "\\u%04x", static_cast<unsigned>(c));
      out->append(b);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

void Field(std::string* out, const char* name, uint64_t v, bool comma = true) {
  out->append("\"").append(name).append("\":").append(std::to_string(v));
  if (comma) out->push_back(',');
}

}  // namespace

Status DB::StatsJson(std::string* out) const {
  std::string j = "{";
  int64_t keys = 0;
  std::string nss = "[";
  // Expired keys (TTL) are not counted, as in firkin_count; every count,
  // and so the total, is of one state (CountKeys: the counters read
  // together, or one walk of the index for all namespaces at one
  // snapshot); ttl_keys: keys with an expiry not yet reclaimed, expired
  // or not.
  const auto list = ns_.List();
  std::vector<const NamespaceInfo*> infos;
  for (const auto& info : list) infos.push_back(info.get());
  std::vector<uint64_t> counts(infos.size());
  CountKeys(infos.data(), infos.size(), counts.data());
  for (size_t i = 0; i < list.size(); i++) {
    const auto& info = list[i];
    const int64_t k = static_cast<int64_t>(counts[i]);
    keys += k;
    if (nss.size() > 1) nss.push_back(',');
    nss += "{\"name\":";
    AppendEscaped(&nss, info->name);
    nss += ",\"id\":" + std::to_string(info->id) + ",\"keys\":" + std::to_string(k) +
           ",\"ttl_keys\":" + std::to_string(info->ttl_keys.load(std::memory_order_relaxed)) + "}";
  }
  nss += "]";
  Field(&j, "keys", static_cast<uint64_t>(keys));
  j += "\"namespaces\":" + nss + ",";
  // Namespaces held in memory: the live ones and the dropped ones not
  // forgotten yet (compaction forgets one once no record of it is left).
  Field(&j, "namespaces_held", ns_.held());
  // Counts that walked the index (a key counted may have expired), this
  // call's own among them; the others took the O(1) path.
  Field(&j, "count_walks", count_walks_.load(std::memory_order_relaxed));
  Field(&j, "last_seq", LastSeq());  // (never waits: stats are read beside stalled writers)

  std::string segs = "[";
  uint64_t live = 0, dead = 0, count = 0, file_bytes = 0;
  for (const auto& s : keyspace_->segments().List()) {
    uint64_t l = s->live_bytes(), d = s->dead_bytes(), len = s->published_len();
    live += l;
    dead += d;
    file_bytes += len;
    count++;
    if (segs.size() > 1) segs.push_back(',');
    segs += "{\"id\":" + std::to_string(s->id()) + ",\"file\":";
    AppendEscaped(&segs, SegmentFileName(s->id()));
    segs += ",\"bytes\":" + std::to_string(len) + ",\"live_bytes\":" + std::to_string(l) +
            ",\"dead_bytes\":" + std::to_string(d) +
            ",\"sealed\":" + (s->sealed.load() ? "true" : "false") + "}";
  }
  segs += "]";
  Field(&j, "segment_count", count);
  Field(&j, "log_bytes", file_bytes);
  Field(&j, "live_bytes", live);
  Field(&j, "dead_bytes", dead);
  j += "\"segments\":" + segs + ",";

  const HashIndex& idx = keyspace_->index();
  uint64_t entries = idx.size(), cap = idx.capacity(), mem = idx.memory_bytes();
  char load[32];
  std::snprintf(load, sizeof(load), "%.4f", cap ? double(entries) / double(cap) : 0.0);
  char bpk[32];
  std::snprintf(bpk, sizeof(bpk), "%.2f", entries ? double(mem) / double(entries) : 0.0);
  j += "\"index\":{";
  Field(&j, "entries", entries);
  Field(&j, "capacity", cap);
  j += std::string("\"load\":") + load + ",";
  Field(&j, "memory_bytes", mem);
  j += std::string("\"bytes_per_entry\":") + bpk + ",";
  Field(&j, "grow_steps", idx.grow_count(), false);
  j += "},";
  // Ordered namespaces' indexes (ordered_index.h), beside the hash index.
  j += "\"ordered_index\":{";
  Field(&j, "keys", keyspace_->OrderedKeys());
  Field(&j, "memory_bytes", keyspace_->OrderedMemory(), false);
  j += "},";

  Field(&j, "writes", writes_.Sum());
  // Puts that overwrote their key's record in place (in_place.cc), among
  // the writes; and whether in-place updates are on for this handle.
  Field(&j, "in_place_updates", in_place_.Sum());
  // Puts that would have gone in place but appended: their number ran too
  // far ahead of the published one (LogWriter::ReserveSeq: an earlier write
  // still in flight).
  Field(&j, "in_place_ahead_appends", log_ != nullptr ? log_->ahead_appends() : 0);
  j += std::string("\"in_place_enabled\":") + (live_ != nullptr ? "true" : "false") + ",";
  Field(&j, "segment_rolls", log_ ? log_->roll_count() : 0);
  Field(&j, "roll_us", log_ ? log_->roll_us() : 0);
  Field(&j, "roll_us_max", log_ ? log_->roll_us_max() : 0);
  Field(&j, "seal_us", log_ ? log_->seal_us() : 0);
  Field(&j, "seals_behind", log_ ? log_->seals_behind() : 0);
  Field(&j, "segments_recycled", log_ ? log_->recycled_count() : 0);
  Field(&j, "segments_from_spare", log_ ? log_->spare_count() : 0);
  Field(&j, "spares_restamped", log_ ? log_->spares_restamped() : 0);
  Field(&j, "spare_failures", log_ ? log_->spare_failures() : 0);
  Field(&j, "bytes_written_behind", log_ ? log_->written_behind() : 0);
  Field(&j, "bytes_written", bytes_written_.Sum());
  Field(&j, "syncs", log_ ? log_->sync_count() : 0);
  j += "\"compression\":{\"algorithm\":";
  AppendEscaped(&j, CompressionName(options_.compression));
  j += ",";
  j += "\"level\":" + std::to_string(options_.compression_level) + ",";
  Field(&j, "min_size", options_.compression_min_size);
  // Values of the puts given to the compressor since open (compression on):
  // bytes before (logical) and after (stored).
  Field(&j, "value_bytes_logical", value_bytes_logical_.Sum());
  Field(&j, "value_bytes_stored", value_bytes_stored_.Sum(), false);
  j += "},";
  {
    std::lock_guard<std::mutex> l(snap_mu_);
    Field(&j, "snapshots", snapshots_.size());
  }
  j += "\"recovery\":{";
  Field(&j, "records", recovery_.records);
  Field(&j, "torn_bytes_cut", recovery_.torn_bytes);
  Field(&j, "segments_cut", recovery_.segments_cut);
  Field(&j, "salvaged_regions", recovery_.salvaged_regions);
  Field(&j, "salvaged_bytes", recovery_.salvaged_bytes);
  Field(&j, "discarded_batch_records", recovery_.discarded_batch_records);
  Field(&j, "removed_leftovers", recovery_.removed_leftovers);
  Field(&j, "images_restored", recovery_.images_restored);
  Field(&j, "clock_scan_bytes", recovery_.clock_scan_bytes);
  // Damaged copies of KEYS this open wrote over with the intact one.
  Field(&j, "keys_repaired", keys_repaired_);
  j += "\"salvage_report\":[";
  for (size_t i = 0; i < recovery_.salvage_report.size(); i++) {
    if (i) j.push_back(',');
    AppendEscaped(&j, recovery_.salvage_report[i]);
  }
  j += "]},";
  if (compactor_ != nullptr) {
    const CompactionStats& cs = compactor_->stats();
    j += "\"compaction\":{";
    Field(&j, "runs", cs.runs.load());
    Field(&j, "bytes_read", cs.bytes_read.load());
    Field(&j, "bytes_written", cs.bytes_written.load());
    Field(&j, "bytes_reclaimed", cs.bytes_reclaimed.load());
    Field(&j, "segments_retired", cs.segments_retired.load());
    Field(&j, "segments_held_by_snapshots", cs.segments_skipped.load());
    Field(&j, "tombstones_dropped", cs.tombstones_dropped.load());
    Field(&j, "namespaces_forgotten", cs.namespaces_forgotten.load());
    Field(&j, "failures", cs.failures.load());
    Field(&j, "write_stalls", cs.write_stalls.load());
    Field(&j, "write_stall_us", cs.write_stall_us.load());
    Field(&j, "durable_waits", cs.durable_waits.load());
    Field(&j, "log_syncs", cs.log_syncs.load());
    Field(&j, "key_filter_bytes", cs.key_filter_bytes.load());
    Field(&j, "key_filters_built", cs.key_filters_built.load());
    Field(&j, "sweep_bytes_read", cs.sweep_bytes_read.load(), false);
    j += "},";
  }
  j += "\"changes\":{";
  Field(&j, "oldest_seq", OldestChangeSeq());
  Field(&j, "retention_bytes", options_.change_retention_bytes);
  Field(&j, "retention_seqs", options_.change_retention_seqs);
  {
    const uint64_t floor = ChangeRetentionSegmentFloor();
    uint64_t kept = 0;
    for (auto& s : LogSegments()) kept += s->id() >= floor ? 1 : 0;
    Field(&j, "retained_segments", kept, false);
  }
  j += "},";
  j += "\"history\":{";
  {
    // The oldest time firkin_snapshot_at_time can answer (0: every time
    // since the database was created; UINT64_MAX: none).
    const uint64_t oldest = OldestReadableTime();
    Field(&j, "oldest_time", oldest);
    Field(&j, "now_ms", NowMs());
    Field(&j, "retention_ms", options_.history_retention_ms, false);
  }
  j += "},";
  j += "\"scrub\":{";
  {
    const Scrubber::Stats& sc = scrubber_.stats();
    Field(&j, "segments_checked", sc.segments_checked.load());
    Field(&j, "segments_damaged", sc.segments_damaged.load());
    Field(&j, "segments_pending", sc.pending.load());
    Field(&j, "bytes", sc.bytes.load());
    j += std::string("\"done\":") + (sc.done.load() ? "true" : "false");
  }
  j += "},";
  j += "\"checkpoint\":{";
  Field(&j, "written", checkpoints_.load());
  j += std::string("\"used_at_open\":") + (recovery_.used_checkpoint ? "true" : "false") + ",";
  Field(&j, "entries_loaded", recovery_.checkpoint_entries);
  // Keys of ordered indexes loaded from it (not rebuilt), and why its
  // ordered section was not used, if it was not.
  Field(&j, "ordered_keys_loaded", recovery_.ordered_keys_loaded);
  j += "\"ordered_note\":";
  AppendEscaped(&j, recovery_.ordered_note);
  j += ",";
  j += "\"note\":";
  AppendEscaped(&j, recovery_.checkpoint_note);
  j += "},";
  Status sticky = log_ ? log_->sticky_error() : Status::OK();
  j += "\"failed\":";
  j += sticky.ok() ? "false" : "true";
  j += ",\"read_only\":";
  j += options_.read_only ? "true" : "false";
  j += ",\"mode\":";
  j += options_.read_only ? "\"reader\"" : "\"writer\"";
  if (follower_ != nullptr) {
    std::lock_guard<std::mutex> l(refresh_mu_);
    const FollowStats& fs = follower_->stats();
    j += ",\"reader\":{";
    Field(&j, "seq", LastSeq());
    j += std::string("\"writer_at_open\":") + (writer_seen_ ? "true" : "false") + ",";
    Field(&j, "refreshes", fs.refreshes);
    Field(&j, "records_replayed", fs.records);
    Field(&j, "segments_added", fs.segments_added);
    Field(&j, "segments_dropped", fs.segments_dropped);
    Field(&j, "entries_dropped", fs.entries_dropped);
    Field(&j, "puts_dropped", fs.puts_dropped);
    Field(&j, "namespaces_gone", fs.namespaces_gone);
    Field(&j, "namespaces_forgotten", fs.namespaces_forgotten);
    Field(&j, "create_scan_bytes", fs.create_scan_bytes);
    Field(&j, "history_floor", history_floor());
    Field(&j, "retries", fs.retries, false);
    j += "}";
  }
  j += "}";
  *out = std::move(j);
  return Status::OK();
}

}  // namespace firkin
