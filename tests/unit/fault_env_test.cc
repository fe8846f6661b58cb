// Unit tests of FaultEnv (core/env/fault_env.cc): what survives each crash
// mode, pending creations and renames, injected faults, the crashed state.
#include "tests/support/fault_env.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace firkin {
namespace {

constexpr uint64_t kPage = 4096;
using Op = FaultEnv::Op;
using Mode = FaultEnv::CrashMode;
using namespace std::chrono_literals;

class FaultEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/firkin_fault_env_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    env_ = FaultEnv::Create(Env::Default());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string P(const std::string& name) const { return dir_ + "/" + name; }

  // What is on disk, read around the FaultEnv.
  std::string Disk(const std::string& name) {
    std::string s;
    Status st = Env::Default()->ReadFile(P(name), &s);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return s;
  }
  bool Exists(const std::string& name) {
    return Env::Default()->Stat(P(name), nullptr, nullptr).ok();
  }

  // A durable (SyncDir'ed) mapped file of `pages` pages.
  std::unique_ptr<MappedFile> NewSegment(const std::string& name, uint64_t pages) {
    std::unique_ptr<MappedFile> f;
    Status s = env_->NewMappedFile(P(name), pages * kPage, &f);
    EXPECT_TRUE(s.ok()) << s.ToString();
    s = env_->SyncDir(dir_);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return f;
  }

  void WriteFile(const std::string& name, const std::string& content, bool sync) {
    std::unique_ptr<WritableFile> w;
    ASSERT_TRUE(env_->NewWritableFile(P(name), &w).ok());
    ASSERT_TRUE(w->Append(content).ok());
    if (sync) {
      ASSERT_TRUE(w->Sync().ok());
    }
    ASSERT_TRUE(w->Close().ok());
  }

  std::string dir_;
  std::unique_ptr<FaultEnv> env_;
};

TEST_F(FaultEnvTest, DropLosesUnsyncedBytesAndKeepsSyncedOnes) {
  auto f = NewSegment("seg", 4);
  std::memset(f->data(), 'a', kPage);
  ASSERT_TRUE(f->Sync(0, kPage).ok());
  std::memset(f->data() + kPage, 'b', 2 * kPage);
  f->data()[3 * kPage + 7] = 'c';

  // Before the crash the program sees everything; the disk only the synced page.
  std::string seen;
  ASSERT_TRUE(env_->ReadFile(P("seg"), &seen).ok());
  EXPECT_EQ(seen.substr(kPage, 2 * kPage), std::string(2 * kPage, 'b'));
  EXPECT_EQ(seen[3 * kPage + 7], 'c');
  std::string disk = Disk("seg");
  EXPECT_EQ(disk.substr(0, kPage), std::string(kPage, 'a'));
  EXPECT_EQ(disk.substr(kPage), std::string(3 * kPage, '\0'));

  ASSERT_TRUE(env_->Crash(Mode::kDrop, 1).ok());
  f.reset();
  env_->Reset();
  std::string after;
  ASSERT_TRUE(env_->ReadFile(P("seg"), &after).ok());
  ASSERT_EQ(after.size(), 4 * kPage);
  EXPECT_EQ(after.substr(0, kPage), std::string(kPage, 'a'));
  EXPECT_EQ(after.substr(kPage), std::string(3 * kPage, '\0'));
}

