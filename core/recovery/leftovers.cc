#include "core/recovery/leftovers.h"

#include <algorithm>
#include <memory>

#include "core/keyspace/options.h"
#include "core/log/format.h"
#include "core/log/log_reader.h"
#include "core/log/segment_pool.h"
#include "core/recovery/checkpoint_load.h"
#include "core/recovery/recovery.h"

namespace firkin {
namespace {

bool AllZero(const char* p, uint64_t n) {
  // Word at a time; the tail byte by byte.
  uint64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    if (DecodeU64(p + i) != 0) return false;
  }
  for (; i < n; i++) {
    if (p[i] != 0) return false;
  }
  return true;
}

enum class Kind {
  kUnreadable,  // cannot be opened/mapped: the scan reports it
  kBlank,       // empty or all zeros: nothing was ever written to it
  kDamaged,     // no valid header, but not blank
  kLog,         // a segment of the log writer
  kCompacted,   // a compaction output (header flag)
};

struct FileInfo {
  uint64_t id;
  Kind kind;
};

Kind Classify(Env* env, const std::string& path) {
  std::unique_ptr<MappedFile> file;
  if (!env->OpenMappedFile(path, false, &file).ok()) return Kind::kUnreadable;
  if (file->size() > kMaxSegmentBytes) return Kind::kDamaged;
  SegmentHeader h;
  if (DecodeSegmentHeader(file->data(), file->size(), path, &h).ok()) {
    return (h.flags & kSegmentFlagCompacted) != 0 ? Kind::kCompacted : Kind::kLog;
  }
  return AllZero(file->data(), file->size()) ? Kind::kBlank : Kind::kDamaged;
}

// A complete compaction output whose inputs still exist means a crash
// between making the output durable and deleting the inputs: the inputs go.
// An incomplete one whose inputs all exist only holds copies: it goes.
// Anything else is damage, left for the scan to report. Adds what is to be
// removed or skipped to *inputs_done (inputs of a completed compaction) or
// *leftovers.
void CheckCompactionOutput(Env* env, const std::string& dir, uint64_t id,
                           const std::vector<uint64_t>& ids, std::vector<uint64_t>* inputs_done,
                           std::vector<uint64_t>* leftovers) {
  const std::string path = dir + "/" + SegmentFileName(id);
  std::unique_ptr<MappedFile> file;
  if (!env->OpenMappedFile(path, false, &file).ok()) return;
  const char* data = file->data();
  LogReader reader(data, kSegmentHeaderSize, file->size());
  RecordView r, first, last;
  bool valid = true, any = false;
  for (;;) {
    uint64_t at;
    const LogReader::Result res = reader.Next(&r, &at);
    if (res == LogReader::Result::kEnd) break;
    if (res == LogReader::Result::kDamaged) {
      valid = false;
      break;
    }
    if (!any) first = r;
    any = true;
    last = r;
  }
  if (!any || first.type != RecordType::kCompactInputs) return;  // damaged
  const bool complete = valid && last.type == RecordType::kCompactDone;
  const std::vector<uint64_t> inputs =
      DecodeSegmentIds(complete ? last.value() : first.value());
  if (complete) {
    for (uint64_t in : inputs) {
      if (in != id && std::find(ids.begin(), ids.end(), in) != ids.end()) {
        inputs_done->push_back(in);
      }
    }
    return;
  }
  // Inputs are deleted only after their output is complete and durable: an
  // output naming an input that is gone had been completed, so it is
  // damaged now (never deleted).
  for (uint64_t in : inputs) {
    if (std::find(ids.begin(), ids.end(), in) == ids.end()) return;
  }
  leftovers->push_back(id);
}

}  // namespace

bool IsTempSegmentName(const std::string& name) {
  static const std::string kTmp = ".tmp";
  uint64_t id;
  return name.size() > kTmp.size() &&
         name.compare(name.size() - kTmp.size(), kTmp.size(), kTmp) == 0 &&
         ParseSegmentFileName(std::string_view(name).substr(0, name.size() - kTmp.size()), &id);
}

Status FinishCompactions(Env* env, const std::string& dir, const Options& options,
                         std::vector<uint64_t>* ids, RecoveryResult* res, uint64_t* tail_id) {
  std::vector<FileInfo> files;
  for (uint64_t id : *ids) files.push_back({id, Classify(env, dir + "/" + SegmentFileName(id))});
  *tail_id = 0;
  for (const FileInfo& f : files) {
    if (f.kind == Kind::kLog) *tail_id = f.id;
  }
  std::vector<uint64_t> inputs_done, leftovers;
  for (size_t i = 0; i < files.size(); i++) {
    const FileInfo& f = files[i];
    if (f.kind == Kind::kCompacted) {
      CheckCompactionOutput(env, dir, f.id, *ids, &inputs_done, &leftovers);
    }
    // A blank named segment is never an unfinished creation: log segments
    // and compaction outputs are created under a temporary name and named
    // only once their header is durable. It is damage: the scan reports it.
  }
  std::vector<uint64_t> skip = inputs_done;
  skip.insert(skip.end(), leftovers.begin(), leftovers.end());
  std::sort(skip.begin(), skip.end());
  skip.erase(std::unique(skip.begin(), skip.end()), skip.end());
  bool removed = false;
  if (!options.read_only) {
    for (uint64_t id : skip) {
      FIRKIN_RETURN_IF_ERROR(env->RemoveFile(dir + "/" + SegmentFileName(id)));
      removed = true;
      const bool done = std::find(inputs_done.begin(), inputs_done.end(), id) != inputs_done.end();
      (done ? res->finished_compactions : res->removed_leftovers)++;
    }
  }
  // Segments and compaction outputs that were never named, and retired
  // files a crash left in the recycling pool (SegmentPool: they hold
  // nothing needed).
  std::vector<std::string> names;
  FIRKIN_RETURN_IF_ERROR(env->ListDir(dir, &names));
  for (const std::string& n : names) {
    if (!(IsTempSegmentName(n) || IsPooledSegmentName(n)) || options.read_only) continue;
    FIRKIN_RETURN_IF_ERROR(env->RemoveFile(dir + "/" + n));
    res->removed_leftovers++;
    removed = true;
  }
  if (removed) FIRKIN_RETURN_IF_ERROR(env->SyncDir(dir));
  std::vector<uint64_t> keep;
  for (uint64_t id : *ids) {
    if (!std::binary_search(skip.begin(), skip.end(), id)) keep.push_back(id);
  }
  ids->swap(keep);
  return Status::OK();
}

}  // namespace firkin
