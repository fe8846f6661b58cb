// "ceiling": not a store, the physical floor of a point operation on this
// machine. An open-addressing hash table (8-byte slots: 16-bit tag + 48-bit
// record offset, linear probing, sized up front to <= 50% load) over an
// in-RAM arena of [klen u32][vlen u32][key][value] records. A get is one
// XXH3 hash, the slot probe, a key compare and a memcpy of the value — what
// Firkin's read path does minus the log format, checksum and epoch. A put
// appends to the arena (or overwrites the value in place) and publishes the
// slot. Writers take one of 1024 stripe locks (by the key's hash: a key's
// writers take turns, other keys' run beside them, as under a hash store's
// bucket locks; until 2026-11-26 one mutex, which made it no ceiling for
// updates at 2 threads and more); readers are lock-free and may copy a
// value an update is changing. No durability, nothing persists, so the
// harness fills it in-process before read workloads.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <string>

#include "../bench.h"

namespace bench {
namespace {

constexpr uint64_t kEmpty = 0;
constexpr uint64_t kOffMask = (uint64_t(1) << 48) - 1;

class Ceiling;

class CeilingSession : public Session {
 public:
  explicit CeilingSession(Ceiling *c) : c_(c) {}
  bool put(const char *k, size_t kl, const char *v, size_t vl) override;
  int get(const char *k, size_t kl, char *buf, size_t cap, size_t *vl) override;
  bool del(const char *k, size_t kl) override;