// HoldNextWriteBehind holds exactly one write-behind call, on its thread,
// until ReleaseHeld; the next call passes; a crash lets a held call go.
TEST_F(FaultEnvTest, HoldNextWriteBehindHoldsOneCallUntilReleased) {
  auto f = NewSegment("held", 4);
  env_->HoldNextWriteBehind();
  std::atomic<bool> returned{false};
  std::thread t([&] {
    f->WriteBehind(0, kPage);
    returned = true;
  });
  for (int i = 0; i < 2000 && !env_->Holding(); i++) std::this_thread::sleep_for(1ms);
  ASSERT_TRUE(env_->Holding());
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(returned.load());
  EXPECT_EQ(f->WriteBehind(kPage, kPage), kPage);  // the next call passes
  env_->ReleaseHeld();
  t.join();
  EXPECT_TRUE(returned.load());
  EXPECT_FALSE(env_->Holding());
  env_->HoldNextWriteBehind();
  std::thread u([&] { f->WriteBehind(0, kPage); });
  for (int i = 0; i < 2000 && !env_->Holding(); i++) std::this_thread::sleep_for(1ms);
  ASSERT_TRUE(env_->Holding());
  ASSERT_TRUE(env_->Crash(Mode::kDrop, 1).ok());
  u.join();  // the crash let it go
  EXPECT_FALSE(env_->Holding());
}

TEST_F(FaultEnvTest, SyncWritesExactlyTheRange) {
  auto f = NewSegment("seg", 2);
  std::memset(f->data(), 'x', 2 * kPage);
  ASSERT_TRUE(f->Sync(100, 50).ok());
  std::string disk = Disk("seg");
  EXPECT_EQ(disk.substr(0, 100), std::string(100, '\0'));
  EXPECT_EQ(disk.substr(100, 50), std::string(50, 'x'));
  EXPECT_EQ(disk.substr(150), std::string(2 * kPage - 150, '\0'));
}

TEST_F(FaultEnvTest, MappingsOfOnePathShareTheirBytes) {
  auto w = NewSegment("seg", 1);
  std::unique_ptr<MappedFile> r;
  ASSERT_TRUE(env_->OpenMappedFile(P("seg"), false, &r).ok());
  ASSERT_EQ(r->size(), kPage);
  w->data()[10] = 'k';
  EXPECT_EQ(r->data()[10], 'k');
  // Closed without sync: later opens still see the byte (page cache).
  w.reset();
  r.reset();
  ASSERT_TRUE(env_->OpenMappedFile(P("seg"), false, &r).ok());
  EXPECT_EQ(r->data()[10], 'k');
  EXPECT_EQ(Disk("seg")[10], '\0');
  r.reset();
  ASSERT_TRUE(env_->Crash(Mode::kDrop, 0).ok());
  EXPECT_EQ(Disk("seg")[10], '\0');
}

TEST_F(FaultEnvTest, ReopenedFileKeepsItsDurableImage) {
  {
    auto f = NewSegment("seg", 3);
    std::memset(f->data(), 'o', 3 * kPage);
    ASSERT_TRUE(f->Sync(0, 3 * kPage).ok());
  }
  std::unique_ptr<MappedFile> f;
  ASSERT_TRUE(env_->OpenMappedFile(P("seg"), true, &f).ok());
  ASSERT_EQ(f->size(), 3 * kPage);
  EXPECT_EQ(f->data()[3 * kPage - 1], 'o');
  std::memset(f->data(), 'n', 3 * kPage);
  ASSERT_TRUE(f->Sync(kPage, 10).ok());
  ASSERT_TRUE(env_->Crash(Mode::kDrop, 5).ok());
  std::string expect(3 * kPage, 'o');
  std::memset(&expect[kPage], 'n', 10);
  EXPECT_EQ(Disk("seg"), expect);
}

TEST_F(FaultEnvTest, ZeroSizeFileOpens) {
  WriteFile("empty", "", true);
  std::unique_ptr<MappedFile> m;
  ASSERT_TRUE(env_->OpenMappedFile(P("empty"), true, &m).ok());
  EXPECT_EQ(m->size(), 0u);
  EXPECT_TRUE(m->Sync(0, 10).ok());
}

