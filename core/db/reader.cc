// DB, read-only handles: a reader takes no lock and writes nothing; while
// a writer process has the database open it sees the writer's durable
// state as of its open, and Refresh moves it to the writer's latest
// durable state (core/recovery/follower.h says what is read and why it is
// a consistent state). Iterators scan the segments as of the last refresh
// that completed (PublishReaderView), never a refresh's state in between.
#include <chrono>
#include <thread>

#include "core/db/db.h"
#include "core/recovery/follower.h"
#include "core/util/atomic_bound.h"
#include "core/util/spin.h"

namespace firkin {

void DB::PublishReaderView() {
  auto v = std::make_shared<ReaderView>();
  v->segs = keyspace_->segments().List();
  for (const auto& s : v->segs) v->ends.push_back(s->published_len());
  v->scan_floor = reader_scan_floor_.load(std::memory_order_acquire);
  std::lock_guard<std::mutex> l(reader_view_mu_);
  reader_view_ = std::move(v);
}

void DB::AwaitRefresh(uint64_t snap) const {
  if (!options_.read_only) return;
  // A read that met the work of a refresh (an entry it installed, a floor
  // it raised, an entry or a segment it took out) loads refreshing_ at
  // that refresh's odd value or past it: the refresh raised it, and
  // fenced, before any of that work. Its end comes after the publication
  // of its number: a load that sees it sees the number.
  const uint64_t at = refreshing_.load(std::memory_order_acquire);
  if ((at & 1) == 0) return;  // no refresh under way (the one met has ended)
  SpinWait spin;
  for (uint32_t rounds = 0; refreshing_.load(std::memory_order_acquire) == at; rounds++) {
    if (snap != kLatestSeq && snap < reader_seq_.load(std::memory_order_acquire)) return;
    if (rounds < 4000) {
      spin.Once();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
}

Status DB::StartFollowing() {
  PublishReaderView();
  reader_seq_.store(recovery_.last_seq, std::memory_order_release);
  follower_ = std::make_unique<Follower>(env_, path_, identity_, options_, keyspace_.get(), &ns_,
                                         recovery_);
  // A writer that was live during the open may have written (and named
  // segments) while it read: one catch-up maps what is new, so version
  // chains of what was read lead to segments this handle has.
  if (writer_seen_) return Refresh();
  return Status::OK();
}

Status DB::Refresh() {
  if (!options_.read_only || follower_ == nullptr) return Status::OK();
  std::lock_guard<std::mutex> l(refresh_mu_);
  // Under way from here to its end, failed or not (AwaitRefresh): odd.
  struct Running {
    std::atomic<uint64_t>* n;
    explicit Running(std::atomic<uint64_t>* c) : n(c) {
      n->fetch_add(1, std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_release);  // (before the refresh's work)
    }
    ~Running() { n->fetch_add(1, std::memory_order_release); }  // (after its publication)
  } running(&refreshing_);
  FIRKIN_RETURN_IF_ERROR(ReaderBroken());
  // Out of memory where a failed refresh cannot take its work back (the
  // catch-up's undo is itself out of memory, or the cut after it, which
  // takes entries and segments out): the handle's state is no longer one
  // the writer had, so this handle fails from here on, reads included,
  // with NO_MEMORY ("reopen it"). Until 2026-11-29 such a refresh left the
  // handle stale for good, with wrong counts and keys read as absent that
  // its published state held (found by review).
  try {
    return RefreshLocked();
  } catch (const std::bad_alloc&) {
    reader_broken_.store(true, std::memory_order_release);
    return ReaderBroken();
  }
}

Status DB::ReaderBroken() const {
  if (!reader_broken_.load(std::memory_order_acquire)) return Status::OK();
  return Status(Status::Code::kNoMemory,
                "a refresh of this read-only handle ran out of memory part way and could not "
                "take its work back: close the handle and open the database again");
}

Status DB::RefreshLocked() {
  // (Whether a writer is live does not matter here: the follower never
  // reads past a watermark, where a writer could truncate the file.)
  uint64_t seq = reader_seq_.load(std::memory_order_relaxed);
  // The namespaces' key counts move to the new state at once, with it
  // (they went through every state of the refresh's writes before).
  NsCountDeltas counts;
  uint64_t newest_time = 0;
  const Status s = follower_->CatchUp(&seq, &counts, &newest_time);
  // The handle's clock is never behind a commit it holds (firkin_now_ms):
  // it decides "now" for firkin_snapshot_at_time and its backups' seal
  // clocks. (A refresh left it at the open's: with the system clock behind
  // the writer's, a time before a commit the refresh brought gave the
  // latest state, that commit included; the fourth code review.)
  // (Not when it failed: it took back what it had installed, its count
  // changes too, Follower::CatchUp; until 2026-11-29 those stayed,
  // unpublished, and the counts moved to them.)
  if (!s.ok()) {
    if (s.code() == Status::Code::kCorruption) refresh_damage_ = s.message();
    return s;
  }
  if (newest_time != 0) RaiseTo(&last_commit_ms_, newest_time);
  refresh_damage_.clear();
  // The cut: the entries into retired segments go, the counts move and the
  // new state is published as one change (refresh_cut_): a counting walk
  // that overlapped it walks again (DB::CountKeys). Until 2026-11-29 the
  // entries went inside CatchUp and the counts moved after: a walk between
  // counted the keys gone as absent, below both states, and one that found
  // every key with an expiry gone raised the expiry bound while the
  // counters still held those keys, so the counts after it were above
  // both (ttl_test count_refresh; compaction had the same shape, ttl_test
  // count_reclaim).
  refresh_cut_.BeginApply();
  struct EndCut {  // (also when the cut throws: counting walks are not kept waiting)
    CountsSeqlock* cut;
    ~EndCut() { cut->EndApply(); }
  } end_cut{&refresh_cut_};
  follower_->Retire(&history_floor_, &reader_scan_floor_, &absent_floor_, &counts);
  // Readers of the new state need everything installed above: publish
  // after it (release). The iterators' view first: an iterator over a
  // snapshot taken at the new number scans the segments that hold it.
  PublishReaderView();
  counts.Apply(ns_.counts_lock());
  // The namespaces the writer forgot, once nothing of this refresh points
  // at them (the count changes just applied did).
  follower_->ForgetGone();
  const uint64_t was = reader_seq_.exchange(seq, std::memory_order_acq_rel);
  // On a read-only handle the refresh publishes: wake the change cursors
  // that wait (firkin_changes_wait slept its whole timeout before
  // 2026-11-28; readers review).
  if (seq != was) change_notifier_.Notify();
  return Status::OK();
}

}  // namespace firkin
