// Online backup and restore: firkin_backup_options, firkin_backup,
// firkin_restore (core/db/backup.h).
#include <cstring>

#include "capi/internal.h"
#include "core/db/backup.h"

using namespace firkin::capi;

struct firkin_backup_options {
  firkin::BackupOptions opts;
  firkin_backup_progress_fn progress = nullptr;
  void* progress_ctx = nullptr;
};

namespace {

firkin_status NullOpts() {
  return Fail(FIRKIN_E_INVALID_ARGUMENT, "backup options handle is NULL");
}

// The named boolean options, for the typed and the generic accessors.
bool* Field(firkin::BackupOptions* o, const std::string& name) {
  if (name == "incremental") return &o->incremental;
  if (name == "verify") return &o->verify;
  if (name == "hard_links") return &o->hard_links;
  if (name == "checkpoint") return &o->checkpoint;
  return nullptr;
}

firkin_status SetBool(firkin_backup_options* o, const char* name, bool v) {
  return Guard([&] {
    if (o == nullptr) return NullOpts();
    *Field(&o->opts, name) = v;
    return FIRKIN_OK;
  });
}

firkin_status GetBool(const firkin_backup_options* o, const char* name, bool* out) {
  return Guard([&] {
    if (o == nullptr) return NullOpts();
    if (firkin_status c = CheckOut(out)) return c;
    *out = *Field(const_cast<firkin::BackupOptions*>(&o->opts), name);
    return FIRKIN_OK;
  });
}

// The core's options for one call: the caller's (or the defaults), with the
// C progress callback bound.
firkin::BackupOptions CoreOptions(const firkin_backup_options* o) {
  firkin::BackupOptions bo = o != nullptr ? o->opts : firkin::BackupOptions();
  if (o != nullptr && o->progress != nullptr) {
    firkin_backup_progress_fn fn = o->progress;
    void* ctx = o->progress_ctx;
    bo.progress = [fn, ctx](uint64_t done, uint64_t total) { fn(ctx, done, total); };
  }
  return bo;
}

firkin_status ReportOut(const firkin::BackupReport& rep, char** out) {
  if (out != nullptr) {
    std::string r = rep.ToJson();
    r.push_back('\0');
    *out = static_cast<char*>(CopyOut(r));
  }
  return FIRKIN_OK;
}

}  // namespace