// Mapped: 16 pages of distinct non-zero bytes, none synced. After kPrefix
// the file must be a prefix of the written bytes followed by zeros.
TEST_F(FaultEnvTest, PrefixKeepsAPrefixOfMappedBytes) {
  const uint64_t n = 16 * kPage;
  int partial = 0, past_half = 0;
  for (uint64_t seed = 0; seed < 20; seed++) {
    auto env = FaultEnv::Create(Env::Default());
    const std::string name = "seg" + std::to_string(seed);
    std::unique_ptr<MappedFile> f;
    ASSERT_TRUE(env->NewMappedFile(P(name), n, &f).ok());
    ASSERT_TRUE(env->SyncDir(dir_).ok());
    for (uint64_t i = 0; i < n; i++) f->data()[i] = static_cast<char>(1 + (i / kPage));
    ASSERT_TRUE(env->Crash(Mode::kPrefix, seed).ok());
    f.reset();
    std::string disk = Disk(name);
    ASSERT_EQ(disk.size(), n);
    uint64_t cut = 0;
    while (cut < n && disk[cut] == static_cast<char>(1 + cut / kPage)) cut++;
    for (uint64_t i = cut; i < n; i++) ASSERT_EQ(disk[i], '\0') << "seed " << seed << " at " << i;
    if (cut > 0 && cut < n) partial++;
    if (cut > n / 2) past_half++;
  }
  EXPECT_GE(partial, 10);   // the cut really is random,
  EXPECT_GE(past_half, 3);  // over all the dirty pages
}

TEST_F(FaultEnvTest, PrefixKeepsAPrefixOfAppends) {
  int partial = 0;
  const std::string synced = "SYNCED|";
  std::string pending;
  for (int i = 0; i < 3000; i++) pending += static_cast<char>('a' + i % 26);
  for (uint64_t seed = 0; seed < 20; seed++) {
    auto env = FaultEnv::Create(Env::Default());
    const std::string name = "f" + std::to_string(seed);
    std::unique_ptr<WritableFile> w;
    ASSERT_TRUE(env->NewWritableFile(P(name), &w).ok());
    ASSERT_TRUE(env->SyncDir(dir_).ok());
    ASSERT_TRUE(w->Append(synced).ok());
    ASSERT_TRUE(w->Sync().ok());
    ASSERT_TRUE(w->Append(pending).ok());
    std::string seen;
    ASSERT_TRUE(env->ReadFile(P(name), &seen).ok());
    EXPECT_EQ(seen, synced + pending);
    ASSERT_TRUE(env->Crash(Mode::kPrefix, seed).ok());
    EXPECT_FALSE(w->Close().ok());
    std::string disk = Disk(name);
    ASSERT_GE(disk.size(), synced.size());
    ASSERT_LE(disk.size(), synced.size() + pending.size());
    EXPECT_EQ(disk, (synced + pending).substr(0, disk.size()));
    if (disk.size() > synced.size() && disk.size() < synced.size() + pending.size()) partial++;
  }
  EXPECT_GE(partial, 10);
}

TEST_F(FaultEnvTest, GarbageTearsThePageAfterThePrefix) {
  const uint64_t n = 8 * kPage;
  int garbage_seen = 0;
  for (uint64_t seed = 0; seed < 10; seed++) {
    auto env = FaultEnv::Create(Env::Default());
    const std::string name = "seg" + std::to_string(seed);
    std::unique_ptr<MappedFile> f;
    ASSERT_TRUE(env->NewMappedFile(P(name), n, &f).ok());
    ASSERT_TRUE(env->SyncDir(dir_).ok());
    std::memset(f->data(), 'x', n);
    ASSERT_TRUE(env->Crash(Mode::kGarbage, seed).ok());
    f.reset();
    std::string disk = Disk(name);
    ASSERT_EQ(disk.size(), n);
    uint64_t cut = 0;
    while (cut < n && disk[cut] == 'x') cut++;
    ASSERT_LT(cut, n) << "garbage mode wrote everything";
    const uint64_t page_end = (cut / kPage + 1) * kPage;
    // Past the torn page nothing was written.
    for (uint64_t i = page_end; i < n; i++) ASSERT_EQ(disk[i], '\0') << i;
    std::string torn = disk.substr(cut, page_end - cut);
    if (torn != std::string(torn.size(), '\0') && torn.find_first_not_of('x') != std::string::npos) {
      garbage_seen++;
    }
  }
  EXPECT_GE(garbage_seen, 8);
}

