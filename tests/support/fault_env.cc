// FaultEnv implementation (see fault_env.h for the contract).
//
// Model. The real file on disk (created and mapped through `base`) is the
// durable image: it receives bytes only when they are synced. What a program
// sees (the "page cache") is kept per path in a Node:
//   - mapped files: an anonymous buffer that data() points into; every
//     MappedFile of the same path shares it (MAP_SHARED semantics);
//     Sync(off, len) copies exactly [off, off+len) into the real file.
//   - sequential files: the real file holds the synced prefix; appended,
//     unsynced bytes are kept in memory; Sync writes them through.
// A Node outlives its handles while it holds unsynced data, so a file
// closed without sync still reads back its data until a crash.
// No real fsync/fdatasync is issued (speed), except by base's
// NewMappedFile/OpenMappedFile for what they do themselves.
//
// Names. Creating a file and renaming are recorded as pending until
// SyncDir(dir) of the directory that holds the new name. Removals and
// directory creations are durable at once (simplification). Truncate is
// ftruncate + fdatasync: the new length and all bytes below it are durable.
//
// Crash. For each file with a Node (in path order, one RNG seeded by
// `seed`): the unsynced bytes are the pages of the buffer that differ from
// the real file, from their first differing byte on (mapped; bytes already
// durable are never damaged: "powersafe overwrite") or the unsynced
// appends (sequential), taken in
// file order. kDrop writes none of them; kPrefix writes a uniformly random
// prefix of them (0..all, byte granular: a page may be torn); kGarbage
// writes a random prefix (0..all-1) and then random bytes up to the end of
// the page that holds the cut. Then pending name operations are undone,
// newest first: a created file is unlinked; a rename to->from is renamed
// back (if `to` exists and `from` does not) and a file it replaced is
// rewritten with the replaced file's durable content. Handles opened before
// the crash fail with "simulated power loss" forever, even after Reset().
#include "tests/support/fault_env.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <atomic>
#include <mutex>
#include <random>
#include <utility>
#include <vector>

#include "core/env/posix_env.h"

namespace firkin {
namespace {

constexpr uint64_t kPage = 4096;

const char* OpName(FaultEnv::Op op) {
  switch (op) {
    case FaultEnv::Op::kWrite: return "write";
    case FaultEnv::Op::kSync: return "sync";
    case FaultEnv::Op::kRename: return "rename";
    case FaultEnv::Op::kOpen: return "open";
    case FaultEnv::Op::kAllocate: return "allocate";
  }
  return "?";
}

Status PowerLoss() { return Status::IOError("simulated power loss"); }

// Lexical normalization so that "d//x", "./d/x" and "d/x" name one file.
std::string Normalize(const std::string& path) {
  std::string out;
  if (!path.empty() && path[0] == '/') out = "/";
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string_view part(path.data() + i, j - i);
    if (!part.empty() && part != ".") {
      if (!out.empty() && out.back() != '/') out += '/';
      out.append(part.data(), part.size());
    }
    i = j + 1;
  }
  return out.empty() ? "." : out;
}

std::string DirOf(const std::string& normalized) {
  size_t pos = normalized.rfind('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return normalized.substr(0, pos);
}

// pwrite loop through a real descriptor (write-through of sequential files).
Status WriteAt(int fd, uint64_t off, const char* p, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = pwrite(fd, p, n, static_cast<off_t>(off));
    if (w < 0) {
      if (errno == EINTR) continue;
      return PosixError(errno, "pwrite", path);
    }
    p += w;
    off += static_cast<uint64_t>(w);
    n -= static_cast<size_t>(w);
  }
  return Status::OK();
}

uint64_t SysPage() {
  static const uint64_t kSysPage = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return kSysPage;
}

// Speed-up for big, mostly unwritten segments: a page of the anonymous
// buffer that was never touched is not resident, still holds its initial
// content, and so equals the real file. Fills *resident (one byte per SysPage(),
// bit 0 = resident) and returns true if it can be trusted: not when swap is
// on (a swapped-out page is not resident either) or mincore fails.
bool ResidentPages(const char* buf, uint64_t n, std::vector<unsigned char>* resident) {
  static const bool kSwapOff = [] {
    FILE* f = std::fopen("/proc/swaps", "r");
    if (f == nullptr) return false;
    int lines = 0;
    for (int c; (c = std::fgetc(f)) != EOF;) lines += c == '\n';
    std::fclose(f);
    return lines <= 1;  // only the header line
  }();
  if (!kSwapOff || n == 0) return false;
  resident->assign((n + SysPage() - 1) / SysPage(), 0);
  return mincore(const_cast<char*>(buf), n, resident->data()) == 0;
}

// The page-cache view of one file. Guarded by FaultEnvImpl::mu_, except
// `buf`/`cap`, which are fixed at creation (data() reads them lock-free).
struct Node {
  enum class Kind { kMapped, kSequential };