extern "C" {

FIRKIN_API firkin_status firkin_backup_options_new(firkin_backup_options** out) {
  return Guard([&] {
    if (firkin_status c = CheckOut(out)) return c;
    *out = new firkin_backup_options();
    return FIRKIN_OK;
  });
}

FIRKIN_API void firkin_backup_options_free(firkin_backup_options* opts) { delete opts; }

FIRKIN_API firkin_status firkin_backup_options_set_incremental(firkin_backup_options* o,
                                                               bool v) {
  return SetBool(o, "incremental", v);
}
FIRKIN_API firkin_status firkin_backup_options_get_incremental(const firkin_backup_options* o,
                                                               bool* out) {
  return GetBool(o, "incremental", out);
}
FIRKIN_API firkin_status firkin_backup_options_set_verify(firkin_backup_options* o, bool v) {
  return SetBool(o, "verify", v);
}
FIRKIN_API firkin_status firkin_backup_options_get_verify(const firkin_backup_options* o,
                                                          bool* out) {
  return GetBool(o, "verify", out);
}
FIRKIN_API firkin_status firkin_backup_options_set_hard_links(firkin_backup_options* o,
                                                              bool v) {
  return SetBool(o, "hard_links", v);
}
FIRKIN_API firkin_status firkin_backup_options_get_hard_links(const firkin_backup_options* o,
                                                              bool* out) {
  return GetBool(o, "hard_links", out);
}
FIRKIN_API firkin_status firkin_backup_options_set_checkpoint(firkin_backup_options* o,
                                                              bool v) {
  return SetBool(o, "checkpoint", v);
}
FIRKIN_API firkin_status firkin_backup_options_get_checkpoint(const firkin_backup_options* o,
                                                              bool* out) {
  return GetBool(o, "checkpoint", out);
}

FIRKIN_API firkin_status firkin_backup_options_set_progress(firkin_backup_options* o,
                                                            firkin_backup_progress_fn fn,
                                                            void* ctx) {
  return Guard([&] {
    if (o == nullptr) return NullOpts();
    o->progress = fn;
    o->progress_ctx = fn != nullptr ? ctx : nullptr;
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_backup_options_get_progress(const firkin_backup_options* o,
                                                            firkin_backup_progress_fn* fn,
                                                            void** ctx) {
  return Guard([&] {
    if (o == nullptr) return NullOpts();
    if (firkin_status c = CheckOut(fn)) return c;
    if (firkin_status c = CheckOut(ctx)) return c;
    *fn = o->progress;
    *ctx = o->progress_ctx;
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_backup_options_set(firkin_backup_options* o, const char* name,
                                                   const char* value) {
  return Guard([&] {
    if (o == nullptr) return NullOpts();
    if (name == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "option name is NULL");
    if (value == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "option value is NULL");
    bool* f = Field(&o->opts, name);
    if (f == nullptr) {
      return Fail(FIRKIN_E_INVALID_ARGUMENT,
                  std::string("unknown backup option '") + name +
                      "' (incremental, verify, hard_links, checkpoint)");
    }
    const std::string v = value;
    if (v == "true" || v == "1") {
      *f = true;
    } else if (v == "false" || v == "0") {
      *f = false;
    } else {
      return Fail(FIRKIN_E_INVALID_ARGUMENT, "backup option '" + std::string(name) +
                                                 "' takes true/false/1/0, not '" + v + "'");
    }
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_backup_options_get(const firkin_backup_options* o,
                                                   const char* name, char** out) {
  return Guard([&] {
    if (o == nullptr) return NullOpts();
    if (name == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "option name is NULL");
    if (firkin_status c = CheckOut(out)) return c;
    const bool* f = Field(const_cast<firkin::BackupOptions*>(&o->opts), name);
    if (f == nullptr) {
      return Fail(FIRKIN_E_INVALID_ARGUMENT, std::string("unknown backup option '") + name + "'");
    }
    *out = static_cast<char*>(CopyOut(std::string(*f ? "true" : "false") + '\0'));
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_backup(firkin_db* db, const firkin_backup_options* opts,
                                       const char* dest_dir, char** report_json) {
  return Guard([&] {
    if (report_json != nullptr) *report_json = nullptr;
    if (firkin_status c = CheckDb(db)) return c;
    if (dest_dir == nullptr) {
      return Fail(FIRKIN_E_INVALID_ARGUMENT, "backup destination path is NULL");
    }
    firkin::BackupReport rep;
    firkin::Status s = db->db->Backup(dest_dir, CoreOptions(opts), &rep);
    if (!s.ok()) return Fail(s);
    return ReportOut(rep, report_json);
  });
}

FIRKIN_API firkin_status firkin_restore(const char* backup_dir,
                                        const firkin_backup_options* opts,
                                        const char* dest_dir, char** report_json) {
  return firkin_restore_v2(backup_dir, nullptr, opts, dest_dir, report_json);
}

FIRKIN_API firkin_status firkin_restore_v2(const char* backup_dir,
                                           const firkin_options* db_opts,
                                           const firkin_backup_options* opts,
                                           const char* dest_dir, char** report_json) {
  return Guard([&] {
    if (report_json != nullptr) *report_json = nullptr;
    if (backup_dir == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "backup path is NULL");
    if (dest_dir == nullptr) {
      return Fail(FIRKIN_E_INVALID_ARGUMENT, "restore destination path is NULL");
    }
    firkin::Options o;
    o.read_only = true;
    o.create_if_missing = false;
    if (db_opts != nullptr) o.encryption = db_opts->opts.encryption;  // the key only
    std::unique_ptr<firkin::DB> db;
    firkin::Status s = firkin::DB::Open(backup_dir, o, &db);
    if (!s.ok()) {
      if (s.IsNotFound()) {
        return Fail(FIRKIN_E_NOT_FOUND, "no backup in " + std::string(backup_dir) + ": " +
                                            s.message());
      }
      return Fail(s);
    }
    firkin::BackupOptions bo = CoreOptions(opts);
    bo.restore = true;        // a new database of its own, never merged into another
    bo.hard_links = false;    // independent of the backup's files
    bo.incremental = false;
    firkin::BackupReport rep;
    s = db->Backup(dest_dir, bo, &rep);
    db->Close();
    if (!s.ok()) return Fail(s);
    return ReportOut(rep, report_json);
  });
}

}  // extern "C"
