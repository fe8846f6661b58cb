// DB::Backup: online backup into a directory as of one snapshot (the
// protocol is described in backup.h; the on-disk rule in docs/format.md,
// "Backups").
#include "core/db/backup.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <set>
#include <utility>
#include <vector>

#include "core/crypto/key_file.h"
#include "core/db/db.h"
#include "core/log/live_file.h"
#include "core/recovery/checkpoint.h"
#include "core/util/hash.h"

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

// The mark of a complete backup (docs/format.md, "Backups"): written last
// by a backup (restore writes none), it names the database the backup is
// of, its sequence number and every segment file it wrote with its size. A
// later backup into the directory requires it, with the same database id
// and exactly those segment files: a database opened for writing since
// (the writer makes a new log segment; compaction adds and removes
// segments), a restored database, or a live one carries none, or does not
// match, and is refused.
constexpr char kBackupMarkFileName[] = "BACKUP";
constexpr char kBackupMarkMagic[] = "firkin-backup 1\n";

struct BackupMark {
  uint64_t db_id = 0;
  uint64_t seq = 0;
  // Segment files and their sizes; kLinked: a hard link of the source's
  // file (whose size the source may still change: a background seal
  // trims it), so only its presence is checked.
  std::vector<std::pair<std::string, uint64_t>> files;
};
constexpr uint64_t kLinked = ~0ull;

std::string EncodeBackupMark(const BackupMark& m) {
  char line[128];
  std::string out = kBackupMarkMagic;
  std::snprintf(line, sizeof line, "db_id %016" PRIx64 "\nseq %" PRIu64 "\n", m.db_id, m.seq);
  out += line;
  for (const auto& f : m.files) {
    if (f.second == kLinked) {
      std::snprintf(line, sizeof line, "segment %s linked\n", f.first.c_str());
    } else {
      std::snprintf(line, sizeof line, "segment %s %" PRIu64 "\n", f.first.c_str(), f.second);
    }
    out += line;
  }
  std::snprintf(line, sizeof line, "checksum %016" PRIx64 "\n", Checksum(out.data(), out.size()));
  return out + line;
}

Status DecodeBackupMark(const std::string& data, const std::string& path, BackupMark* m) {
  const Status bad = Status::Corruption(path + ": damaged backup mark");
  const size_t last = data.rfind("checksum ");
  if (data.compare(0, std::strlen(kBackupMarkMagic), kBackupMarkMagic) != 0 ||
      last == std::string::npos || data.empty() || data.back() != '\n') {
    return bad;
  }
  uint64_t sum = 0;
  int used = 0;
  if (std::sscanf(data.c_str() + last, "checksum %16" SCNx64 "%n", &sum, &used) != 1 ||
      last + used + 1 != data.size() || sum != Checksum(data.data(), last)) {
    return bad;
  }
  size_t pos = std::strlen(kBackupMarkMagic);
  bool have_id = false, have_seq = false;
  while (pos < last) {
    const size_t nl = data.find('\n', pos);
    const std::string l = data.substr(pos, nl - pos);
    pos = nl + 1;
    char name[64];
    uint64_t v = 0;
    if (std::sscanf(l.c_str(), "db_id %16" SCNx64 "%n", &v, &used) == 1 &&
        static_cast<size_t>(used) == l.size()) {
      m->db_id = v;
      have_id = true;
    } else if (std::sscanf(l.c_str(), "seq %" SCNu64 "%n", &v, &used) == 1 &&
               static_cast<size_t>(used) == l.size()) {
      m->seq = v;
      have_seq = true;
    } else if ((std::sscanf(l.c_str(), "segment %63s %" SCNu64 "%n", name, &v, &used) == 2 ||
                (std::sscanf(l.c_str(), "segment %63s linked%n", name, &used) == 1 &&
                 (v = kLinked, true))) &&
               static_cast<size_t>(used) == l.size()) {
      uint64_t id = 0;
      if (!ParseSegmentFileName(name, &id)) return bad;
      m->files.emplace_back(name, v);
    } else {
      return bad;
    }
  }
  return have_id && have_seq ? Status::OK() : bad;
}

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