  Node(Kind k, std::string p, uint64_t e) : kind(k), path(std::move(p)), epoch(e) {}
  ~Node() {
    if (buf != nullptr) munmap(buf, cap);
    if (fd >= 0) close(fd);
  }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Allocates the zero-filled buffer of a mapped node.
  bool Allocate(uint64_t n) {
    if (n == 0) return true;
    void* p = mmap(nullptr, n, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return false;
    buf = static_cast<char*>(p);
    cap = n;
    return true;
  }

  // Whether some byte differs from the durable image.
  bool Dirty() const;

  const Kind kind;
  std::string path;      // current name (normalized)
  const uint64_t epoch;  // the env's crash epoch at creation; older = dead
  bool attached = true;  // still the file at `path` (not removed/replaced)
  int handles = 0;

  // Mapped.
  char* buf = nullptr;
  uint64_t cap = 0;
  uint64_t size = 0;       // logical file size
  uint64_t disk_size = 0;  // bytes of the real file still mapped by `disk`
  bool disk_writable = false;
  std::unique_ptr<MappedFile> disk;  // the real file (durable image)

  // Sequential.
  int fd = -1;            // real file, written with pwrite
  uint64_t disk_len = 0;  // synced bytes in the real file
  std::string pending;    // appended, unsynced
};

// The unsynced pages of a mapped node: (offset, length) of each kPage-sized
// page of the buffer that differs from the real file, from its first
// differing byte to the page's end, in file order. Stops
// after the first if `first_only`. Returns their total length.
uint64_t FindDirtyPages(const Node& node, bool first_only,
                        std::vector<std::pair<uint64_t, uint64_t>>* dirty) {
  if (!node.disk_writable || node.disk == nullptr || node.buf == nullptr) return 0;
  const char* disk = node.disk->data();
  const uint64_t n = std::min(node.size, node.disk_size);
  std::vector<unsigned char> resident;
  const bool filter = ResidentPages(node.buf, n, &resident);
  uint64_t total = 0;
  for (uint64_t off = 0; off < n; off += kPage) {
    if (filter && (resident[off / SysPage()] & 1) == 0) continue;
    const uint64_t len = std::min(kPage, n - off);
    if (std::memcmp(node.buf + off, disk + off, len) != 0) {
      // "Powersafe overwrite" (SQLite's default device assumption): the
      // bytes of a page that are already durable are not damaged when the
      // page is written again, so the unsynced part of a page starts at its
      // first byte that differs from the disk.
      uint64_t first = 0;
      while (node.buf[off + first] == disk[off + first]) first++;
      dirty->emplace_back(off + first, len - first);
      total += len - first;
      if (first_only) break;
    }
  }
  return total;
}

bool Node::Dirty() const {
  if (kind == Kind::kSequential) return !pending.empty();
  std::vector<std::pair<uint64_t, uint64_t>> dirty;
  return FindDirtyPages(*this, true, &dirty) > 0;
}

// A pending directory operation, undone by a crash unless its directory
// was synced.
struct NameOp {
  enum class Kind { kCreate, kRename };
  Kind kind;
  std::string path;  // created file, or rename target
  std::string from;  // rename source
  std::string dir;   // the directory whose SyncDir makes it durable
  bool replaced = false;
  std::string replaced_content;  // durable content of a replaced target
};

class FaultEnvImpl;

// MappedFile over a Node. Thread contract: see MappedFile.
class FaultMappedFile final : public MappedFile {
 public:
  FaultMappedFile(FaultEnvImpl* env, std::shared_ptr<Node> node, std::string path,
                  uint64_t size, bool writable)
      : env_(env), node_(std::move(node)), path_(std::move(path)), size_(size),
        writable_(writable) {}
  ~FaultMappedFile() override;

  char* data() override { return node_->buf; }
  uint64_t size() const override { return size_; }
  const std::string& path() const override { return path_; }
  void SetPath(const std::string& path) override { path_ = path; }
  Status Sync(uint64_t offset, uint64_t len) override;
  Status SyncTwo(uint64_t offset_a, uint64_t len_a, uint64_t offset_b, uint64_t len_b) override;
  Status Truncate(uint64_t len) override;
  uint64_t WriteBehind(uint64_t offset, uint64_t len) override;
  // The memory is whole already (NewMappedFile preallocates): only counted
  // (kAllocate), so that a test can make it fail.
  Status Allocate(uint64_t offset, uint64_t len) override;

 private:
  FaultEnvImpl* const env_;
  const std::shared_ptr<Node> node_;
  std::string path_;
  const uint64_t size_;
  const bool writable_;
};

// WritableFile over a Node. Thread contract: one thread at a time.
class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultEnvImpl* env, std::shared_ptr<Node> node, std::string path)
      : env_(env), node_(std::move(node)), path_(std::move(path)) {}
  ~FaultWritableFile() override;

  Status Append(std::string_view data) override;
  Status Sync() override;
  Status Close() override;

