// DB::Verify (firkin_verify): checks every record's checksum, that every
// index entry points at a valid record that is the newest of its key, and
// the namespace table; reports as JSON.
#include <algorithm>
#include <cinttypes>

#include "core/log/log_reader.h"
#include "core/db/db.h"
#include "core/util/epoch.h"

namespace firkin {
namespace {

void AddProblem(std::vector<std::string>* problems, std::string p) {
  if (problems->size() < 100) problems->push_back(std::move(p));
}

std::string JsonString(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) {
      o += ' ';
      continue;
    }
    o.push_back(c);
  }
  return o + "\"";
}

}  // namespace

Status DB::Verify(std::string* report, const ProgressFn& progress) {
  // Records read while they are overwritten in place would look damaged.
  InPlaceBlock no_in_place(this);
  uint64_t records = 0, bad_records = 0, entries = 0, bad_entries = 0;
  // Put records' values in the log (every version, dead ones included):
  // as written and as stored, and how many are stored compressed.
  uint64_t logical_values = 0, stored_values = 0, coded_records = 0, sealed_records = 0;
  std::string scratch;
  std::vector<std::string> problems;
  for (const std::string& r : recovery_.salvage_report) AddProblem(&problems, "at open: " + r);
  bad_records += recovery_.salvaged_regions;

  // 1. Every record of every segment, up to what is published.
  const auto segments = keyspace_->segments().List();
  uint64_t total = 0, done = 0;
  for (auto& seg : segments) total += seg->published_len() - kSegmentHeaderSize;
  if (progress) progress(0, total);
  for (auto& seg : segments) {
    if (progress && done > 0) progress(std::min(done, total), total);
    done += seg->published_len() - kSegmentHeaderSize;
    LogReader reader(seg->data(), kSegmentHeaderSize, seg->published_len());
    RecordView r;
    uint64_t at;
    for (;;) {
      const LogReader::Result res = reader.Next(&r, &at);
      if (res == LogReader::Result::kEnd) break;
      if (res == LogReader::Result::kRecord) {
        records++;
        if (r.sealed()) {
          // Sealed (encrypted database): authenticated in full, so a byte
          // changed with its checksum fixed up is found too.
          sealed_records++;
          Status os = keyspace_->codec().Open(r, &scratch);
          if (!os.ok()) {
            bad_records++;
            AddProblem(&problems, seg->path() + " at offset " + std::to_string(at) + ": " +
                                      os.message());
            continue;
          }
        }
        if (r.type == RecordType::kPut) {
          stored_values += r.value_len;
          if ((r.flags & (kRecordFlagsCodec | kRecordFlagSealed)) != 0) {
            // A compressed value must decode to its stated length.
            if ((r.flags & kRecordFlagsCodec) != 0) coded_records++;
            std::string_view v;
            Status vs = codec_.Value(r, &scratch, &v);
            if (!vs.ok()) {
              bad_records++;
              AddProblem(&problems, seg->path() + " at offset " + std::to_string(at) + ": " +
                                        vs.message());
              continue;
            }
            logical_values += v.size();
          } else {
            logical_values += r.value_len;
          }
        }
        continue;
      }
      bad_records++;
      AddProblem(&problems, seg->path() + ": bad record at offset " + std::to_string(at));
      reader.Resync();
    }
  }

  // 2. The index, as the writer (no write moves it while it is walked;
  // compaction may move an entry to its copy, see below).
  Status s = gate_.RunExclusive([&]() -> Status {
    Epoch::Guard guard;
    keyspace_->index().ForEach([&](Locator l) {
      entries++;
      Segment* seg = keyspace_->segments().BySlot(LocatorSlot(l));
      uint64_t off = LocatorOffset(l);
      RecordView r;
      if (seg == nullptr || off >= seg->published_len() ||
          !ValidateRecord(seg->RecordAt(off), seg->published_len() - off, &r, seg->data())) {
        bad_entries++;
        AddProblem(&problems, "index entry (slot " + std::to_string(LocatorSlot(l)) +
                                  ", offset " + std::to_string(off) +
                                  ") does not point at a valid record");
        return;
      }
      if (r.type != RecordType::kPut && r.type != RecordType::kDelete) {
        bad_entries++;
        AddProblem(&problems, seg->path() + ": index points at a non-key record at offset " +
                                  std::to_string(off));
        return;
      }
      RecordView newest;
      std::string kb;
      const std::string_view key = keyspace_->Key(r, &kb);
      // Compaction is not behind the writer gate: it may have moved this
      // entry to its copy since ForEach read it. The same version found
      // there (same sequence number and type) is consistent.
      const Locator found =
          keyspace_->FindNewest(keyspace_->Hash(r.ns_id, key), r.ns_id, key, &newest);
      if (found != l && !(found != 0 && newest.seq == r.seq && newest.type == r.type)) {
        bad_entries++;
        AddProblem(&problems, seg->path() + ": index entry at offset " + std::to_string(off) +
                                  " is not found by its own key");
      }
      if (!ns_.IsLive(r.ns_id)) {
        bad_entries++;
        AddProblem(&problems, seg->path() + ": index entry of a dropped namespace at offset " +
                                  std::to_string(off));
      }
    });
    return Status::OK();
  });
  if (!s.ok()) return s;

  // 3. Namespaces: the default exists; names are valid; counts are sane.
  uint64_t ns_count = 0;
  bool has_default = false;
  for (const auto& info : ns_.List()) {
    ns_count++;
    if (info->id == 0) has_default = true;
    if (!NamespaceTable::ValidateName(info->name).ok()) {
      AddProblem(&problems, "namespace with an invalid name (id " + std::to_string(info->id) + ")");
      bad_entries++;
    }
    if (info->live_keys.load() < 0 || info->ttl_keys.load() < 0) {
      AddProblem(&problems, "namespace '" + info->name + "' has a negative key count");
      bad_entries++;
    }
  }
  if (!has_default) {
    AddProblem(&problems, "the default namespace is missing");
    bad_entries++;
  }

  const bool ok = bad_records == 0 && bad_entries == 0;
  std::string j = "{\"ok\":" + std::string(ok ? "true" : "false");
  j += ",\"records\":" + std::to_string(records);
  j += ",\"bad_records\":" + std::to_string(bad_records);
  j += ",\"compressed_records\":" + std::to_string(coded_records);
  j += ",\"sealed_records\":" + std::to_string(sealed_records);
  j += ",\"value_bytes_logical\":" + std::to_string(logical_values);
  j += ",\"value_bytes_stored\":" + std::to_string(stored_values);
  j += ",\"index_entries\":" + std::to_string(entries);
  j += ",\"bad_index_entries\":" + std::to_string(bad_entries);
  j += ",\"namespaces\":" + std::to_string(ns_count);
  j += ",\"problems\":[";
  for (size_t i = 0; i < problems.size(); i++) {
    if (i) j += ",";
    j += JsonString(problems[i]);
  }
  j += "]}";
  *report = std::move(j);
  if (progress) progress(total, total);
  if (!ok) {
    return Status::Corruption("verify found " + std::to_string(bad_records) +
                              " bad records and " + std::to_string(bad_entries) +
                              " bad index entries" +
                              (problems.empty() ? "" : "; first: " + problems[0]));
  }
  return Status::OK();
}

}  // namespace firkin
