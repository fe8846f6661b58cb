// Tkrzw HashDBM (Debian libtkrzw-dev): on-disk hash table in a memory-mapped
// file (the closest peer to Firkin's family).
//   none     -> no Synchronize (writes land in the shared map: survive a
//               process crash, but an unclean close triggers a restore)
//   interval -> Synchronize(hard=true) every 100 ms
//   always   -> Synchronize(hard=true) after every write (Tkrzw has no
//               per-write sync flag and no group commit)
// Tuning: num_buckets = 2 x expected keys (Tkrzw does not grow its bucket
// array online; a rebuild is manual), update mode in place (the default),
// default file class (MemoryMapParallelFile).
#include <tkrzw_dbm_hash.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "../bench.h"

namespace bench {
namespace {

class TkrzwSession : public Session {
 public:
  TkrzwSession(tkrzw::HashDBM *db, bool sync) : db_(db), sync_(sync) {}
  bool put(const char *k, size_t kl, const char *v, size_t vl) override {
    if (db_->Set(std::string_view(k, kl), std::string_view(v, vl), true) != tkrzw::Status::SUCCESS)
      return false;
    return !sync_ || db_->Synchronize(true) == tkrzw::Status::SUCCESS;
  }
  int get(const char *k, size_t kl, char *buf, size_t cap, size_t *vl) override {
    tkrzw::Status s = db_->Get(std::string_view(k, kl), &val_);
    if (s == tkrzw::Status::NOT_FOUND_ERROR) return 0;
    if (s != tkrzw::Status::SUCCESS) return -1;
    *vl = val_.size();
    memcpy(buf, val_.data(), std::min(cap, val_.size()));
    return 1;
  }
  bool del(const char *k, size_t kl) override {
    tkrzw::Status s = db_->Remove(std::string_view(k, kl));
    if (s != tkrzw::Status::SUCCESS && s != tkrzw::Status::NOT_FOUND_ERROR) return false;
    return !sync_ || db_->Synchronize(true) == tkrzw::Status::SUCCESS;
  }

 private:
  tkrzw::HashDBM *db_;
  bool sync_;
  std::string val_;
};

class TkrzwStore : public Store {
 public:
  bool open(const OpenParams &p, std::string *err) override {
    sync_ = p.sync == Sync::Always;
    tkrzw::HashDBM::TuningParameters tp;
    tp.num_buckets = std::max<int64_t>(1 << 16, int64_t(p.expected_keys) * 2);
    tp.update_mode = tkrzw::HashDBM::UPDATE_IN_PLACE;
    tkrzw::Status s = db_.OpenAdvanced(p.dir + "/casket.tkh", true, tkrzw::File::OPEN_DEFAULT, tp);
    if (s != tkrzw::Status::SUCCESS) { *err = s.GetMessage(); return false; }
    return true;
  }
  std::unique_ptr<Session> session() override {
    return std::unique_ptr<Session>(new TkrzwSession(&db_, sync_));
  }
  bool sync() override { return db_.Synchronize(true) == tkrzw::Status::SUCCESS; }
  bool close() override { return db_.Close() == tkrzw::Status::SUCCESS; }
  std::string describe(Sync s) const override {
    switch (s) {
      case Sync::None: return "no Synchronize";
      case Sync::Interval: return "Synchronize(true) every 100 ms";
      default: return "Synchronize(true) after each write";
    }
  }

 private:
  tkrzw::HashDBM db_;
  bool sync_ = false;
};

}  // namespace

std::unique_ptr<Store> make_tkrzw() { return std::unique_ptr<Store>(new TkrzwStore); }

}  // namespace bench