 private:
  FaultEnvImpl* const env_;
  const std::shared_ptr<Node> node_;
  const std::string path_;
  bool closed_ = false;
};

// The FaultEnv. Thread contract: thread-safe, one mutex. REQUIRES: it
// outlives every file object it returned.
class FaultEnvImpl final : public FaultEnv {
 public:
  explicit FaultEnvImpl(Env* base) : base_(base) {}

  // --- Env ---
  Status NewMappedFile(const std::string& path, uint64_t size,
                       std::unique_ptr<MappedFile>* out) override;
  Status PrepareReuse(const std::string& path, uint64_t size) override;
  Status OpenMappedFile(const std::string& path, bool writable,
                        std::unique_ptr<MappedFile>* out) override;
  Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* out) override;
  Status ReadFile(const std::string& path, std::string* out) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status RemoveFile(const std::string& path) override;
  Status SyncDir(const std::string& dir) override;
  Status ListDir(const std::string& dir, std::vector<std::string>* names) override;
  Status CreateDir(const std::string& dir) override;
  Status Stat(const std::string& path, bool* is_dir, uint64_t* size) override;
  Status LockFile(const std::string& path, bool exclusive,
                  std::unique_ptr<FileLock>* out) override;
  Status ProbeLock(const std::string& path, bool* held) override;
  Status ProbeReaders(const std::string& path, bool* present) override;
  Status ProbeRecovering(const std::string& path, bool* recovering) override {
    return base_->ProbeRecovering(path, recovering);
  }
  // A simulated machine: its own boot id, a new one after each simulated
  // power loss (Crash). A LIVE file (in-place updates) written through it
  // is then never taken for this boot's by a later open, through it after
  // a crash or through the real environment: its page cache is gone.
  std::string BootId() override {
    std::lock_guard<std::mutex> l(boot_mu_);
    return "fault-env-" + std::to_string(instance_) + "-" + std::to_string(boots_);
  }

  // --- FaultEnv ---
  void FailNth(Op op, uint64_t nth, Status::Code error, bool sticky) override;
  uint64_t Count(Op op) const override;
  Status Crash(CrashMode mode, uint64_t seed) override;
  void Reset() override;
  void HoldNextWriteBehind() override;
  bool Holding() const override;
  void ReleaseHeld() override;

  // --- called by the file objects ---
  // Waits here if the next write-behind call is to be held.
  void MaybeHoldWriteBehind();
  // One sync operation (one fault point) that makes [offset, offset+len)
  // durable, and [offset_b, offset_b+len_b) with it (SyncTwo).
  Status SyncMapped(Node* node, uint64_t handle_size, uint64_t offset, uint64_t len,
                    uint64_t offset_b = 0, uint64_t len_b = 0);
  Status TruncateMapped(Node* node, bool writable, uint64_t len);
  // MappedFile::Allocate of a file made here: a counted kAllocate call.
  Status CountAllocate(const std::string& path) {
    std::lock_guard<std::mutex> l(mu_);
    return Begin(Op::kAllocate, path);
  }
  Status AppendSequential(Node* node, std::string_view data);
  Status SyncSequential(Node* node);
  Status CheckAlive(const Node* node);
  void Release(const std::shared_ptr<Node>& node);

 private:
  std::mutex boot_mu_;
  uint64_t boots_ = 0;  // simulated power losses so far (BootId)
  // Never the same for two environments (of any process: a random start).
  const uint64_t instance_ = NextInstance();
  static uint64_t NextInstance() {
    static std::atomic<uint64_t> next{std::random_device{}() * 1000003ull};
    return next.fetch_add(1);
  }

  struct Fault {
    uint64_t at = 0;  // 0: none; else the failing call number
    Status::Code code = Status::Code::kIOError;
    bool sticky = false;
  };

  // Counts a call of `op`; its status if the env is crashed or the call is
  // chosen to fail. REQUIRES: mu_ held.
  Status Begin(Op op, const std::string& what);
  Status BeginUncounted() const { return crashed_ ? PowerLoss() : Status::OK(); }
  std::shared_ptr<Node> Find(const std::string& key) const;
  void Detach(const std::string& key);
  void ResolveMapped(Node* node, CrashMode mode, std::mt19937_64* rng);
  void ResolveSequential(Node* node, CrashMode mode, std::mt19937_64* rng, Status* first);
  void Undo(const NameOp& op, Status* first);

  Env* const base_;
  mutable std::mutex mu_;
  bool crashed_ = false;
  uint64_t epoch_ = 0;
  uint64_t counts_[kOpCount] = {};
  Fault faults_[kOpCount];
  std::map<std::string, std::shared_ptr<Node>> nodes_;  // attached nodes by path
  std::vector<NameOp> name_ops_;                          // oldest first
  // HoldNextWriteBehind: its own mutex (the held thread waits on it, and
  // must not keep mu_ from the rest of the env).
  mutable std::mutex hold_mu_;
  std::condition_variable hold_cv_;
  bool hold_armed_ = false;  // the next write-behind call waits
  bool holding_ = false;     // a call is waiting
};

