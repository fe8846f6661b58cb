// DB::Backup: online backup into a directory as of one snapshot (the
// protocol is described in backup.h; the on-disk rule in docs/format.md,
// "Backups").
#include "core/db/backup.h"

#include <limits.h>
#include <stdlib.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <set>

#include "core/crypto/key_file.h"
#include "core/db/db.h"
#include "core/recovery/checkpoint.h"

namespace firkin {

std::string BackupReport::ToJson() const {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "{\"seq\":%" PRIu64 ",\"segments\":%" PRIu64 ",\"linked\":%" PRIu64
                ",\"copied\":%" PRIu64 ",\"kept\":%" PRIu64 ",\"removed\":%" PRIu64
                ",\"bytes_linked\":%" PRIu64 ",\"bytes_copied\":%" PRIu64
                ",\"bytes_kept\":%" PRIu64 ",\"checkpoint\":%s,\"verified\":%s}",
                seq, segments, linked, copied, kept, removed, bytes_linked, bytes_copied,
                bytes_kept, checkpoint ? "true" : "false", verified ? "true" : "false");
  return buf;
}

namespace {

constexpr uint64_t kCopyChunk = 1u << 20;
// An incremental backup keeps a segment file already in the destination
// when it has the same name (segment ids are never reused), the same size,
// the same header page and the same last 64 KiB.
constexpr uint64_t kCompareTail = 64u << 10;

bool HasSuffix(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// Whether `a` is `b` or lies inside it (both absolute, resolved).
bool Within(const std::string& a, const std::string& b) {
  if (a == b) return true;
  if (b == "/") return true;
  return a.size() > b.size() && a.compare(0, b.size(), b) == 0 && a[b.size()] == '/';
}

// The destination must be neither the database directory, nor inside it,
// nor hold it. Paths are resolved (symlinks, "..") as far as they exist;
// the destination may not exist yet, its parent then must.
Status CheckPaths(const std::string& src, const std::string& dest) {
  char buf[PATH_MAX];
  if (realpath(src.c_str(), buf) == nullptr) return Status::OK();
  const std::string s = buf;
  std::string d;
  if (realpath(dest.c_str(), buf) != nullptr) {
    d = buf;
  } else {
    const size_t slash = dest.find_last_of('/');
    const std::string parent =
        slash == std::string::npos ? "." : slash == 0 ? "/" : dest.substr(0, slash);
    const std::string base = slash == std::string::npos ? dest : dest.substr(slash + 1);
    if (realpath(parent.c_str(), buf) == nullptr) return Status::OK();  // reported later
    d = buf;
    if (d != "/") d += '/';
    d += base;
  }
  if (Within(d, s)) {
    return Status::InvalidArgument("the backup destination " + dest +
                                   " is the database directory or lies inside it (" + s +
                                   ")");
  }
  if (Within(s, d)) {
    return Status::InvalidArgument("the database directory " + s +
                                   " lies inside the backup destination " + dest);
  }
  return Status::OK();
}

// Progress in bytes; the callback is not called while muted (while the
// backup holds the retire mutex, so a callback may call back into the
// database).
class Progress {
 public:
  explicit Progress(std::function<void(uint64_t, uint64_t)> fn) : fn_(std::move(fn)) {}
  void SetTotal(uint64_t t) { total_ = t; }
  void Add(uint64_t n) {
    done_ += n;
    if (!muted_) Report();
  }
  void Mute(bool m) {
    muted_ = m;
    if (!m) Report();
  }
  void Report() {
    if (fn_) fn_(std::min(done_, total_), total_);
  }

 private:
  const std::function<void(uint64_t, uint64_t)> fn_;
  uint64_t done_ = 0, total_ = 0;
  bool muted_ = false;
};

// One segment file of the backup.
struct Item {
  std::shared_ptr<Segment> seg;  // pins the mapping the copy reads
  uint64_t len = 0;              // bytes of the cut
  bool tail = false;             // the newest log segment: always copied
  enum class How { kCopy, kLink, kKeep } how = How::kCopy;
};

bool SameSegmentFile(Env* env, const std::string& path, const Segment& seg, uint64_t len) {
  bool is_dir = false;
  uint64_t size = 0;
  if (len < kSegmentHeaderSize || !env->Stat(path, &is_dir, &size).ok() || is_dir ||
      size != len) {
    return false;
  }
  std::unique_ptr<MappedFile> f;
  if (!env->OpenMappedFile(path, false, &f).ok() || f->size() != len) return false;
  if (std::memcmp(f->data(), seg.data(), kSegmentHeaderSize) != 0) return false;
  const uint64_t from = std::max<uint64_t>(kSegmentHeaderSize, len - std::min(len, kCompareTail));
  return std::memcmp(f->data() + from, seg.data() + from, len - from) == 0;
}

void RemoveIfThere(Env* env, const std::string& path) { (void)env->RemoveFile(path); }

// Writes bytes to `path` through a temporary file: write, fdatasync, rename.
// `head` (if not empty) is written first, then data[from, to).
Status WriteFileAtomically(Env* env, const std::string& path, std::string_view head,
                           const char* data, uint64_t from, uint64_t to, Progress* pr) {
  const std::string tmp = path + ".tmp";
  RemoveIfThere(env, tmp);
  std::unique_ptr<WritableFile> f;
  FIRKIN_RETURN_IF_ERROR(env->NewWritableFile(tmp, &f));
  Status s;
  if (!head.empty()) {
    s = f->Append(head);
    pr->Add(head.size());
  }
  for (uint64_t off = from; s.ok() && off < to;) {
    const uint64_t n = std::min(kCopyChunk, to - off);
    s = f->Append(std::string_view(data + off, n));
    pr->Add(n);
    off += n;
  }
  if (s.ok()) s = f->Sync();
  Status c = f->Close();
  if (s.ok()) s = c;
  if (s.ok()) s = env->RenameFile(tmp, path);
  if (!s.ok()) RemoveIfThere(env, tmp);
  return s;
}

// Copies a segment's first `len` bytes. The copy's durability watermark
// says `len`: the copy is synced before the backup is complete, so it is a
// sealed segment whatever the source's watermark said when it was read.
Status CopySegment(Env* env, const Segment& seg, uint64_t len, const std::string& path,
                   Progress* pr) {
  // The header page as it is; the watermark page is built anew (the
  // writer rewrites the source's in place at each sync, so it is not read).
  std::string header(kSegmentHeaderSize, '\0');
  std::memcpy(header.data(), seg.data(), kWatermarkOffset);
  EncodeDurableLen(header.data(), len);
  return WriteFileAtomically(env, path, header, seg.data(), kSegmentHeaderSize, len, pr);
}

// Links a segment file under a temporary name, then renames it over `path`.
Status LinkSegment(Env* env, const Segment& seg, const std::string& path) {
  const std::string tmp = path + ".tmp";
  RemoveIfThere(env, tmp);
  FIRKIN_RETURN_IF_ERROR(env->LinkFile(seg.path(), tmp));
  Status s = env->RenameFile(tmp, path);
  // rename() of two links to one file does nothing and leaves `tmp`.
  RemoveIfThere(env, tmp);
  return s;
}

}  // namespace

Status DB::Backup(const std::string& dest_in, const BackupOptions& bo, BackupReport* rep) {
  // The copy of the active segment must not change under it (nor the
  // versions of its snapshot).
  InPlaceBlock no_in_place(this);
  *rep = BackupReport();
  std::string dest = dest_in;
  while (dest.size() > 1 && dest.back() == '/') dest.pop_back();
  if (dest.empty()) return Status::InvalidArgument("backup destination path is empty");
  FIRKIN_RETURN_IF_ERROR(CheckPaths(path_, dest));

  // ---- The destination: missing (created), empty, or a backup of this
  // database. Anything else is refused and left untouched.
  bool is_dir = false;
  uint64_t size = 0;
  Status s = env_->Stat(dest, &is_dir, &size);
  if (s.IsNotFound()) {
    s = env_->CreateDir(dest);
    if (s.IsNotFound()) {
      return Status::IOError("cannot create the backup directory " + dest +
                             ": its parent directory does not exist");
    }
    if (!s.ok() && s.code() != Status::Code::kExists) return s;
  } else if (!s.ok()) {
    return s;
  } else if (!is_dir) {
    return Status::NotADatabase(dest + " is a file, not a backup directory; nothing was changed");
  }
  std::vector<std::string> names;
  FIRKIN_RETURN_IF_ERROR(env_->ListDir(dest, &names));
  if (bo.require_empty && !names.empty()) {
    return Status::Exists(dest + " is not empty: restore needs a new or empty directory; "
                                 "nothing was changed");
  }
  bool has_identity = false, has_marker = false, other = false;
  for (const std::string& n : names) {
    if (n == kIdentityFileName) has_identity = true;
    else if (n == kBackupMarkerFileName) has_marker = true;
    else if (n != kLockFileName && n != std::string(kIdentityFileName) + ".tmp" &&
             n != kKeyFileName && n != std::string(kKeyFileName) + ".tmp") {
      other = true;  // (KEYS: an encrypted backup cut short, like FIRKIN.tmp)
    }
  }
  if (has_identity) {
    const std::string ipath = dest + "/" + kIdentityFileName;
    std::string data;
    Identity theirs;
    bool d = false;
    uint64_t isize = 0;
    s = env_->Stat(ipath, &d, &isize);
    if (s.ok() && (d || isize > 4096)) s = Status::Corruption(ipath + " is not an identity file");
    if (s.ok()) s = env_->ReadFile(ipath, &data);
    if (s.ok()) s = DecodeIdentity(data, ipath, &theirs);
    if (!s.ok()) {
      if (s.code() == Status::Code::kVersion || s.code() == Status::Code::kIOError) return s;
      return Status::NotADatabase(dest + " holds a damaged or foreign identity file (" +
                                  s.message() + "); nothing was changed");
    }
    if (theirs.db_id != identity_.db_id) {
      char ids[80];
      std::snprintf(ids, sizeof ids, "%016" PRIx64 ", this database is %016" PRIx64,
                    theirs.db_id, identity_.db_id);
      return Status::Exists(dest + " holds a backup of another database (id " + ids +
                            "); nothing was changed");
    }
  } else if (!names.empty() && (other || !has_marker)) {
    // Without an identity file only the start of a backup that was cut
    // short (its marker) is ours: the identity is written right after it.
    return Status::NotADatabase(dest + " is not empty and is not a backup of this database; "
                                       "nothing was changed");
  }

  // ---- Claim it: no database may have it open (its LOCK), no other
  // backup may be writing it (the marker's lock); then the marker is made
  // durable before anything else changes there.
  std::unique_ptr<FileLock> dest_lock, marker_lock;
  if (has_identity) {
    s = env_->LockFile(dest + "/" + kLockFileName, true, &dest_lock);
    if (s.code() == Status::Code::kBusy) {
      return Status::Busy(dest + " is open as a database (by this or another process); "
                                 "nothing was changed");
    }
    FIRKIN_RETURN_IF_ERROR(s);
  }
  s = env_->LockFile(dest + "/" + kBackupMarkerFileName, true, &marker_lock);
  if (s.code() == Status::Code::kBusy) {
    return Status::Busy("another backup into " + dest + " is running");
  }
  FIRKIN_RETURN_IF_ERROR(s);
  FIRKIN_RETURN_IF_ERROR(env_->SyncDir(dest));
  dest_lock.reset();  // the marker keeps every open out from now on
  if (identity_.encrypted()) {
    // The key file goes with the data (before FIRKIN, as at creation), and
    // again in every incremental backup: a rekey since the last one
    // replaced it.
    std::string keys;
    FIRKIN_RETURN_IF_ERROR(env_->ReadFile(path_ + "/" + kKeyFileName, &keys));
    Progress none(nullptr);
    FIRKIN_RETURN_IF_ERROR(WriteFileAtomically(env_, dest + "/" + kKeyFileName, {}, keys.data(),
                                               0, keys.size(), &none));
    FIRKIN_RETURN_IF_ERROR(env_->SyncDir(dest));
  }
  if (!has_identity) {
    std::string enc = EncodeIdentity(identity_);
    Progress none(nullptr);
    FIRKIN_RETURN_IF_ERROR(WriteFileAtomically(env_, dest + "/" + kIdentityFileName, {},
                                               enc.data(), 0, enc.size(), &none));
    FIRKIN_RETURN_IF_ERROR(env_->SyncDir(dest));
  }

  // ---- The cut: with segment retirement held and no write in flight.
  Progress pr(bo.progress);
  std::vector<Item> items;
  std::unique_ptr<MappedFile> ckpt;
  {
    std::lock_guard<std::mutex> retire(retire_mu_);
    auto take = [&]() -> Status {
      rep->seq = LastSeq();
      for (auto& seg : keyspace_->segments().List()) {
        Item it;
        it.len = seg->published_len();
        it.seg = std::move(seg);
        items.push_back(std::move(it));
      }
      return Status::OK();
    };
    if (log_ != nullptr) {
      FIRKIN_RETURN_IF_ERROR(gate_.RunExclusive(take));
    } else {
      FIRKIN_RETURN_IF_ERROR(take());
    }
    // The checkpoint as it is now (open validates it against the copy).
    if (bo.checkpoint) {
      if (!env_->OpenMappedFile(path_ + "/" + kCheckpointFileName, false, &ckpt).ok() ||
          ckpt->size() == 0) {
        ckpt.reset();
      }
    }
    Item* tail = nullptr;
    uint64_t total = ckpt ? ckpt->size() : 0;
    for (Item& it : items) {
      total += it.len;
      if ((it.seg->flags() & kSegmentFlagCompacted) == 0 &&
          (tail == nullptr || it.seg->id() > tail->seg->id())) {
        tail = &it;
      }
    }
    if (tail != nullptr) tail->tail = true;
    pr.SetTotal(total);
    pr.Mute(true);
    // Keep or link the immutable segments while they are sure to exist.
    for (Item& it : items) {
      if (it.tail) continue;
      const std::string dpath = dest + "/" + SegmentFileName(it.seg->id());
      if (bo.incremental && has_identity && SameSegmentFile(env_, dpath, *it.seg, it.len)) {
        it.how = Item::How::kKeep;
        rep->kept++;
        rep->bytes_kept += it.len;
        pr.Add(it.len);
        continue;
      }
      if (!bo.hard_links) continue;
      s = LinkSegment(env_, *it.seg, dpath);
      if (s.ok()) {
        it.how = Item::How::kLink;
        rep->linked++;
        rep->bytes_linked += it.len;
        pr.Add(it.len);
      } else if (s.code() != Status::Code::kNotSupported && !s.IsNotFound()) {
        return s;
      }
      // Not linkable here (another file system, links refused, or the
      // file is already gone): copied below, from the pinned mapping.
    }
  }
  pr.Mute(false);

  // ---- Copies, from the pinned mappings (writers and compaction go on).
  for (Item& it : items) {
    if (it.how != Item::How::kCopy) continue;
    FIRKIN_RETURN_IF_ERROR(
        CopySegment(env_, *it.seg, it.len, dest + "/" + SegmentFileName(it.seg->id()), &pr));
    rep->copied++;
    rep->bytes_copied += it.len;
  }
  const std::string dckpt = dest + "/" + kCheckpointFileName;
  if (ckpt) {
    FIRKIN_RETURN_IF_ERROR(
        WriteFileAtomically(env_, dckpt, {}, ckpt->data(), 0, ckpt->size(), &pr));
    rep->checkpoint = true;
  } else {
    RemoveIfThere(env_, dckpt);  // an earlier backup's
  }
  ckpt.reset();
  FIRKIN_RETURN_IF_ERROR(env_->SyncDir(dest));

  // ---- Files of an earlier backup that this one does not hold.
  std::set<uint64_t> ids;
  for (const Item& it : items) ids.insert(it.seg->id());
  rep->segments = items.size();
  items.clear();  // unpins the segments
  FIRKIN_RETURN_IF_ERROR(env_->ListDir(dest, &names));
  bool removed_any = false;
  for (const std::string& n : names) {
    uint64_t id = 0;
    const bool stale_segment = ParseSegmentFileName(n, &id) && ids.count(id) == 0;
    if (stale_segment || HasSuffix(n, ".tmp")) {
      FIRKIN_RETURN_IF_ERROR(env_->RemoveFile(dest + "/" + n));
      if (stale_segment) rep->removed++;
      removed_any = true;
    }
  }
  if (removed_any) FIRKIN_RETURN_IF_ERROR(env_->SyncDir(dest));

  // ---- Verify the copy as it will be opened, then mark it complete.
  if (bo.verify) {
    Options vo;
    vo.read_only = true;
    vo.create_if_missing = false;
    vo.ignore_backup_marker = true;
    vo.env = options_.env;
    vo.encryption = options_.encryption;  // the copy's KEYS wraps the same data key
    std::unique_ptr<DB> copy;
    s = DB::Open(dest, vo, &copy);
    std::string report;
    if (s.ok()) s = copy->Verify(&report);
    if (s.ok() && copy->LastSeq() > rep->seq) {
      s = Status::Corruption("it holds sequence number " + std::to_string(copy->LastSeq()) +
                             ", newer than its snapshot " + std::to_string(rep->seq));
    }
    if (copy) copy->Close();
    if (!s.ok()) {
      return Status::Corruption("the backup in " + dest +
                                " failed verification and stays marked incomplete: " +
                                s.message());
    }
    rep->verified = true;
  }
  FIRKIN_RETURN_IF_ERROR(env_->RemoveFile(dest + "/" + kBackupMarkerFileName));
  FIRKIN_RETURN_IF_ERROR(env_->SyncDir(dest));
  marker_lock.reset();
  pr.Report();
  return Status::OK();
}

}  // namespace firkin