 private:
  Ceiling *c_;
};

class Ceiling : public Store {
 public:
  ~Ceiling() override { release(); }
  bool open(const OpenParams &p, std::string *err) override {
    uint64_t want = std::max<uint64_t>(1024, p.expected_keys * 2 + 1024);
    nslots_ = 1;
    while (nslots_ < want) nslots_ <<= 1;
    mask_ = nslots_ - 1;
    slots_bytes_ = nslots_ * sizeof(std::atomic<uint64_t>);
    arena_cap_ = (p.expected_keys + 1024) * (8 + p.key_size + p.value_size) * 3 + (64 << 20);
    void *s = mmap(nullptr, slots_bytes_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    void *a = mmap(nullptr, arena_cap_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (s == MAP_FAILED || a == MAP_FAILED) { *err = "mmap failed"; return false; }
    slots_ = static_cast<std::atomic<uint64_t> *>(s);
    arena_ = static_cast<char *>(a);
    used_ = 8;  // offset 0 means empty
    count_ = 0;
    return true;
  }
  std::unique_ptr<Session> session() override {
    return std::unique_ptr<Session>(new CeilingSession(this));
  }
  bool persistent() const override { return false; }
  bool close() override { release(); return true; }
  std::string describe(Sync) const override {
    return "in-RAM hash table + arena, no durability";
  }

  int get(const char *k, size_t kl, char *buf, size_t cap, size_t *vl) {
    uint64_t h = XXH3_64bits(k, kl);
    uint64_t tag = (h >> 48) | 1;
    for (uint64_t i = h & mask_;; i = (i + 1) & mask_) {
      uint64_t s = slots_[i].load(std::memory_order_acquire);
      if (s == kEmpty) return 0;
      if ((s >> 48) != tag) continue;
      const char *r = arena_ + (s & kOffMask);
      uint32_t rk, rv;
      memcpy(&rk, r, 4);
      memcpy(&rv, r + 4, 4);
      if (rk != kl || memcmp(r + 8, k, kl) != 0) continue;
      if (rv == UINT32_MAX) return 0;  // deleted
      *vl = rv;
      memcpy(buf, r + 8 + rk, std::min<size_t>(cap, rv));
      return 1;
    }
  }
  bool put(const char *k, size_t kl, const char *v, size_t vl, bool del) {
    uint64_t h = XXH3_64bits(k, kl);
    uint64_t tag = (h >> 48) | 1;
    uint32_t nv = del ? UINT32_MAX : uint32_t(vl);
    // One key, one stripe: writers of a key take turns; writers of other
    // keys run beside them (slots are claimed by CAS, arena space by
    // fetch_add), as in a hash store with bucket locks.
    StripeLock g(&stripes_[(h >> 20) & (kStripes - 1)]);
    uint64_t fresh = 0;  // arena offset of this put's new record, once written
    for (uint64_t i = h & mask_;; i = (i + 1) & mask_) {
      uint64_t s = slots_[i].load(std::memory_order_acquire);
      bool mine = false;
      if (s != kEmpty) {
        if ((s >> 48) != tag) continue;
        char *r = arena_ + (s & kOffMask);
        uint32_t rk, rv;
        memcpy(&rk, r, 4);
        memcpy(&rv, r + 4, 4);
        if (rk != kl || memcmp(r + 8, k, kl) != 0) continue;
        if (del || rv == vl) {  // same size (or delete): in place
          memcpy(r + 4, &nv, 4);
          if (!del) memcpy(r + 8 + rk, v, vl);
          return true;
        }
        mine = true;  // this key's slot: a new record replaces it
      } else if (del) {
        return true;
      }
      if (fresh == 0) {
        size_t need = 8 + kl + (del ? 0 : vl);
        size_t at = used_.fetch_add((need + 7) & ~size_t(7), std::memory_order_relaxed);
        if (at + need > arena_cap_ || (at + need) > kOffMask) return false;
        char *r = arena_ + at;
        uint32_t k32 = uint32_t(kl);
        memcpy(r, &k32, 4);
        memcpy(r + 4, &nv, 4);
        memcpy(r + 8, k, kl);
        if (!del) memcpy(r + 8 + kl, v, vl);
        fresh = at;
      }
      if (mine) {
        slots_[i].store((tag << 48) | fresh, std::memory_order_release);
        return true;
      }
      if (count_.fetch_add(1, std::memory_order_relaxed) + 1 > nslots_ * 9 / 10) return false;
      uint64_t expect = kEmpty;
      if (slots_[i].compare_exchange_strong(expect, (tag << 48) | fresh,
                                            std::memory_order_release)) {
        return true;
      }
      // Another key took this slot first: look at it again.
      count_.fetch_sub(1, std::memory_order_relaxed);
      i = (i - 1) & mask_;
    }
  }

 private:
  void release() {
    if (slots_) munmap(slots_, slots_bytes_);
    if (arena_) munmap(arena_, arena_cap_);
    slots_ = nullptr;
    arena_ = nullptr;
  }
  // A test-and-test-and-set lock on a line of its own.
  struct alignas(64) Stripe {
    std::atomic<bool> held{false};
  };
  class StripeLock {
   public:
    explicit StripeLock(Stripe *s) : s_(s) {
      while (s_->held.exchange(true, std::memory_order_acquire)) {
        while (s_->held.load(std::memory_order_relaxed)) __builtin_ia32_pause();
      }
    }
    ~StripeLock() { s_->held.store(false, std::memory_order_release); }

   private:
    Stripe *s_;
  };
  static constexpr size_t kStripes = 1024;
  std::atomic<uint64_t> *slots_ = nullptr;
  char *arena_ = nullptr;
  uint64_t nslots_ = 0, mask_ = 0;
  std::atomic<uint64_t> count_{0};
  size_t slots_bytes_ = 0, arena_cap_ = 0;
  std::atomic<size_t> used_{0};
  std::unique_ptr<Stripe[]> stripes_{new Stripe[kStripes]};
};

bool CeilingSession::put(const char *k, size_t kl, const char *v, size_t vl) {
  return c_->put(k, kl, v, vl, false);
}
int CeilingSession::get(const char *k, size_t kl, char *buf, size_t cap, size_t *vl) {
  return c_->get(k, kl, buf, cap, vl);
}
bool CeilingSession::del(const char *k, size_t kl) { return c_->put(k, kl, nullptr, 0, true); }

}  // namespace

std::unique_ptr<Store> make_ceiling() { return std::unique_ptr<Store>(new Ceiling); }

}  // namespace bench