// ---------------------------------------------------------------------------
// File objects.

FaultMappedFile::~FaultMappedFile() { env_->Release(node_); }

uint64_t FaultMappedFile::WriteBehind(uint64_t offset, uint64_t len) {
  env_->MaybeHoldWriteBehind();
  return MappedFile::WriteBehind(offset, len);  // hands nothing over: "page cache" stays
}

void FaultEnvImpl::HoldNextWriteBehind() {
  std::lock_guard<std::mutex> l(hold_mu_);
  hold_armed_ = true;
}

bool FaultEnvImpl::Holding() const {
  std::lock_guard<std::mutex> l(hold_mu_);
  return holding_;
}

void FaultEnvImpl::ReleaseHeld() {
  {
    std::lock_guard<std::mutex> l(hold_mu_);
    hold_armed_ = false;
    holding_ = false;
  }
  hold_cv_.notify_all();
}

void FaultEnvImpl::MaybeHoldWriteBehind() {
  std::unique_lock<std::mutex> l(hold_mu_);
  if (!hold_armed_) return;
  hold_armed_ = false;
  holding_ = true;
  hold_cv_.wait(l, [this] { return !holding_; });
}

Status FaultMappedFile::Sync(uint64_t offset, uint64_t len) {
  return env_->SyncMapped(node_.get(), size_, offset, len);
}

Status FaultMappedFile::SyncTwo(uint64_t offset_a, uint64_t len_a, uint64_t offset_b,
                                uint64_t len_b) {
  return env_->SyncMapped(node_.get(), size_, offset_a, len_a, offset_b, len_b);
}

Status FaultMappedFile::Truncate(uint64_t len) {
  return env_->TruncateMapped(node_.get(), writable_, len);
}

Status FaultMappedFile::Allocate(uint64_t offset, uint64_t len) {
  (void)offset;
  (void)len;
  return env_->CountAllocate(path_);
}

FaultWritableFile::~FaultWritableFile() {
  if (!closed_) env_->Release(node_);
}

Status FaultWritableFile::Append(std::string_view data) {
  if (closed_) return Status::IOError("append " + path_ + ": file is closed");
  return env_->AppendSequential(node_.get(), data);
}

Status FaultWritableFile::Sync() {
  if (closed_) return Status::IOError("sync " + path_ + ": file is closed");
  return env_->SyncSequential(node_.get());
}

Status FaultWritableFile::Close() {
  if (closed_) return Status::OK();
  closed_ = true;
  Status s = env_->CheckAlive(node_.get());
  env_->Release(node_);  // unsynced appends stay in the node
  return s;
}

// ---------------------------------------------------------------------------
// Bookkeeping.

Status FaultEnvImpl::Begin(Op op, const std::string& what) {
  const int i = static_cast<int>(op);
  const uint64_t n = ++counts_[i];
  if (crashed_) return PowerLoss();
  const Fault& f = faults_[i];
  if (f.at != 0 && (n == f.at || (f.sticky && n > f.at))) {
    std::string m = std::string("injected fault: ") + OpName(op) + " " + what;
    if (f.code == Status::Code::kNoSpace) return Status::NoSpace(m + ": No space left on device");
    return Status::IOError(m + ": Input/output error");
  }
  return Status::OK();
}

Status FaultEnvImpl::CheckAlive(const Node* node) {
  std::lock_guard<std::mutex> l(mu_);
  if (crashed_ || node->epoch != epoch_) return PowerLoss();
  return Status::OK();
}

std::shared_ptr<Node> FaultEnvImpl::Find(const std::string& key) const {
  auto it = nodes_.find(key);
  return it == nodes_.end() ? nullptr : it->second;
}

void FaultEnvImpl::Detach(const std::string& key) {
  auto it = nodes_.find(key);
  if (it == nodes_.end()) return;
  it->second->attached = false;  // its handles now write to an unlinked inode
  nodes_.erase(it);
}

void FaultEnvImpl::Release(const std::shared_ptr<Node>& node) {
  std::lock_guard<std::mutex> l(mu_);
  if (--node->handles > 0 || !node->attached || node->epoch != epoch_) return;
  // A clean node is forgotten; a dirty one stays as page cache until a crash.
  if (!node->Dirty()) {
    auto it = nodes_.find(node->path);
    if (it != nodes_.end() && it->second == node) nodes_.erase(it);
    node->attached = false;
  }
}

void FaultEnvImpl::FailNth(Op op, uint64_t nth, Status::Code error, bool sticky) {
  std::lock_guard<std::mutex> l(mu_);
  Fault& f = faults_[static_cast<int>(op)];
  if (nth == 0) {
    f = Fault();
    return;
  }
  f.at = counts_[static_cast<int>(op)] + nth;
  f.code = error;
  f.sticky = sticky;
}

