// Epoch-based reclamation (see epoch.h).
//
// Protocol:
//  - g_epoch is a global counter, bumped by every Retire().
//  - Every thread that ever enters a guard owns a cache-line sized Slot. On
//    entering the outermost guard it stores the current global epoch into its
//    slot followed by a full barrier (a seq_cst fence, or on x86-64 a seq_cst
//    exchange, which is one); on leaving it stores kIdle (release).
//  - Retire(fn) records (fn, r) where r is the global epoch read by the bump
//    (the value before it). fn is safe to run once a scan that began after
//    the bump finds every slot showing kIdle or an epoch > r: a reader that announced an epoch > r loaded the counter
//    after the bump, hence after the writer unlinked the object, so it cannot
//    reach it; a reader that announced <= r is waited for. The seq_cst fences
//    on both sides (after the reader's announcement, before the reclaimer's
//    scan) make the classic store/load race safe: either the scan sees the
//    announcement, or the reader's later loads see the unlink.
//  - Slots live in blocks of kSlotsPerBlock, linked in a list that only
//    grows and is never freed, so a scan may walk it without a lock. A slot
//    is handed back (for reuse by a later thread) at thread exit.
#include "core/util/epoch.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <pthread.h>
#include <thread>
#include <utility>
#include <vector>

#include "core/util/per_thread.h"

#if defined(__SANITIZE_THREAD__)
#define FIRKIN_EPOCH_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FIRKIN_EPOCH_TSAN 1
#endif
#endif

