// firkin_open / firkin_close / firkin_sync / firkin_refresh / firkin_last_seq /
// firkin_stats.
#include "capi/internal.h"

using namespace firkin::capi;

extern "C" {

FIRKIN_API firkin_status firkin_open(const char* path, const firkin_options* opts,
                                     firkin_db** out) {
  return Guard([&] {
    if (out == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "out pointer is NULL");
    *out = nullptr;
    if (path == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "path is NULL");
    firkin::Options o = opts != nullptr ? opts->opts : firkin::Options();
    std::unique_ptr<firkin::DB> db;
    firkin::Status s = firkin::DB::Open(path, o, &db);
    if (!s.ok()) return Fail(s);
    *out = new firkin_db{std::shared_ptr<firkin::DB>(std::move(db))};
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_close(firkin_db* db) {
  return Guard([&] {
    if (db == nullptr) return FIRKIN_OK;
    std::shared_ptr<firkin::DB> d = std::move(db->db);
    delete db;
    // The last owner closes now and reports the result; otherwise the
    // remaining children close it when they are freed.
    firkin::Status s = d.use_count() == 1 ? d->Close() : firkin::Status::OK();
    return Done(s);
  });
}

FIRKIN_API firkin_status firkin_sync(firkin_db* db) {
  return Guard([&] {
    if (firkin_status c = CheckDb(db)) return c;
    if (db->db->read_only()) return Done(firkin::Status::ReadOnly("database is read-only"));
    return Done(db->db->Sync());
  });
}

FIRKIN_API firkin_status firkin_refresh(firkin_db* db) {
  return Guard([&] {
    if (firkin_status c = CheckDb(db)) return c;
    return Done(db->db->Refresh());
  });
}

FIRKIN_API firkin_status firkin_last_seq(firkin_db* db, uint64_t* out) {
  return Guard([&] {
    if (firkin_status c = CheckDb(db)) return c;
    if (firkin_status c = CheckOut(out)) return c;
    *out = db->db->AcknowledgedSeq();
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_stats(firkin_db* db, char** json_out) {
  return Guard([&] {
    if (firkin_status c = CheckDb(db)) return c;
    if (json_out == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "out pointer is NULL");
    std::string j;
    firkin::Status s = db->db->StatsJson(&j);
    if (!s.ok()) return Done(s);
    j.push_back('\0');
    *json_out = static_cast<char*>(CopyOut(j));
    return FIRKIN_OK;
  });
}

}  // extern "C"