// `path` resolved (symlinks, "..") as far as it exists: its deepest
// existing ancestor resolved, then the rest of it taken by name ("." and
// ".." applied as written). False if no ancestor resolves.
bool ResolveAsFarAsExists(const std::string& path, std::string* out) {
  char buf[PATH_MAX];
  std::vector<std::string> rest;  // the missing components, innermost last
  std::string cur = path;
  while (realpath(cur.c_str(), buf) == nullptr) {
    if (cur == "." || cur == "/") return false;
    const size_t slash = cur.find_last_of('/');
    rest.insert(rest.begin(), slash == std::string::npos ? cur : cur.substr(slash + 1));
    cur = slash == std::string::npos ? "." : slash == 0 ? "/" : cur.substr(0, slash);
  }
  std::string d = buf;
  for (const std::string& c : rest) {
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      const size_t slash = d.find_last_of('/');
      d = slash == 0 || slash == std::string::npos ? "/" : d.substr(0, slash);
      continue;
    }
    if (d != "/") d += '/';
    d += c;
  }
  *out = d;
  return true;
}

// The destination must be neither the database directory, nor inside it,
// nor hold it. Paths are resolved as far as they exist: the destination,
// or directories above it, may not exist yet (until the review after the
// fifth, one inside the database directory under a missing directory gave
// FIRKIN_E_IO "its parent directory does not exist", not this refusal).
// `restore`: src is a backup being restored (the messages say so; until
// 2026-11-28 they called it the database and dest the backup's).
Status CheckPaths(const std::string& src, const std::string& dest, bool restore) {
  char buf[PATH_MAX];
  if (realpath(src.c_str(), buf) == nullptr) return Status::OK();
  const std::string s = buf;
  std::string d;
  if (!ResolveAsFarAsExists(dest, &d)) return Status::OK();  // reported later
  const std::string dest_name = restore ? "the restore destination " : "the backup destination ";
  const std::string src_name = restore ? "the backup directory" : "the database directory";
  if (Within(d, s)) {
    return Status::InvalidArgument(dest_name + dest + " is " + src_name +
                                   " or lies inside it (" + s + ")");
  }
  if (Within(s, d)) {
    return Status::InvalidArgument(src_name + " " + s + " lies inside " + dest_name + dest);
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
  // Muted: counted, not reported (the caller holds a lock the callback
  // must not run under). Unmuted, the reports start at 0 if none was made
  // yet, as firkin_backup_progress_fn promises (until 2026-11-28 the first
  // report of a backup that linked segments was the linked bytes).
  void Mute(bool m) {
    muted_ = m;
    if (m) return;
    if (!reported_ && done_ > 0 && fn_) fn_(0, total_);
    Report();
  }
  void Report() {
    reported_ = true;
    if (fn_) fn_(std::min(done_, total_), total_);
  }

 private:
  const std::function<void(uint64_t, uint64_t)> fn_;
  uint64_t done_ = 0, total_ = 0;
  bool muted_ = false;
  bool reported_ = false;
};

// One segment file of the backup.
struct Item {
  std::shared_ptr<Segment> seg;  // pins the mapping the copy reads
  uint64_t len = 0;              // bytes of the cut
  bool sealed = false;           // sealed at the cut: its seal clock is final
  bool tail = false;             // the newest log segment: always copied
  enum class How { kCopy, kLink, kKeep } how = How::kCopy;
};

// Whether `path` is the source's segment file itself (a hard link of it:
// the same inode). Only immutable segments are linked (never the tail).
bool SameInode(const std::string& path, const Segment& seg) {
  struct stat a, b;
  return ::stat(path.c_str(), &a) == 0 && ::stat(seg.path().c_str(), &b) == 0 &&
         a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// Whether the file at `path` holds exactly the bytes CopySegment would
// write for the segment's first `len` bytes: the header page, the
// watermark `len`, and every record byte (compared in full: a same-named
// file of another history may agree on its size, header and last bytes).
bool SameSegmentFile(Env* env, const std::string& path, const Segment& seg, uint64_t len) {
  bool is_dir = false;
  uint64_t size = 0;
  if (len < kSegmentHeaderSize || !env->Stat(path, &is_dir, &size).ok() || is_dir ||
      size != len) {
    return false;
  }
  std::unique_ptr<MappedFile> f;
  if (!env->OpenMappedFile(path, false, &f).ok() || f->size() != len) return false;
  return std::memcmp(f->data(), seg.data(), kWatermarkOffset) == 0 &&
         DecodeDurableLen(f->data()) == len &&
         std::memcmp(f->data() + kSegmentHeaderSize, seg.data() + kSegmentHeaderSize,
                     len - kSegmentHeaderSize) == 0;
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
// `new_db_id` (restore; 0: keep the source's) replaces the database id in
// the header. `clock_ms`: the database's clock at the cut, kept in the
// copy's watermark page as a seal's clock is (the higher of it and the
// source's, for a segment `sealed` at the cut), so that the copy's clock
// never starts behind the source's (until the review of TTL and backups a
// backup or a restore left it out, and a key that had expired read as live
// again in the copy when the system clock was behind). The clock of a
// segment sealed after the cut is not read: the seal writes it while the
// copy runs (a data race under ThreadSanitizer, beside firkin_compact's
// seal of the active segment; found by review), and it is later than the
// state copied.
// `key`: an encrypted database's data-key cipher (nullptr: unencrypted).
// With it the copy's seal clock gets its MAC, and a compaction output's
// done-marker MAC is made again for the copy's header (a restore's new
// database id) where the source's holds; one that does not is not
// vouched for (left absent: the copy's open ignores the marker's values,
// as the source's does).
Status CopySegment(Env* env, const Segment& seg, uint64_t len, bool sealed,
                   const std::string& path, uint64_t new_db_id, uint64_t clock_ms,
                   const Aead* key, Progress* pr) {
  // The header page as it is; the watermark page is built anew (the
  // writer rewrites the source's in place at each sync, so it is not read).
  std::string header(kSegmentHeaderSize, '\0');
  std::memcpy(header.data(), seg.data(), kWatermarkOffset);
  if (new_db_id != 0) {
    // Decoded and encoded again with the new id; a header that does not
    // encode back to itself holds something this code would lose: refused.
    SegmentHeader h;
    FIRKIN_RETURN_IF_ERROR(DecodeSegmentHeader(seg.data(), len, seg.path(), &h));
    std::string page(kSegmentHeaderSize, '\0');
    EncodeSegmentHeader(h, page.data());
    if (std::memcmp(page.data(), seg.data(), kWatermarkOffset) != 0) {
      return Status::Internal(seg.path() + ": segment header does not re-encode to itself; "
                              "cannot give the restored copy a database id of its own");
    }
    h.db_id = new_db_id;
    EncodeSegmentHeader(h, page.data());
    std::memcpy(header.data(), page.data(), kWatermarkOffset);
  }
  EncodeDurableLen(header.data(), len);
  EncodeSealClock(header.data(),
                  sealed ? std::max(clock_ms, DecodeSealClock(seg.data(), key)) : clock_ms, key);
  uint64_t done_off = 0;
  RecordView done;
  if (key != nullptr && (seg.flags() & kSegmentFlagCompacted) != 0 &&
      FindDoneMarker(seg.data(), len, &done_off, &done) &&
      DoneMarkerMac(seg.data(), len, done_off, key) == HeaderMac::kValid) {
    EncodeDoneMac(header.data(),
                  std::string_view(seg.data() + kSegmentHeaderSize,
                                   PeekRecord(seg.data() + kSegmentHeaderSize).size()),
                  done_off, std::string_view(seg.data() + done_off, len - done_off), key);
  }
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

// A complete directory holding this database's identity file is taken for
// an earlier backup only when it carries the mark of one (for this
// database id) and holds exactly the segment files the mark lists, with
// their sizes (a writable open that writes anything starts a new log
// segment; compaction adds and removes segments): a live database, a
// restored one (it has an id of its own anyway) or a backup written to
// since is refused, and nothing there is changed.
Status CheckEarlierBackup(Env* env, const std::string& dest, const std::vector<std::string>& names,
                          bool has_mark, uint64_t db_id) {
  if (!has_mark) {
    return Status::Exists(dest + " holds a database, not a backup (it has no " +
                          kBackupMarkFileName +
                          " mark of a complete backup): back up into a new or empty directory; "
                          "nothing was changed");
  }
  const std::string mpath = dest + "/" + kBackupMarkFileName;
  std::string data;
  BackupMark m;
  bool d = false;
  uint64_t size = 0;
  Status s = env->Stat(mpath, &d, &size);
  if (s.ok() && (d || size > (64u << 20))) s = Status::Corruption(mpath + ": not a backup mark");
  if (s.ok()) s = env->ReadFile(mpath, &data);
  if (s.ok()) s = DecodeBackupMark(data, mpath, &m);
  if (!s.ok()) {
    if (s.code() == Status::Code::kIOError || s.code() == Status::Code::kNoMemory) return s;
    return Status::NotADatabase(dest + ": " + s.message() + "; nothing was changed");
  }
  if (m.db_id != db_id) {
    return Status::NotADatabase(dest + ": its backup mark names another database than its "
                                "identity file; nothing was changed");
  }
  std::set<std::string> listed;
  for (const auto& f : m.files) listed.insert(f.first);
  std::string changed;
  for (const std::string& n : names) {
    uint64_t id = 0;
    if (ParseSegmentFileName(n, &id)) {
      if (listed.count(n) == 0) changed = "segment " + n + " is new";
    } else if (n != kIdentityFileName && n != kKeyFileName && n != kCheckpointFileName &&
               n != kLockFileName && n != kBackupMarkFileName && n != LiveFile::kFileName) {
      // (LIVE: a writable open that wrote nothing leaves it, and only it;
      // a write goes to a new log segment, which the listing shows.)
      changed = "file " + n + " is new";
    }
    if (!changed.empty()) break;
  }
  for (size_t i = 0; changed.empty() && i < m.files.size(); i++) {
    const std::string& n = m.files[i].first;
    if (!env->Stat(dest + "/" + n, &d, &size).ok() || d) {
      changed = "segment " + n + " is gone";
    } else if (m.files[i].second != kLinked && size != m.files[i].second) {
      changed = "segment " + n + " changed size";
    }
  }
  if (!changed.empty()) {
    return Status::Exists(dest + " is no longer the backup of sequence number " +
                          std::to_string(m.seq) + " written there (" + changed +
                          ": it was opened as a database and written since?): back up into a "
                          "new or empty directory; nothing was changed");
  }
  return Status::OK();
}

// The key file `data` (of the database opened with `src`) wrapping the same
// data key for database id `db_id` (restore).
Status RewrapKeyFile(const std::string& data, const std::string& path, const KeySource& src,
                     uint64_t db_id, std::string* out) {
  KeyFileData kf;
  FIRKIN_RETURN_IF_ERROR(DecodeKeyFileHeader(data, path, &kf));
  uint8_t kek[32], dek[32];
  Status s = DeriveKek(src, kf, kek);
  if (s.ok()) s = UnwrapKeyFile(data, path, kek, dek);
  kf.db_id = db_id;
  if (s.ok()) s = EncodeKeyFile(kf, kek, dek, out);
  OPENSSL_cleanse(kek, sizeof kek);
  OPENSSL_cleanse(dek, sizeof dek);
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
  if (dest.empty()) {
    return Status::InvalidArgument(bo.restore ? "restore destination path is empty"
                                              : "backup destination path is empty");
  }
  FIRKIN_RETURN_IF_ERROR(CheckPaths(path_, dest, bo.restore));

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
  if (bo.restore && !names.empty()) {
    return Status::Exists(dest + " is not empty: restore needs a new or empty directory; "
                                 "nothing was changed");
  }
  bool has_identity = false, has_marker = false, has_mark = false, other = false;
  for (const std::string& n : names) {
    if (n == kIdentityFileName) has_identity = true;
    else if (n == kBackupMarkerFileName) has_marker = true;
    else if (n == kBackupMarkFileName) has_mark = true;
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
      if (s.code() == Status::Code::kVersion || s.code() == Status::Code::kIOError ||
          s.code() == Status::Code::kNoMemory) {
        return s;
      }
      return Status::NotADatabase(dest + " holds a damaged or foreign identity file (" +
                                  s.message() + "); nothing was changed");
    }
    if (theirs.db_id != identity_.db_id) {
      char ids[80];
      std::snprintf(ids, sizeof ids, "%016" PRIx64 ", this database is %016" PRIx64,
                    theirs.db_id, identity_.db_id);
      return Status::Exists(dest + " holds a backup of another database, or another "
                                   "database (id " + ids + "); nothing was changed");
    }
    // With the marker: a backup cut short (open refuses such a directory,
    // so nothing was written there since). Without it: only a complete
    // backup of this database that nothing changed since.
  } else if (!names.empty() && (other || has_mark || !has_marker)) {
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
    // (Checked under the lock: no writer can open it meanwhile.)
    if (!has_marker) {
      FIRKIN_RETURN_IF_ERROR(CheckEarlierBackup(env_, dest, names, has_mark, identity_.db_id));
    }
  }
  s = env_->LockFile(dest + "/" + kBackupMarkerFileName, true, &marker_lock);
  if (s.code() == Status::Code::kBusy) {
    return Status::Busy("another backup into " + dest + " is running");
  }
  FIRKIN_RETURN_IF_ERROR(s);
  FIRKIN_RETURN_IF_ERROR(env_->SyncDir(dest));
  dest_lock.reset();  // the marker keeps every open out from now on
  if (has_mark) {
    // The mark says "complete": only a finished backup carries it.
    FIRKIN_RETURN_IF_ERROR(env_->RemoveFile(dest + "/" + kBackupMarkFileName));
    FIRKIN_RETURN_IF_ERROR(env_->SyncDir(dest));
  }
  // Restore: the copy is a database of its own, with an id of its own, so
  // that no backup takes it (or its backups) for the source (or the
  // source's backups), nor the other way round.
  Identity ident = identity_;
  if (bo.restore) {
    do ident.db_id = RandomU64();
    while (ident.db_id == 0 || ident.db_id == identity_.db_id);
  }
  if (identity_.encrypted()) {
    // The key file goes with the data (before FIRKIN, as at creation), and
    // again in every incremental backup: a rekey since the last one
    // replaced it.
    std::string keys;
    FIRKIN_RETURN_IF_ERROR(env_->ReadFile(path_ + "/" + kKeyFileName, &keys));
    if (bo.restore) {
      std::string rewrapped;
      FIRKIN_RETURN_IF_ERROR(RewrapKeyFile(keys, path_ + "/" + kKeyFileName,
                                           options_.encryption, ident.db_id, &rewrapped));
      keys.swap(rewrapped);
    } else if (KeyFileDamagedCopy(keys) != 0) {
      // One copy damaged (this handle opened from the other): the backup
      // gets two intact ones, as a writable open writes them. (Copied as it
      // was, its verification failed, and so did every backup of such a
      // database from a read-only handle, `firkin backup`'s: review of the
      // session's change to verify, which now fails on a damaged copy.)
      keys = KeyFileFromIntactCopy(keys);
    }
    Progress none(nullptr);
    FIRKIN_RETURN_IF_ERROR(WriteFileAtomically(env_, dest + "/" + kKeyFileName, {}, keys.data(),
                                               0, keys.size(), &none));
    FIRKIN_RETURN_IF_ERROR(env_->SyncDir(dest));
  }
  if (!has_identity) {
    std::string enc = EncodeIdentity(ident);
    Progress none(nullptr);
    FIRKIN_RETURN_IF_ERROR(WriteFileAtomically(env_, dest + "/" + kIdentityFileName, {},
                                               enc.data(), 0, enc.size(), &none));
    FIRKIN_RETURN_IF_ERROR(env_->SyncDir(dest));
  }

  // ---- The cut: with segment retirement held and no write in flight.
  Progress pr(bo.progress);
  std::vector<Item> items;
  std::unique_ptr<MappedFile> ckpt;
  uint64_t clock_ms = 0;  // the database's clock at the cut
  {
    std::lock_guard<std::mutex> retire(retire_mu_);
    // The cut from `seq` and its segments with their lengths (`view`'s,
    // else the published ones now).
    auto take_from = [&](uint64_t seq, const ReaderView* view) {
      rep->seq = seq;
      clock_ms = NowMs();
      const std::vector<std::shared_ptr<Segment>> segs =
          view != nullptr ? view->segs : keyspace_->segments().List();
      for (size_t i = 0; i < segs.size(); i++) {
        Item it;
        // (A seal writes the clock, then the length, then sets the flag.)
        it.sealed = segs[i]->sealed.load(std::memory_order_acquire);
        it.len = view != nullptr ? view->ends[i] : segs[i]->published_len();
        it.seg = segs[i];
        items.push_back(std::move(it));
      }
    };
    auto take = [&]() -> Status {
      take_from(LastSeq(), nullptr);
      return Status::OK();
    };
    if (log_ != nullptr) {
      FIRKIN_RETURN_IF_ERROR(gate_.RunExclusive(take));
    } else {
      // A read-only handle: the state of its last completed refresh, its
      // number and its view taken together with no refresh under way. (A
      // refresh raises lengths and lists segments before it publishes its
      // number: taken beside one, about one backup in 60 held records past
      // its number, or linked a segment whole whose records it did not
      // count; the review of 2026-11-29.)
      std::lock_guard<std::mutex> no_refresh(refresh_mu_);
      uint64_t seq = 0;
      const std::shared_ptr<const ReaderView> view = ReaderCut(&seq);
      take_from(seq, view.get());
    }
    // The checkpoint as it is now (open validates it against the copy).
    // (Restore: a checkpoint names its database id; a new one is written
    // for the copy below.)
    if (bo.checkpoint && !bo.restore) {
      if (!env_->OpenMappedFile(path_ + "/" + kCheckpointFileName, false, &ckpt).ok() ||
          ckpt->size() == 0) {
        ckpt.reset();
      }
      // A read-only handle's cut is its own state, and the file is the
      // writer's, of the writer's segments now: copied only where it lists
      // exactly the segments of the cut and no later state (until
      // 2026-11-28 always, and a backup made after the writer compacted
      // and checkpointed failed its own verification: "the checkpoint
      // lists" a segment the cut did not have; found by review). A sealed
      // one (encrypted) is not read here: left out. The copy's open then
      // scans.
      if (ckpt != nullptr && options_.read_only) {
        CheckpointData cd;
        bool same = !codec_.sealing() &&
                    DecodeCheckpoint(std::string_view(ckpt->data(), ckpt->size()),
                                     ckpt->path(), &cd)
                        .ok() &&
                    cd.last_seq <= rep->seq && cd.segments.size() == items.size();
        if (same) {
          std::set<uint64_t> cut;
          for (const Item& it : items) cut.insert(it.seg->id());
          for (const CheckpointSegment& cs : cd.segments) same = same && cut.count(cs.id) != 0;
        }
        if (!same) ckpt.reset();
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
    // Link the immutable segments while they are sure to exist (a file
    // that already is the source's, a link of an earlier backup, is kept).
    // Only sealed ones: the log segment a roll closed just before the cut
    // is not, until the writeback thread seals it (its records may not be
    // synced yet, its watermark below them, its file still preallocated).
    // Linked, the backup was marked complete with records that no fsync of
    // its own had made durable (a power loss then cut the backup's log
    // there, and dropped every later log segment of it), and the source's
    // seal rewrote its header and cut its size afterwards. Copied instead,
    // up to the cut, as the tail is. (Until 2026-11-30 every segment but
    // the tail was linked; backup_test links_sealed.)
    for (Item& it : items) {
      if (it.tail || !it.sealed) continue;
      const std::string dpath = dest + "/" + SegmentFileName(it.seg->id());
      if (bo.incremental && has_identity && SameInode(dpath, *it.seg)) {
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
      // file is already gone): kept or copied below, from the pinned
      // mapping.
    }
  }
  pr.Mute(false);

  // ---- Copies, from the pinned mappings (writers and compaction go on).
  // An immutable segment already there byte for byte is kept (compared in
  // full: the same name and size say nothing of the content).
  // (Times never go back across log segments: only the newest log
  // segment with records can hold a commit past the clock at the cut.)
  uint64_t newest_log = 0;
  for (const Item& it : items) {
    if ((it.seg->flags() & kSegmentFlagCompacted) == 0 && it.len > kSegmentHeaderSize) {
      newest_log = std::max(newest_log, it.seg->id());
    }
  }
  for (Item& it : items) {
    if (it.how != Item::How::kCopy) continue;
    const std::string dpath = dest + "/" + SegmentFileName(it.seg->id());
    if (!it.tail && bo.incremental && has_identity &&
        SameSegmentFile(env_, dpath, *it.seg, it.len)) {
      it.how = Item::How::kKeep;
      rep->kept++;
      rep->bytes_kept += it.len;
      pr.Add(it.len);
      continue;
    }
    // The copy's seal clock must be at or past every commit it holds. A
    // writer's clock is; a read-only handle's need not be (the writer's
    // commits since its open, with the system clock set back): a segment
    // without a seal clock of its own is read for its newest commit (a
    // compaction output's done marker carries its time already; the
    // third code review of the session: a reader's backup of a log whose
    // tail ended with a moved-back write restored to a clock below it).
    uint64_t seg_clock = clock_ms;
    if (options_.read_only && it.seg->id() == newest_log &&
        DecodeSealClock(it.seg->data(), codec_.cipher()) == 0) {
      seg_clock = std::max(seg_clock, NewestRecordTime(*it.seg, it.len));
    }
    FIRKIN_RETURN_IF_ERROR(CopySegment(env_, *it.seg, it.len, it.sealed, dpath,
                                       bo.restore ? ident.db_id : 0, seg_clock,
                                       codec_.cipher(), &pr));
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
  std::set<uint64_t> ids, linked;
  for (const Item& it : items) {
    ids.insert(it.seg->id());
    if (it.how == Item::How::kLink ||
        (it.how == Item::How::kKeep && SameInode(dest + "/" + SegmentFileName(it.seg->id()),
                                                 *it.seg))) {
      linked.insert(it.seg->id());
    }
  }
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

  // ---- Restore: the copy's own checkpoint (it has an id of its own),
  // written by the copy opened as a database.
  if (bo.restore && bo.checkpoint) {
    Options wo;
    wo.create_if_missing = false;
    wo.ignore_backup_marker = true;
    wo.auto_compact = false;
    wo.in_place_updates = false;
    wo.env = options_.env;
    wo.encryption = options_.encryption;
    std::unique_ptr<DB> copy;
    s = DB::Open(dest, wo, &copy);
    if (s.ok()) s = copy->Checkpoint();
    if (copy) {
      Status c = copy->Close();
      if (s.ok()) s = c;
    }
    FIRKIN_RETURN_IF_ERROR(s);
    rep->checkpoint = true;
  }

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
      // What kept the check from running (no memory, an I/O error, too
      // many files) is reported as itself; only what it found is damage
      // (until 2026-11-29 a verification that ran out of memory reported
      // the backup CORRUPTION; oom_test).
      const Status::Code code =
          s.code() == Status::Code::kNoMemory || s.code() == Status::Code::kIOError ||
                  s.code() == Status::Code::kNoSpace
              ? s.code()
              : Status::Code::kCorruption;
      return Status(code, "the backup in " + dest +
                              (code == Status::Code::kCorruption
                                   ? " failed verification and stays marked incomplete: "
                                   : " could not be verified and stays marked incomplete: ") +
                              s.message());
    }
    rep->verified = true;
  }
  if (!bo.restore) {
    // The mark of a complete backup, written last (before the marker goes).
    BackupMark m;
    m.db_id = identity_.db_id;
    m.seq = rep->seq;
    for (uint64_t id : ids) {
      const std::string n = SegmentFileName(id);
      bool d = false;
      uint64_t size = 0;
      FIRKIN_RETURN_IF_ERROR(env_->Stat(dest + "/" + n, &d, &size));
      m.files.emplace_back(n, linked.count(id) != 0 ? kLinked : size);
    }
    const std::string enc = EncodeBackupMark(m);
    Progress none(nullptr);
    FIRKIN_RETURN_IF_ERROR(WriteFileAtomically(env_, dest + "/" + kBackupMarkFileName, {},
                                               enc.data(), 0, enc.size(), &none));
    FIRKIN_RETURN_IF_ERROR(env_->SyncDir(dest));
  }
  FIRKIN_RETURN_IF_ERROR(env_->RemoveFile(dest + "/" + kBackupMarkerFileName));
  FIRKIN_RETURN_IF_ERROR(env_->SyncDir(dest));
  marker_lock.reset();
  pr.Report();
  return Status::OK();
}

}  // namespace firkin