uint64_t FaultEnvImpl::Count(Op op) const {
  std::lock_guard<std::mutex> l(mu_);
  return counts_[static_cast<int>(op)];
}

void FaultEnvImpl::Reset() {
  {
    std::lock_guard<std::mutex> l(mu_);
    crashed_ = false;
    for (int i = 0; i < kOpCount; i++) {
      counts_[i] = 0;
      faults_[i] = Fault();
    }
  }
  ReleaseHeld();
}

// ---------------------------------------------------------------------------
// Mapped files.

Status FaultEnvImpl::NewMappedFile(const std::string& path, uint64_t size,
                                   std::unique_ptr<MappedFile>* out) {
  std::lock_guard<std::mutex> l(mu_);
  FIRKIN_RETURN_IF_ERROR(Begin(Op::kOpen, path));
  FIRKIN_RETURN_IF_ERROR(Begin(Op::kAllocate, path));
  const std::string key = Normalize(path);
  std::unique_ptr<MappedFile> disk;
  FIRKIN_RETURN_IF_ERROR(base_->NewMappedFile(key, size, &disk));
  auto node = std::make_shared<Node>(Node::Kind::kMapped, key, epoch_);
  if (!node->Allocate(size)) {
    disk.reset();
    base_->RemoveFile(key);
    return Status(Status::Code::kNoMemory, "FaultEnv: no memory for a buffer of " + std::to_string(size) +
                            " bytes: " + path);
  }
  node->size = node->disk_size = size;
  node->disk_writable = true;
  node->disk = std::move(disk);
  node->handles = 1;
  Detach(key);
  nodes_[key] = node;
  name_ops_.push_back({NameOp::Kind::kCreate, key, "", DirOf(key), false, ""});
  *out = std::make_unique<FaultMappedFile>(this, node, path, size, true);
  return Status::OK();
}

// Reuse of a retired file: the real file is extended (durable at once, like
// NewMappedFile's preallocation); a clean cached node of it is forgotten so
// the next open maps what is on disk. A node still open or holding unsynced
// bytes is refused (kBusy: the caller creates a new file instead).
Status FaultEnvImpl::PrepareReuse(const std::string& path, uint64_t size) {
  std::lock_guard<std::mutex> l(mu_);
  FIRKIN_RETURN_IF_ERROR(Begin(Op::kAllocate, path));
  const std::string key = Normalize(path);
  std::shared_ptr<Node> node = Find(key);
  if (node != nullptr) {
    if (node->kind != Node::Kind::kMapped || node->handles > 0 || node->Dirty()) {
      return Status::Busy("FaultEnv: " + path + " is open or has unsynced bytes: not reused");
    }
    Detach(key);
  }
  return base_->PrepareReuse(key, size);
}

Status FaultEnvImpl::OpenMappedFile(const std::string& path, bool writable,
                                    std::unique_ptr<MappedFile>* out) {
  std::lock_guard<std::mutex> l(mu_);
  FIRKIN_RETURN_IF_ERROR(Begin(Op::kOpen, path));
  const std::string key = Normalize(path);
  std::shared_ptr<Node> node = Find(key);
  if (node != nullptr && node->kind == Node::Kind::kSequential) {
    return Status::NotSupported("FaultEnv: cannot map " + path +
                                " while it has an open or unsynced WritableFile");
  }
  if (node == nullptr) {
    std::unique_ptr<MappedFile> disk;
    FIRKIN_RETURN_IF_ERROR(base_->OpenMappedFile(key, writable, &disk));
    node = std::make_shared<Node>(Node::Kind::kMapped, key, epoch_);
    if (!node->Allocate(disk->size())) {
      return Status(Status::Code::kNoMemory, "FaultEnv: no memory to map " + path);
    }
    if (disk->size() > 0) std::memcpy(node->buf, disk->data(), disk->size());
    node->size = node->disk_size = disk->size();
    node->disk_writable = writable;
    node->disk = std::move(disk);
    nodes_[key] = node;
  } else if (writable && !node->disk_writable) {
    std::unique_ptr<MappedFile> disk;
    FIRKIN_RETURN_IF_ERROR(base_->OpenMappedFile(key, true, &disk));
    node->disk_size = std::min(node->disk_size, disk->size());
    node->disk = std::move(disk);
    node->disk_writable = true;
  }
  node->handles++;
  *out = std::make_unique<FaultMappedFile>(this, node, path, node->size, writable);
  return Status::OK();
}