TEST_F(FaultEnvTest, GarbageOnAppends) {
  auto w = std::unique_ptr<WritableFile>();
  ASSERT_TRUE(env_->NewWritableFile(P("f"), &w).ok());
  ASSERT_TRUE(env_->SyncDir(dir_).ok());
  ASSERT_TRUE(w->Append(std::string(10000, 'y')).ok());
  ASSERT_TRUE(env_->Crash(Mode::kGarbage, 7).ok());
  std::string disk = Disk("f");
  ASSERT_GT(disk.size(), 0u);
  ASSERT_LE(disk.size(), 10000u);
  const size_t cut = disk.find_first_not_of('y');
  ASSERT_NE(cut, std::string::npos);
  EXPECT_EQ(disk.size(), std::min<size_t>(10000, (cut / kPage + 1) * kPage));
}

TEST_F(FaultEnvTest, UnsyncedCreationsAreRemovedByACrash) {
  std::unique_ptr<MappedFile> m;
  ASSERT_TRUE(env_->NewMappedFile(P("seg"), kPage, &m).ok());
  m->data()[0] = 'd';
  ASSERT_TRUE(m->Sync(0, kPage).ok());  // data synced, directory not
  WriteFile("ckpt", "data", true);
  ASSERT_TRUE(Exists("seg"));
  ASSERT_TRUE(Exists("ckpt"));
  ASSERT_TRUE(env_->Crash(Mode::kPrefix, 3).ok());
  EXPECT_FALSE(Exists("seg"));
  EXPECT_FALSE(Exists("ckpt"));
}

// kKill is a process crash: every byte written reaches the files (mapped
// and appended, synced or not), no creation or rename is undone, and the
// boot id stays, so a reopen after Reset() is on the same boot.
TEST_F(FaultEnvTest, KillKeepsEverythingWrittenAndTheBoot) {
  WriteFile("a", "A", true);
  ASSERT_TRUE(env_->SyncDir(dir_).ok());
  std::unique_ptr<MappedFile> m;
  ASSERT_TRUE(env_->NewMappedFile(P("seg"), 2 * kPage, &m).ok());  // no SyncDir
  std::memset(m->data(), 'k', kPage + 9);                           // never synced
  std::unique_ptr<WritableFile> w;
  ASSERT_TRUE(env_->NewWritableFile(P("log"), &w).ok());
  ASSERT_TRUE(w->Append("appended").ok());  // never synced
  ASSERT_TRUE(env_->RenameFile(P("a"), P("b")).ok());
  const std::string boot = env_->BootId();
  ASSERT_TRUE(env_->Crash(Mode::kKill, 7).ok());
  EXPECT_FALSE(env_->Stat(P("seg"), nullptr, nullptr).ok());  // crashed: every call fails
  m.reset();
  w.reset();
  ASSERT_TRUE(Exists("seg"));
  const std::string seg = Disk("seg");
  ASSERT_EQ(seg.size(), 2 * kPage);
  EXPECT_EQ(seg.substr(0, kPage + 9), std::string(kPage + 9, 'k'));
  EXPECT_EQ(seg.substr(kPage + 9), std::string(kPage - 9, '\0'));
  EXPECT_EQ(Disk("log"), "appended");
  EXPECT_FALSE(Exists("a"));
  EXPECT_EQ(Disk("b"), "A");
  env_->Reset();
  EXPECT_EQ(env_->BootId(), boot);
  // A power loss after it is a new boot.
  ASSERT_TRUE(env_->Crash(Mode::kDrop, 7).ok());
  EXPECT_NE(env_->BootId(), boot);
}

