// Maintenance: compaction, checkpoints, verification.
#include "capi/internal.h"

using namespace firkin::capi;

namespace {
firkin_status ReportOut(const std::string& report, char** out) {
  if (out != nullptr) {
    std::string r = report;
    r.push_back('\0');
    *out = static_cast<char*>(CopyOut(r));
  }
  return FIRKIN_OK;
}
// The core's progress function over a C callback (none if fn is NULL).
firkin::ProgressFn Progress(firkin_progress_fn fn, void* ctx) {
  if (fn == nullptr) return {};
  return [fn, ctx](uint64_t done, uint64_t total) { fn(ctx, done, total); };
}
}  // namespace

extern "C" {

FIRKIN_API firkin_status firkin_compact(firkin_db* db) {
  return firkin_compact_v2(db, nullptr, nullptr);
}

FIRKIN_API firkin_status firkin_compact_v2(firkin_db* db, firkin_progress_fn progress,
                                           void* ctx) {
  return Guard([&] {
    if (firkin_status c = CheckDb(db)) return c;
    return Done(db->db->Compact(Progress(progress, ctx)));
  });
}

FIRKIN_API firkin_status firkin_checkpoint(firkin_db* db) {
  return Guard([&] {
    if (firkin_status c = CheckDb(db)) return c;
    return Done(db->db->Checkpoint());
  });
}

FIRKIN_API firkin_status firkin_verify(firkin_db* db, char** report_json) {
  return firkin_verify_v2(db, nullptr, nullptr, report_json);
}

FIRKIN_API firkin_status firkin_verify_v2(firkin_db* db, firkin_progress_fn progress, void* ctx,
                                          char** report_json) {
  return Guard([&] {
    if (report_json != nullptr) *report_json = nullptr;
    if (firkin_status c = CheckDb(db)) return c;
    std::string report;
    firkin::Status s = db->db->Verify(&report, Progress(progress, ctx));
    if (!report.empty()) ReportOut(report, report_json);
    return Done(s);
  });
}

FIRKIN_API firkin_status firkin_verify_path(const char* path, const firkin_options* opts,
                                            char** report_json) {
  return firkin_verify_path_v2(path, opts, nullptr, nullptr, report_json);
}

FIRKIN_API firkin_status firkin_verify_path_v2(const char* path, const firkin_options* opts,
                                               firkin_progress_fn progress, void* ctx,
                                               char** report_json) {
  return Guard([&] {
    if (report_json != nullptr) *report_json = nullptr;
    if (path == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "path is NULL");
    firkin::Options o = opts != nullptr ? opts->opts : firkin::Options();
    o.read_only = true;
    o.salvage = true;
    o.create_if_missing = false;
    std::unique_ptr<firkin::DB> db;
    firkin::Status s = firkin::DB::Open(path, o, &db);
    if (!s.ok()) return Fail(s);
    std::string report;
    s = db->Verify(&report, Progress(progress, ctx));
    db->Close();
    if (!report.empty()) ReportOut(report, report_json);
    return Done(s);
  });
}

}  // extern "C"