Status FaultEnvImpl::SyncMapped(Node* node, uint64_t handle_size, uint64_t offset,
                                uint64_t len, uint64_t offset_b, uint64_t len_b) {
  std::lock_guard<std::mutex> l(mu_);
  FIRKIN_RETURN_IF_ERROR(Begin(Op::kSync, node->path));
  if (node->epoch != epoch_) return PowerLoss();
  const uint64_t limit = std::min({handle_size, node->size, node->disk_size});
  if (!node->disk_writable) return Status::OK();
  for (auto [at, n] : {std::pair<uint64_t, uint64_t>{offset, len}, {offset_b, len_b}}) {
    if (at >= limit || n == 0) continue;
    n = std::min(n, limit - at);
    std::memcpy(node->disk->data() + at, node->buf + at, n);
  }
  return Status::OK();
}

Status FaultEnvImpl::TruncateMapped(Node* node, bool writable, uint64_t len) {
  std::lock_guard<std::mutex> l(mu_);
  // ftruncate (a write) + fdatasync (a sync): counted as both, either can
  // be failed, and a failed call changes nothing.
  FIRKIN_RETURN_IF_ERROR(Begin(Op::kWrite, node->path));
  FIRKIN_RETURN_IF_ERROR(Begin(Op::kSync, node->path));
  if (node->epoch != epoch_) return PowerLoss();
  if (!writable) {
    return Status::IOError("ftruncate " + node->path + ": file is mapped read-only");
  }
  if (len > node->size) {
    return Status::InvalidArgument("truncate " + node->path + ": length " +
                                   std::to_string(len) + " is beyond the file size " +
                                   std::to_string(node->size));
  }
  // Like fdatasync, this makes every byte below `len` durable (whatever
  // Sync ranges were given) and the new length with it. An unlinked
  // (detached) file needs no real truncation.
  const uint64_t keep = std::min(len, node->disk_size);
  if (keep > 0) std::memcpy(node->disk->data(), node->buf, keep);
  if (node->attached && truncate(node->path.c_str(), static_cast<off_t>(len)) != 0) {
    return PosixError(errno, "ftruncate", node->path);
  }
  node->size = len;
  node->disk_size = std::min(node->disk_size, len);  // never touch `disk` beyond
  return Status::OK();
}

// ---------------------------------------------------------------------------
// Sequential files.