TEST_F(FaultEnvTest, SyncDirMakesCreationsStay) {
  std::unique_ptr<MappedFile> m;
  ASSERT_TRUE(env_->NewMappedFile(P("seg"), kPage, &m).ok());
  m->data()[0] = 'd';
  ASSERT_TRUE(m->Sync(0, 1).ok());
  WriteFile("ckpt", "data", true);
  ASSERT_TRUE(env_->SyncDir(dir_ + "/").ok());  // spelled differently
  ASSERT_TRUE(env_->CreateDir(P("sub")).ok());
  WriteFile("sub/other", "x", true);
  ASSERT_TRUE(env_->SyncDir(P("sub")).ok());
  ASSERT_TRUE(env_->Crash(Mode::kDrop, 3).ok());
  ASSERT_TRUE(Exists("seg"));
  EXPECT_EQ(Disk("seg")[0], 'd');
  EXPECT_EQ(Disk("ckpt"), "data");
  EXPECT_EQ(Disk("sub/other"), "x");
}

TEST_F(FaultEnvTest, UnsyncedRenameIsUndone) {
  WriteFile("a", "A", true);
  ASSERT_TRUE(env_->SyncDir(dir_).ok());
  ASSERT_TRUE(env_->RenameFile(P("a"), P("b")).ok());
  EXPECT_FALSE(Exists("a"));
  ASSERT_TRUE(env_->Crash(Mode::kDrop, 0).ok());
  EXPECT_TRUE(Exists("a"));
  EXPECT_FALSE(Exists("b"));
  EXPECT_EQ(Disk("a"), "A");
}

TEST_F(FaultEnvTest, SyncedRenameStays) {
  WriteFile("a", "A", true);
  ASSERT_TRUE(env_->RenameFile(P("a"), P("b")).ok());
  ASSERT_TRUE(env_->SyncDir(dir_).ok());
  ASSERT_TRUE(env_->Crash(Mode::kDrop, 0).ok());
  EXPECT_FALSE(Exists("a"));
  EXPECT_EQ(Disk("b"), "A");
}

// The checkpoint pattern: write temp, sync, rename over the old file.
TEST_F(FaultEnvTest, UnsyncedRenameOverAFileRestoresTheOldFile) {
  WriteFile("CKPT", "old", true);
  WriteFile("CKPT.tmp", "new", true);
  ASSERT_TRUE(env_->SyncDir(dir_).ok());
  ASSERT_TRUE(env_->RenameFile(P("CKPT.tmp"), P("CKPT")).ok());
  std::string seen;
  ASSERT_TRUE(env_->ReadFile(P("CKPT"), &seen).ok());
  EXPECT_EQ(seen, "new");
  ASSERT_TRUE(env_->Crash(Mode::kDrop, 0).ok());
  EXPECT_EQ(Disk("CKPT"), "old");
  EXPECT_EQ(Disk("CKPT.tmp"), "new");
}

TEST_F(FaultEnvTest, RemoveIsDurableAtOnce) {
  WriteFile("a", "A", true);
  ASSERT_TRUE(env_->SyncDir(dir_).ok());
  ASSERT_TRUE(env_->RemoveFile(P("a")).ok());
  ASSERT_TRUE(env_->Crash(Mode::kDrop, 0).ok());
  EXPECT_FALSE(Exists("a"));
}

TEST_F(FaultEnvTest, CloseWithoutSyncKeepsDataUnsynced) {
  WriteFile("f", "volatile", false);
  ASSERT_TRUE(env_->SyncDir(dir_).ok());
  std::string seen;
  ASSERT_TRUE(env_->ReadFile(P("f"), &seen).ok());
  EXPECT_EQ(seen, "volatile");
  uint64_t size = 0;
  ASSERT_TRUE(env_->Stat(P("f"), nullptr, &size).ok());
  EXPECT_EQ(size, 8u);
  EXPECT_EQ(Disk("f"), "");
  ASSERT_TRUE(env_->Crash(Mode::kDrop, 0).ok());
  EXPECT_EQ(Disk("f"), "");
}

