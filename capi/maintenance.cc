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
}  // namespace

extern "C" {

FIRKIN_API firkin_status firkin_compact(firkin_db* db) {
  return Guard([&] {
    if (firkin_status c = CheckDb(db)) return c;
    return Done(db->db->Compact());
  });
}

FIRKIN_API firkin_status firkin_checkpoint(firkin_db* db) {
  return Guard([&] {
    if (firkin_status c = CheckDb(db)) return c;
    return Done(db->db->Checkpoint());
  });
}

FIRKIN_API firkin_status firkin_verify(firkin_db* db, char** report_json) {
  return Guard([&] {
    if (report_json != nullptr) *report_json = nullptr;
    if (firkin_status c = CheckDb(db)) return c;
    std::string report;
    firkin::Status s = db->db->Verify(&report);
    if (!report.empty()) ReportOut(report, report_json);
    return Done(s);
  });
}

FIRKIN_API firkin_status firkin_verify_path(const char* path, const firkin_options* opts,
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
    s = db->Verify(&report);
    db->Close();
    if (!report.empty()) ReportOut(report, report_json);
    return Done(s);
  });
}

}  // extern "C"