Status FaultEnvImpl::NewWritableFile(const std::string& path,
                                     std::unique_ptr<WritableFile>* out) {
  std::lock_guard<std::mutex> l(mu_);
  FIRKIN_RETURN_IF_ERROR(Begin(Op::kOpen, path));
  const std::string key = Normalize(path);
  std::shared_ptr<Node> old = Find(key);
  if (old != nullptr && old->kind == Node::Kind::kMapped && old->handles > 0) {
    return Status::NotSupported("FaultEnv: cannot truncate " + path + " while it is mapped");
  }
  bool is_dir = false;
  const bool existed = base_->Stat(key, &is_dir, nullptr).ok();
  std::unique_ptr<WritableFile> created;
  FIRKIN_RETURN_IF_ERROR(base_->NewWritableFile(key, &created));
  FIRKIN_RETURN_IF_ERROR(created->Close());
  int fd;
  do {
    fd = open(key.c_str(), O_WRONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return PosixError(errno, "open", path);
  auto node = std::make_shared<Node>(Node::Kind::kSequential, key, epoch_);
  node->fd = fd;
  node->handles = 1;
  Detach(key);  // the truncation supersedes an older page-cache view
  nodes_[key] = node;
  if (!existed) name_ops_.push_back({NameOp::Kind::kCreate, key, "", DirOf(key), false, ""});
  *out = std::make_unique<FaultWritableFile>(this, node, path);
  return Status::OK();
}

Status FaultEnvImpl::AppendSequential(Node* node, std::string_view data) {
  std::lock_guard<std::mutex> l(mu_);
  FIRKIN_RETURN_IF_ERROR(Begin(Op::kWrite, node->path));
  if (node->epoch != epoch_) return PowerLoss();
  node->pending.append(data.data(), data.size());
  return Status::OK();
}

Status FaultEnvImpl::SyncSequential(Node* node) {
  std::lock_guard<std::mutex> l(mu_);
  FIRKIN_RETURN_IF_ERROR(Begin(Op::kSync, node->path));
  if (node->epoch != epoch_) return PowerLoss();
  if (node->pending.empty()) return Status::OK();
  FIRKIN_RETURN_IF_ERROR(
      WriteAt(node->fd, node->disk_len, node->pending.data(), node->pending.size(), node->path));
  node->disk_len += node->pending.size();
  node->pending.clear();
  return Status::OK();
}

// ---------------------------------------------------------------------------
// Names and metadata.

Status FaultEnvImpl::ReadFile(const std::string& path, std::string* out) {
  std::lock_guard<std::mutex> l(mu_);
  FIRKIN_RETURN_IF_ERROR(Begin(Op::kOpen, path));
  const std::string key = Normalize(path);
  std::shared_ptr<Node> node = Find(key);
  if (node == nullptr) return base_->ReadFile(key, out);
  if (node->kind == Node::Kind::kMapped) {
    out->assign(node->buf == nullptr ? "" : node->buf, node->size);
    return Status::OK();
  }
  FIRKIN_RETURN_IF_ERROR(base_->ReadFile(key, out));
  out->resize(std::min<uint64_t>(out->size(), node->disk_len));
  out->append(node->pending);
  return Status::OK();
}

Status FaultEnvImpl::RenameFile(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> l(mu_);
  FIRKIN_RETURN_IF_ERROR(Begin(Op::kRename, from + " -> " + to));
  const std::string kf = Normalize(from), kt = Normalize(to);
  NameOp op{NameOp::Kind::kRename, kt, kf, DirOf(kt), false, ""};
  bool is_dir = false;
  if (kf != kt && base_->Stat(kt, &is_dir, nullptr).ok() && !is_dir) {
    // The real file is the replaced file's durable image.
    op.replaced = base_->ReadFile(kt, &op.replaced_content).ok();
  }
  FIRKIN_RETURN_IF_ERROR(base_->RenameFile(kf, kt));
  if (kf == kt) return Status::OK();
  Detach(kt);
  auto it = nodes_.find(kf);
  if (it != nodes_.end()) {
    std::shared_ptr<Node> node = it->second;
    nodes_.erase(it);
    node->path = kt;
    nodes_[kt] = node;
  }
  name_ops_.push_back(std::move(op));
  return Status::OK();
}

Status FaultEnvImpl::RemoveFile(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  FIRKIN_RETURN_IF_ERROR(BeginUncounted());
  const std::string key = Normalize(path);
  FIRKIN_RETURN_IF_ERROR(base_->RemoveFile(key));
  Detach(key);
  // The removal is durable at once, so the creation needs no undoing.
  name_ops_.erase(std::remove_if(name_ops_.begin(), name_ops_.end(),
                                 [&](const NameOp& op) {
                                   return op.kind == NameOp::Kind::kCreate && op.path == key;
                                 }),
                  name_ops_.end());
  return Status::OK();
}

Status FaultEnvImpl::SyncDir(const std::string& dir) {
  std::lock_guard<std::mutex> l(mu_);
  FIRKIN_RETURN_IF_ERROR(Begin(Op::kSync, dir));
  const std::string key = Normalize(dir);
  bool is_dir = false;
  FIRKIN_RETURN_IF_ERROR(base_->Stat(key, &is_dir, nullptr));
  if (!is_dir) return Status::IOError("open " + dir + ": Not a directory");
  name_ops_.erase(std::remove_if(name_ops_.begin(), name_ops_.end(),
                                 [&](const NameOp& op) { return op.dir == key; }),
                  name_ops_.end());
  return Status::OK();
}

Status FaultEnvImpl::ListDir(const std::string& dir, std::vector<std::string>* names) {
  std::lock_guard<std::mutex> l(mu_);
  FIRKIN_RETURN_IF_ERROR(BeginUncounted());
  return base_->ListDir(dir, names);
}

Status FaultEnvImpl::CreateDir(const std::string& dir) {
  std::lock_guard<std::mutex> l(mu_);
  FIRKIN_RETURN_IF_ERROR(BeginUncounted());
  return base_->CreateDir(dir);
}

Status FaultEnvImpl::Stat(const std::string& path, bool* is_dir, uint64_t* size) {
  std::lock_guard<std::mutex> l(mu_);
  FIRKIN_RETURN_IF_ERROR(BeginUncounted());
  const std::string key = Normalize(path);
  FIRKIN_RETURN_IF_ERROR(base_->Stat(key, is_dir, size));
  std::shared_ptr<Node> node = Find(key);
  if (node != nullptr && size != nullptr) {
    *size = node->kind == Node::Kind::kMapped ? node->size
                                              : node->disk_len + node->pending.size();
  }
  return Status::OK();
}

Status FaultEnvImpl::LockFile(const std::string& path, bool exclusive,
                              std::unique_ptr<FileLock>* out) {
  std::lock_guard<std::mutex> l(mu_);
  FIRKIN_RETURN_IF_ERROR(BeginUncounted());
  return base_->LockFile(path, exclusive, out);
}

Status FaultEnvImpl::ProbeLock(const std::string& path, bool* held) {
  std::lock_guard<std::mutex> l(mu_);
  FIRKIN_RETURN_IF_ERROR(BeginUncounted());
  return base_->ProbeLock(path, held);
}

Status FaultEnvImpl::ProbeReaders(const std::string& path, bool* present) {
  std::lock_guard<std::mutex> l(mu_);
  FIRKIN_RETURN_IF_ERROR(BeginUncounted());
  return base_->ProbeReaders(path, present);
}

// ---------------------------------------------------------------------------
// Crash.

// How many of `total` unsynced bytes reach disk.
uint64_t PickCut(FaultEnv::CrashMode mode, uint64_t total, std::mt19937_64* rng) {
  switch (mode) {
    case FaultEnv::CrashMode::kDrop: return 0;
    case FaultEnv::CrashMode::kPrefix: return (*rng)() % (total + 1);
    case FaultEnv::CrashMode::kGarbage: return total == 0 ? 0 : (*rng)() % total;
    case FaultEnv::CrashMode::kPages: return (*rng)() % (total + 1);  // sequential files
    case FaultEnv::CrashMode::kKill: return total;                     // the page cache survives
  }
  return 0;
}

void FillRandom(char* p, uint64_t n, std::mt19937_64* rng) {
  for (uint64_t i = 0; i < n; i++) p[i] = static_cast<char>((*rng)() & 0xff);
}

void FaultEnvImpl::ResolveMapped(Node* node, CrashMode mode, std::mt19937_64* rng) {
  std::vector<std::pair<uint64_t, uint64_t>> dirty;
  const uint64_t total = FindDirtyPages(*node, false, &dirty);
  if (total == 0) return;
  char* disk = node->disk->data();
  if (mode == CrashMode::kPages) {
    // Writeback in any order: every dirty page reaches disk whole, or not.
    for (const auto& [off, len] : dirty) {
      if ((*rng)() & 1) std::memcpy(disk + off, node->buf + off, len);
    }
    return;
  }
  uint64_t left = PickCut(mode, total, rng);
  for (const auto& [off, len] : dirty) {
    const uint64_t take = std::min(left, len);
    std::memcpy(disk + off, node->buf + off, take);
    left -= take;
    if (take < len) {
      if (mode == CrashMode::kGarbage) FillRandom(disk + off + take, len - take, rng);
      break;
    }
  }
}

void FaultEnvImpl::ResolveSequential(Node* node, CrashMode mode, std::mt19937_64* rng,
                                     Status* first) {
  const uint64_t total = node->pending.size();
  if (total == 0) return;
  const uint64_t cut = PickCut(mode, total, rng);
  std::string out = node->pending.substr(0, cut);
  if (mode == CrashMode::kGarbage) {
    // Garbage up to the end of the page holding the cut.
    const uint64_t page_end = ((node->disk_len + cut) / kPage + 1) * kPage - node->disk_len;
    const uint64_t end = std::min(total, page_end);
    out.resize(end);
    FillRandom(&out[cut], end - cut, rng);
  }
  Status s = WriteAt(node->fd, node->disk_len, out.data(), out.size(), node->path);
  if (!s.ok() && first->ok()) *first = s;
}

void FaultEnvImpl::Undo(const NameOp& op, Status* first) {
  auto keep = [&](const Status& s) {
    if (!s.ok() && !s.IsNotFound() && first->ok()) *first = s;
  };
  if (op.kind == NameOp::Kind::kCreate) {
    keep(base_->RemoveFile(op.path));
    return;
  }
  bool is_dir = false;
  if (!base_->Stat(op.path, &is_dir, nullptr).ok()) return;  // removed since
  if (base_->Stat(op.from, &is_dir, nullptr).ok()) return;   // source name reused
  Status s = base_->RenameFile(op.path, op.from);
  keep(s);
  if (!s.ok() || !op.replaced) return;
  std::unique_ptr<WritableFile> f;
  s = base_->NewWritableFile(op.path, &f);
  if (s.ok()) s = f->Append(op.replaced_content);
  if (s.ok()) s = f->Close();
  keep(s);
}

Status FaultEnvImpl::Crash(CrashMode mode, uint64_t seed) {
  const bool kill = mode == CrashMode::kKill;  // the machine stays up
  if (!kill) {
    std::lock_guard<std::mutex> l(boot_mu_);
    boots_++;
  }
  std::lock_guard<std::mutex> l(mu_);
  if (crashed_) return Status::OK();
  crashed_ = true;
  std::mt19937_64 rng(seed);
  Status first;
  // 1. Data: write through what the mode lets reach disk (by open handles,
  //    so before any name is changed back).
  for (auto& [key, node] : nodes_) {
    if (node->kind == Node::Kind::kMapped) {
      ResolveMapped(node.get(), mode, &rng);
    } else {
      ResolveSequential(node.get(), mode, &rng, &first);
    }
  }
  // 2. Names: undo what no SyncDir made durable, newest first (a killed
  //    process leaves them all: the kernel has them).
  if (!kill) {
    for (auto it = name_ops_.rbegin(); it != name_ops_.rend(); ++it) Undo(*it, &first);
  }
  name_ops_.clear();
  // 3. Everything opened so far is dead. Buffers stay mapped for handles.
  for (auto& [key, node] : nodes_) {
    node->attached = false;
    node->disk.reset();
    node->disk_writable = false;
  }
  nodes_.clear();
  epoch_++;
  ReleaseHeld();  // the held thread goes on, into a dead environment
  return first;
}

}  // namespace

std::unique_ptr<FaultEnv> FaultEnv::Create(Env* base) {
  return std::make_unique<FaultEnvImpl>(base);
}

}  // namespace firkin