// Truncate is ftruncate + fdatasync: it makes the bytes below len durable
// even though no Sync covered them.
TEST_F(FaultEnvTest, TruncateSyncsAndCountsAsWriteAndSync) {
  auto f = NewSegment("seg", 2);
  std::memset(f->data(), 't', 2 * kPage);
  const uint64_t writes = env_->Count(Op::kWrite);
  const uint64_t syncs = env_->Count(Op::kSync);
  ASSERT_TRUE(f->Truncate(10).ok());
  EXPECT_EQ(env_->Count(Op::kWrite), writes + 1);
  EXPECT_EQ(env_->Count(Op::kSync), syncs + 1);
  EXPECT_EQ(f->data()[9], 't');
  uint64_t size = 0;
  ASSERT_TRUE(env_->Stat(P("seg"), nullptr, &size).ok());
  EXPECT_EQ(size, 10u);
  ASSERT_TRUE(env_->Crash(Mode::kDrop, 1).ok());
  EXPECT_EQ(Disk("seg"), std::string(10, 't'));
}

TEST_F(FaultEnvTest, CrashedStateFailsEveryCall) {
  auto m = NewSegment("seg", 1);
  std::unique_ptr<WritableFile> w;
  ASSERT_TRUE(env_->NewWritableFile(P("f"), &w).ok());
  ASSERT_TRUE(env_->Crash(Mode::kDrop, 0).ok());

  auto is_power_loss = [](const Status& s) {
    return s.code() == Status::Code::kIOError && s.message() == "simulated power loss";
  };
  m->data()[0] = 'z';  // the buffer stays usable
  EXPECT_EQ(m->data()[0], 'z');
  EXPECT_TRUE(is_power_loss(m->Sync(0, 1)));
  EXPECT_TRUE(is_power_loss(m->Truncate(0)));
  EXPECT_TRUE(is_power_loss(w->Append("x")));
  EXPECT_TRUE(is_power_loss(w->Sync()));
  EXPECT_TRUE(is_power_loss(w->Close()));
  std::unique_ptr<MappedFile> m2;
  std::unique_ptr<WritableFile> w2;
  std::unique_ptr<FileLock> lock;
  std::string s;
  std::vector<std::string> names;
  EXPECT_TRUE(is_power_loss(env_->NewMappedFile(P("x"), kPage, &m2)));
  EXPECT_TRUE(is_power_loss(env_->OpenMappedFile(P("seg"), false, &m2)));
  EXPECT_TRUE(is_power_loss(env_->NewWritableFile(P("y"), &w2)));
  EXPECT_TRUE(is_power_loss(env_->ReadFile(P("seg"), &s)));
  EXPECT_TRUE(is_power_loss(env_->RenameFile(P("seg"), P("z"))));
  EXPECT_TRUE(is_power_loss(env_->RemoveFile(P("seg"))));
  EXPECT_TRUE(is_power_loss(env_->SyncDir(dir_)));
  EXPECT_TRUE(is_power_loss(env_->ListDir(dir_, &names)));
  EXPECT_TRUE(is_power_loss(env_->CreateDir(P("d"))));
  EXPECT_TRUE(is_power_loss(env_->Stat(P("seg"), nullptr, nullptr)));
  EXPECT_TRUE(is_power_loss(env_->LockFile(P("LOCK"), true, &lock)));
  EXPECT_TRUE(Exists("seg"));
  EXPECT_FALSE(Exists("f"));  // its creation was not synced

  // Reset: new calls work; handles from before the crash stay dead.
  env_->Reset();
  EXPECT_TRUE(is_power_loss(m->Sync(0, 1)));
  EXPECT_EQ(Disk("seg")[0], '\0');
  ASSERT_TRUE(env_->OpenMappedFile(P("seg"), true, &m2).ok());
  EXPECT_EQ(m2->data()[0], '\0');
  m2->data()[0] = 'n';
  EXPECT_TRUE(m2->Sync(0, 1).ok());
  EXPECT_EQ(Disk("seg")[0], 'n');
  EXPECT_TRUE(env_->LockFile(P("LOCK"), true, &lock).ok());
}

// --- injected faults ---

class FaultEnvFailTest : public FaultEnvTest,
                         public ::testing::WithParamInterface<Status::Code> {};