namespace firkin {
namespace epoch_detail {
__thread uint32_t t_index1 __attribute__((tls_model("initial-exec"))) = 0;
}  // namespace epoch_detail
namespace {

constexpr uint64_t kIdle = ~uint64_t{0};
constexpr int kSlotsPerBlock = 64;

// One thread's announcement. Padded to a cache line so that readers on
// different cores never share a line.
struct alignas(64) Slot {
  std::atomic<uint64_t> epoch{kIdle};
  std::atomic<bool> in_use{false};
  uint32_t index = 0;  // its place in the list (Epoch::ThreadIndex); set once
};

struct SlotBlock {
  Slot slots[kSlotsPerBlock];
  std::atomic<SlotBlock*> next{nullptr};
};

struct PendingDeleter {
  uint64_t epoch;
  std::function<void()> fn;
};

// Shared state. Leaked on purpose: threads may exit (and release slots) or
// retire objects during static destruction.
struct State {
  std::mutex registry_mu;                  // guards slot assignment
  std::atomic<SlotBlock*> head{nullptr};   // list of slot blocks, grow-only
  std::mutex pending_mu;                   // guards `pending`
  std::deque<PendingDeleter> pending;      // in increasing epoch order
  std::atomic<size_t> not_run{0};          // retired and not yet finished
  // How many fork children deep this process is (AtForkChild): a deleter
  // taken off `pending` before a fork is not counted down after it.
  std::atomic<uint64_t> forks{0};
  // In a fork child: how many entries at the front of `pending` are the
  // parent's (AtForkChild), never run nor destroyed here. Under pending_mu.
  size_t abandoned = 0;
};

void AtForkPrepare();
void AtForkParent();
void AtForkChild();

State& GetState() {
  static State* const state = [] {
    State* st = new State();
    pthread_atfork(AtForkPrepare, AtForkParent, AtForkChild);
    return st;
  }();
  return *state;
}

// fork() copies the slots of every thread but only the forking thread goes
// on in the child. A slot left announcing an epoch by a thread of the
// parent (inside a guard at that instant: a compactor, a reader) would hold
// back reclamation in the child forever, and Drain (at close) would wait
// for it forever. The child therefore frees every slot but its own. The
// two mutexes are held across the fork so the child never inherits one
// locked by a thread that does not exist there. And the parent's deleters
// stay the parent's: the child neither runs them nor waits for them, nor
// destroys them (they stay at the front of `pending`, `abandoned`; their
// memory is the child's copy, left as it is). They free the parent's
// objects, which the child must not use (firkin.h, "Lifetimes"), and may
// take the parent's locks, which a thread that does not exist in the
// child may have held at the fork (SegmentTable::Remove's deleter takes
// the table's mutex); nor does one that a thread of the parent was
// running, or had counted in Retire while it waited for pending_mu (held
// by the fork), ever finish there. Until 2026-11-29 the child kept the
// parent's count and ran its pending deleters, and its Drain (the close of
// a database the child opened itself) waited forever for any of those
// (epoch_test ForkChildRunsNoneOfTheParentsDeleters,
// ForkChildDrainsThoughAParentThreadWasRunningADeleter, ...WasInsideRetire).
void AtForkPrepare() {
  State& st = GetState();
  st.registry_mu.lock();
  st.pending_mu.lock();
}
void AtForkParent() {
  State& st = GetState();
  st.pending_mu.unlock();
  st.registry_mu.unlock();
}

// The global epoch, on its own cache line. Starts at 1 (any value works).
struct alignas(64) GlobalEpoch {
  std::atomic<uint64_t> value{1};
};
GlobalEpoch g_epoch;

// Per-thread state. Trivial types, so access compiles to a plain TLS load;
// initial-exec, so that load is one %fs-relative move and not a call into
// the dynamic linker's TLS descriptor (every read enters and leaves a
// guard). The 12 bytes come from the static TLS surplus glibc keeps for
// libraries that are dlopen'ed (Python, Java, C#).
__attribute__((tls_model("initial-exec"))) thread_local Slot* t_slot = nullptr;
__attribute__((tls_model("initial-exec"))) thread_local uint32_t t_depth = 0;

void AtForkChild() {
  State& st = GetState();
  for (SlotBlock* b = st.head.load(std::memory_order_relaxed); b != nullptr;
       b = b->next.load(std::memory_order_relaxed)) {
    for (Slot& s : b->slots) {
      if (&s == t_slot) continue;
      s.epoch.store(kIdle, std::memory_order_relaxed);
      s.in_use.store(false, std::memory_order_relaxed);
    }
  }
  // (A deleter this thread was running, if it forked inside one, is not in
  // `pending` either: it finishes here, but counts down only in the parent.)
  st.forks.fetch_add(1, std::memory_order_relaxed);
  st.abandoned = st.pending.size();
  st.not_run.store(0, std::memory_order_relaxed);
  st.pending_mu.unlock();
  st.registry_mu.unlock();
}

// Hands the thread's slot back at thread exit (AtThreadExit: registered
// before the thread takes a slot, so that no failure can leave one taken
// and never given back).
__attribute__((tls_model("initial-exec"))) thread_local bool t_release_registered = false;

void ReleaseSlot(void*) noexcept {
  t_release_registered = false;  // a use after this registers again
  if (t_slot != nullptr) {
    t_slot->epoch.store(kIdle, std::memory_order_release);
    t_slot->in_use.store(false, std::memory_order_release);
    t_slot = nullptr;
    epoch_detail::t_index1 = 0;
  }
}

// Takes a free slot for the calling thread (a new block of them if none is
// free). Throws std::bad_alloc, the thread then holding no slot.
Slot* RegisterThread() {
  if (!t_release_registered) {
    AtThreadExit(&ReleaseSlot, nullptr);
    t_release_registered = true;
  }
  State& st = GetState();
  Slot* slot = nullptr;
  {
    std::lock_guard<std::mutex> lock(st.registry_mu);
    SlotBlock* last = nullptr;
    uint32_t blocks = 0;
    for (SlotBlock* b = st.head.load(std::memory_order_acquire); b != nullptr && slot == nullptr;
         b = b->next.load(std::memory_order_acquire)) {
      last = b;
      blocks++;
      for (Slot& s : b->slots) {
        // acquire: the index's last owner released it (ReleaseSlot), and
        // per-thread cells indexed by it (Striped) carry on from its writes.
        if (!s.in_use.load(std::memory_order_acquire)) {
          s.in_use.store(true, std::memory_order_relaxed);
          slot = &s;
          break;
        }
      }
    }
    if (slot == nullptr) {
      SlotBlock* block = new SlotBlock();
      for (int i = 0; i < kSlotsPerBlock; i++) block->slots[i].index = blocks * kSlotsPerBlock + i;
      block->slots[0].in_use.store(true, std::memory_order_relaxed);
      slot = &block->slots[0];
      if (last == nullptr) {
        st.head.store(block, std::memory_order_release);
      } else {
        last->next.store(block, std::memory_order_release);
      }
    }
  }
  t_slot = slot;
  epoch_detail::t_index1 = slot->index + 1;
  return slot;
}

// Publishes a thread's announcement, ordered before the loads that follow
// (the store-load order a seq_cst fence gives). On x86-64 a seq_cst exchange
// is a full barrier and cheaper than mfence; TSan rejects fences.
// (Tried 2026-11-24: a plain store here, with membarrier(PRIVATE_EXPEDITED)
// on the reclaimer's side before its scan. A guard cost 1.9 ns instead of
// 6.1, no read throughput change could be measured, and a fill of new keys
// fell from 3.2 M to 2.1 M puts/s: every index sub-table growth retires the
// old array, and each Retire's scan then paid a barrier IPI to every core
// running the process. Not kept.)
inline void Announce(Slot* slot, uint64_t epoch) {
#if defined(__x86_64__) || defined(FIRKIN_EPOCH_TSAN)
  slot->epoch.exchange(epoch, std::memory_order_seq_cst);
#else
  slot->epoch.store(epoch, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

// The reclaimer's side of the same handshake, before it scans the slots.
inline void ScanFence() {
#if defined(FIRKIN_EPOCH_TSAN)
  g_epoch.value.fetch_add(0, std::memory_order_seq_cst);
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

// The bound of a reclaim: the smallest epoch announced by any thread
// inside a guard, and no more than the global epoch as the scan begins.
// A deleter numbered below it is safe: retired (its unlink done) before
// the scan, so a reader the scan did not see entered its guard after the
// unlink and cannot reach the object. One retired after the scan is not
// covered by it, whatever the scan found: a reader may have entered a
// guard, unseen, and reached the object before its unlink. (Until
// 2026-11-29 the bound started at kIdle, so a scan that found no guard
// allowed every deleter the reclaim's loop met afterwards, those retired
// while it ran included: the prefault thread freed an index sub-table
// under a counting walk; epoch_test ReclaimRunsNothingRetiredAfterItsScan.)
uint64_t ReclaimBound() {
  uint64_t min = g_epoch.value.load(std::memory_order_seq_cst);
  ScanFence();
  for (SlotBlock* b = GetState().head.load(std::memory_order_acquire); b != nullptr;
       b = b->next.load(std::memory_order_acquire)) {
    for (const Slot& s : b->slots) {
      const uint64_t e = s.epoch.load(std::memory_order_acquire);
      if (e < min) min = e;
    }
  }
  return min;
}

}  // namespace

Epoch::Guard::Guard() {
  const uint32_t depth = t_depth;
  if (depth != 0) {
    t_depth = depth + 1;
    return;
  }
  Slot* slot = t_slot;
  if (slot == nullptr) slot = RegisterThread();  // (a throw leaves the depth at 0)
  t_depth = 1;
  Announce(slot, g_epoch.value.load(std::memory_order_acquire));
}

Epoch::Guard::~Guard() {
  if (--t_depth != 0) return;
  t_slot->epoch.store(kIdle, std::memory_order_release);
}

void Epoch::Retire(std::function<void()> deleter) {
  State& st = GetState();
  st.not_run.fetch_add(1, std::memory_order_relaxed);
  try {
    std::lock_guard<std::mutex> lock(st.pending_mu);
    const uint64_t r = g_epoch.value.fetch_add(1, std::memory_order_seq_cst);
    st.pending.push_back(PendingDeleter{r, std::move(deleter)});
  } catch (...) {
    // (Out of memory: the caller gets the exception and the object is
    // never freed, but the count stays true, or Drain would wait forever.)
    st.not_run.fetch_sub(1, std::memory_order_release);
    throw;
  }
  Reclaim();
}

size_t Epoch::Reclaim() {
  State& st = GetState();
  // Nothing retired: spare the scan (the log's prefault thread calls this
  // after every round).
  if (st.not_run.load(std::memory_order_acquire) == 0) return 0;
  const uint64_t min = ReclaimBound();
  // One at a time, moved out under the lock and run outside it (a deleter
  // may itself call Retire()): nothing here allocates, so a full heap
  // cannot fail a reclaim, which the log's background threads run (until
  // 2026-11-29 the ready ones were gathered in a vector first, whose
  // growth could throw there and end the process; oom_test).
  size_t ran = 0;
  for (;;) {
    std::function<void()> fn;
    uint64_t forks;
    {
      std::lock_guard<std::mutex> lock(st.pending_mu);
      // (The first not abandoned: in a fork child, the parent's come first.)
      const size_t at = st.abandoned;
      if (st.pending.size() == at || st.pending[at].epoch >= min) break;
      fn = std::move(st.pending[at].fn);
      if (at == 0) {
        st.pending.pop_front();
      } else {
        // (Moves abandoned entries over the emptied one, never destroying
        // one of them: what goes is an emptied entry. No allocation.)
        st.pending.erase(st.pending.begin() + static_cast<std::ptrdiff_t>(at));
      }
      forks = st.forks.load(std::memory_order_relaxed);
    }
    // A deleter that throws (out of memory) has run as far as it got: it
    // is not run again, and the count goes down all the same, or Drain
    // would wait for it forever. The exception goes on to the caller.
    // (Not in a fork child made while it ran: the child did not count it.)
    struct Count {
      State* st;
      uint64_t forks;
      ~Count() {
        if (st->forks.load(std::memory_order_relaxed) == forks) {
          st->not_run.fetch_sub(1, std::memory_order_release);
        }
      }
    } count{&st, forks};
    fn();
    fn = nullptr;
    ran++;
  }
  return ran;
}

void Epoch::Drain() {
  State& st = GetState();
  for (int round = 0;; ++round) {
    Reclaim();
    if (st.not_run.load(std::memory_order_acquire) == 0) return;
    if (round < 64) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
}

uint32_t Epoch::ThreadIndexSlow() {
  // (Inside a guard the thread holds its slot; it keeps it until it exits.)
  Slot* slot = t_slot != nullptr ? t_slot : RegisterThread();
  return slot->index;
}

size_t Epoch::Pending() { return GetState().not_run.load(std::memory_order_acquire); }

}  // namespace firkin