TEST_P(FaultEnvFailTest, OpenFailsTheNthCall) {
  const Status::Code code = GetParam();
  WriteFile("f", "x", true);
  const uint64_t base = env_->Count(Op::kOpen);
  env_->FailNth(Op::kOpen, 2, code, false);
  std::string s;
  std::unique_ptr<MappedFile> m;
  std::unique_ptr<WritableFile> w;
  EXPECT_TRUE(env_->ReadFile(P("f"), &s).ok());              // 1st
  Status st = env_->OpenMappedFile(P("f"), false, &m);       // 2nd fails
  EXPECT_EQ(st.code(), code) << st.ToString();
  EXPECT_NE(st.message().find("injected fault"), std::string::npos);
  EXPECT_NE(st.message().find(P("f")), std::string::npos);
  EXPECT_TRUE(env_->NewWritableFile(P("g"), &w).ok());       // 3rd: not sticky
  EXPECT_TRUE(env_->NewMappedFile(P("h"), kPage, &m).ok());  // 4th
  EXPECT_EQ(env_->Count(Op::kOpen), base + 4);
}

TEST_P(FaultEnvFailTest, FailedSyncWritesNothingThrough) {
  const Status::Code code = GetParam();
  auto f = NewSegment("seg", 1);
  std::memset(f->data(), 's', kPage);
  env_->FailNth(Op::kSync, 1, code, false);
  EXPECT_EQ(f->Sync(0, kPage).code(), code);
  EXPECT_EQ(Disk("seg"), std::string(kPage, '\0'));

  std::unique_ptr<WritableFile> w;
  ASSERT_TRUE(env_->NewWritableFile(P("f"), &w).ok());
  ASSERT_TRUE(w->Append("abc").ok());
  env_->FailNth(Op::kSync, 1, code, false);
  EXPECT_EQ(w->Sync().code(), code);
  EXPECT_EQ(Disk("f"), "");
  env_->FailNth(Op::kSync, 1, code, false);
  EXPECT_EQ(env_->SyncDir(dir_).code(), code);
  ASSERT_TRUE(env_->Crash(Mode::kDrop, 0).ok());
  EXPECT_EQ(Disk("seg"), std::string(kPage, '\0'));
  EXPECT_FALSE(Exists("f"));  // the failed SyncDir made nothing durable
}

TEST_P(FaultEnvFailTest, WriteRenameAndAllocateFail) {
  const Status::Code code = GetParam();
  std::unique_ptr<WritableFile> w;
  ASSERT_TRUE(env_->NewWritableFile(P("f"), &w).ok());
  env_->FailNth(Op::kWrite, 2, code, false);
  EXPECT_TRUE(w->Append("1").ok());
  EXPECT_EQ(w->Append("2").code(), code);
  EXPECT_TRUE(w->Append("3").ok());
  ASSERT_TRUE(w->Sync().ok());
  EXPECT_EQ(Disk("f"), "13");

  env_->FailNth(Op::kRename, 1, code, false);
  EXPECT_EQ(env_->RenameFile(P("f"), P("g")).code(), code);
  EXPECT_TRUE(Exists("f"));
  EXPECT_FALSE(Exists("g"));
  EXPECT_TRUE(env_->RenameFile(P("f"), P("g")).ok());

  env_->FailNth(Op::kAllocate, 1, code, false);
  std::unique_ptr<MappedFile> m;
  const uint64_t opens = env_->Count(Op::kOpen);
  EXPECT_EQ(env_->NewMappedFile(P("seg"), kPage, &m).code(), code);
  EXPECT_FALSE(Exists("seg"));
  EXPECT_EQ(env_->Count(Op::kAllocate), 1u);
  EXPECT_EQ(env_->Count(Op::kOpen), opens + 1);
  EXPECT_TRUE(env_->NewMappedFile(P("seg"), kPage, &m).ok());
  EXPECT_EQ(env_->Count(Op::kAllocate), 2u);

  auto seg = NewSegment("seg2", 1);
  env_->FailNth(Op::kWrite, 1, code, false);
  std::memset(seg->data(), 'u', kPage);
  EXPECT_EQ(seg->Truncate(100).code(), code);
  env_->FailNth(Op::kSync, 1, code, false);  // Truncate is also a sync
  EXPECT_EQ(seg->Truncate(100).code(), code);
  uint64_t size = 0;
  ASSERT_TRUE(Env::Default()->Stat(P("seg2"), nullptr, &size).ok());
  EXPECT_EQ(size, kPage);
  EXPECT_EQ(Disk("seg2"), std::string(kPage, '\0'));  // nothing written through
  EXPECT_TRUE(seg->Truncate(100).ok());
  EXPECT_EQ(Disk("seg2"), std::string(100, 'u'));
}

TEST_P(FaultEnvFailTest, StickyFaultsLastUntilCleared) {
  const Status::Code code = GetParam();
  std::unique_ptr<WritableFile> w;
  ASSERT_TRUE(env_->NewWritableFile(P("f"), &w).ok());
  env_->FailNth(Op::kSync, 2, code, true);
  EXPECT_TRUE(w->Sync().ok());
  for (int i = 0; i < 5; i++) EXPECT_EQ(w->Sync().code(), code);
  EXPECT_EQ(env_->SyncDir(dir_).code(), code);  // same op kind
  EXPECT_TRUE(w->Append("a").ok());             // other kinds are unaffected
  env_->FailNth(Op::kSync, 0, code, true);
  EXPECT_TRUE(w->Sync().ok());
  EXPECT_EQ(env_->Count(Op::kSync), 8u);
}

INSTANTIATE_TEST_SUITE_P(Codes, FaultEnvFailTest,
                         ::testing::Values(Status::Code::kIOError, Status::Code::kNoSpace));

TEST_F(FaultEnvTest, ResetClearsCountersFaultsAndTheCrash) {
  std::unique_ptr<WritableFile> w;
  ASSERT_TRUE(env_->NewWritableFile(P("f"), &w).ok());
  ASSERT_TRUE(w->Append("a").ok());
  EXPECT_EQ(env_->Count(Op::kOpen), 1u);
  EXPECT_EQ(env_->Count(Op::kWrite), 1u);
  env_->FailNth(Op::kWrite, 1, Status::Code::kIOError, true);
  env_->Reset();
  EXPECT_EQ(env_->Count(Op::kOpen), 0u);
  EXPECT_EQ(env_->Count(Op::kWrite), 0u);
  EXPECT_TRUE(w->Append("b").ok());  // the fault is gone
  ASSERT_TRUE(w->Sync().ok());
  EXPECT_EQ(Disk("f"), "ab");
  EXPECT_EQ(env_->Count(Op::kSync), 1u);
}

TEST_F(FaultEnvTest, FaultsAndCrashesAreSafeAcrossThreads) {
  // Several threads sync their own mapped files while another crashes.
  std::vector<std::unique_ptr<MappedFile>> files;
  for (int i = 0; i < 4; i++) files.push_back(NewSegment("s" + std::to_string(i), 4));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      MappedFile* f = files[t].get();
      for (uint64_t off = 0; off < 4 * kPage; off += 64) {
        std::memset(f->data() + off, 'A' + t, 64);
        if (!f->Sync(off, 64).ok()) break;
      }
    });
  }
  ASSERT_TRUE(env_->Crash(Mode::kPrefix, 9).ok());
  for (auto& th : threads) th.join();
  // Whatever reached disk is a prefix of each thread's writes.
  for (int t = 0; t < 4; t++) {
    std::string disk = Disk("s" + std::to_string(t));
    size_t cut = disk.find_first_not_of(static_cast<char>('A' + t));
    if (cut == std::string::npos) continue;
    EXPECT_EQ(disk.substr(cut), std::string(disk.size() - cut, '\0')) << t;
  }
}

}  // namespace
}  // namespace firkin
