#include "core/log/log_reader.h"
#include "core/compact/compactor.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "core/compact/key_filters.h"
#include "core/crypto/nonce.h"
#include "core/util/background.h"
#include "core/util/epoch.h"

namespace firkin {

namespace {
constexpr auto kBackgroundPeriod = std::chrono::milliseconds(250);
// How long a background pass waits for the database's own syncs to make
// the log durable under what it drops (AwaitDurable) before it syncs the
// log itself. The interval flusher syncs every 100 ms by default; under
// sync mode `none`, write-behind's syncs pass a point once about 24 MiB
// more have been appended (YCSB A on 2 cores: 130-260 ms).
constexpr auto kDurablePatience = std::chrono::milliseconds(1000);

// Whether a namespace is ordered, remembered for the last one asked
// (Keyspace::OrderedFor takes a mutex; a segment's records are mostly of
// one namespace). Not thread-safe: a local of one scan.
class OrderedLookup {
 public:
  explicit OrderedLookup(const Keyspace& ks) : ks_(ks) {}
  bool operator()(uint32_t ns) {
    if (ns != ns_) {
      ns_ = ns;
      ordered_ = ks_.OrderedFor(ns) != nullptr;
    }
    return ordered_;
  }

 private:
  const Keyspace& ks_;
  uint32_t ns_ = UINT32_MAX;
  bool ordered_ = false;
};

// Whether a pass may take `s` as an input at all: sealed, not the log
// writer's active segment (sealed too after a roll that failed:
// Segment::log_active), not held for a snapshot or retention, and not a
// log segment at or past the change feed's retention floor (those hold
// retained change history). (Once `sealed` is seen, log_active is seen as
// the writer left it: set before the segment became active, which was
// before its seal.)
bool Compactable(const Segment& s, uint64_t change_floor) {
  const bool change_history = (s.flags() & kSegmentFlagCompacted) == 0 && s.id() >= change_floor;
  return s.sealed.load(std::memory_order_acquire) &&
         !s.log_active.load(std::memory_order_acquire) &&
         !s.compact_hold.load(std::memory_order_relaxed) && !change_history;
}

// The lowest first number of the segments not sealed yet (not durable: the
// active one, one whose seal is queued): every number at or above it may
// lie in one of them. UINT64_MAX if all are sealed.
uint64_t MinUnsealedSeq(const std::vector<std::shared_ptr<Segment>>& segs) {
  uint64_t m = UINT64_MAX;
  for (const auto& s : segs) {
    if (!s->sealed.load(std::memory_order_acquire)) {
      m = std::min(m, s->min_seq.load(std::memory_order_relaxed));
    }
  }
  return m;
}

// segs without one of them.
std::vector<std::shared_ptr<Segment>> AllBut(const std::vector<std::shared_ptr<Segment>>& segs,
                                             const std::shared_ptr<Segment>& self) {
  std::vector<std::shared_ptr<Segment>> others;
  for (const auto& s : segs) {
    if (s != self) others.push_back(s);
  }
  return others;
}
}  // namespace

struct Compactor::Plan {
  std::vector<std::shared_ptr<Segment>> inputs;
  struct Keep {
    const char* rec;
    Locator from;  // 0 for namespace records (not in the index)
    uint64_t hash;
    const char* seg;  // the input segment's mapping (a sealed record's nonce)
  };
  std::vector<Keep> keep;
  std::vector<Relocation> drops;  // tombstones (and expired puts) leaving the index
  struct DroppedPut {
    uint32_t ns_id;
    uint64_t expiry;
  };
  std::vector<DroppedPut> drop_puts;  // per drop: the expired put's namespace (0 expiry: a delete)
  uint64_t bytes = 0;             // of kept records
  uint64_t ns_bytes = 0;          // of those, namespace records (no index entry stands for them)
  // Of ns_bytes, the create and drop records of dropped namespaces the
  // pass could not leave out yet: counted dead in the output, so that a
  // later pass takes it again (BuildPlan, "namespace records").
  uint64_t ns_dead = 0;
  uint64_t read = 0;
  uint64_t min_seq = UINT64_MAX;
  uint64_t max_seq = 0;  // of any record read from the inputs
  uint64_t max_time = 0; // the newest commit time of any record read, or seal clock (its done marker keeps it)
  uint64_t absent_kept = 0;  // bytes of kept tombstones and expired puts (newest)
  uint64_t s_min = 0;        // the oldest snapshot when it was planned
  // The expiry horizon it was planned at (ExpiryHorizonMs): the output's
  // earliest expiry counts every put kept as not expired by it (read
  // again at the write, a horizon that an iterator freed in between moved
  // left such puts out, and the output was never picked for them).
  uint64_t horizon = 0;
  std::shared_ptr<Segment> needs_snapshot;  // an input a live snapshot still needs
  // With no snapshot open when the plan began, some superseded version was
  // dropped: a snapshot registered during the scan, older than the
  // published number after RunPass's PublishInFlight, may need it
  // (RunPass plans again).
  bool unread_superseded = false;
  // The log position covering every version that superseded a record the
  // plan drops (RunPass: PublishInFlight after the plan); it must be
  // durable before the output is named (AwaitDurable).
  LogPosition durable_at;
  std::shared_ptr<Segment> output;
  std::vector<Locator> out_locs;
  // Dropped namespaces whose create and drop records the pass leaves out
  // (BuildPlan, "namespace records"): forgotten once the inputs retire.
  std::vector<uint32_t> ns_gone;
  // Whether it leaves out create records alone (their drop records stay
  // in segments outside, perhaps a log segment beside live values that no
  // pass made: RunPassSteps then has SeedNsKept look again).
  bool creates_out = false;
  // Dropped namespaces whose kept records the output counts dead (the
  // rest of the namespace records it keeps count live).
  std::unordered_set<uint32_t> ns_counted_dead;
  // Of those, the ones it keeps records of (PickNsPartners), and the
  // ones whose create record it keeps (their drop was not durable yet).
  std::vector<uint32_t> ns_kept_ids;
  std::vector<uint32_t> ns_kept_creates;
};

Compactor::Compactor(CompactionHost* host) : host_(host) {}

SegmentKeyFilters* Compactor::Filters() {
  if (filters_ == nullptr) filters_ = std::make_unique<SegmentKeyFilters>(host_->keyspace());
  return filters_.get();
}

void Compactor::NoteFilters() {
  if (filters_ == nullptr) return;
  stats_.key_filter_bytes.store(filters_->bytes(), std::memory_order_relaxed);
  stats_.key_filters_built.store(filters_->built(), std::memory_order_relaxed);
}

void Compactor::NoteDamaged(Segment* s) {
  // Reads stop trusting it: its records are checked one by one from now
  // on (ReadIntact), so the damage is reported, never returned.
  s->checked.store(false, std::memory_order_release);
  damaged_.insert(s->id());
}

bool Compactor::KnownDamaged(const Segment& s) const { return damaged_.count(s.id()) != 0; }

Compactor::~Compactor() { Stop(); }

void Compactor::Start() {
  std::lock_guard<std::mutex> l(mu_);
  if (thread_.joinable() || stop_) return;
  thread_ = StartThread([this] { Loop(); });
}

void Compactor::Stop() {
  stopping_.store(true, std::memory_order_relaxed);
  SetStalled(false);
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Compactor::Loop() {
  NameThisThread("firkin-compact");
  LowerThreadPriority();
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    cv_.wait_for(l, kBackgroundPeriod, [this] { return stop_ || poked_; });
    poked_ = false;
    if (stop_) break;
    if (callers_waiting_.load(std::memory_order_acquire) > 0) continue;  // it compacts all
    l.unlock();
    // Out of memory outside a pass (picking, reaping, a checkpoint, which
    // leaves the last one in place if it fails): nothing is half changed,
    // so the round is given up and the next one tries again (a pass fails
    // the log itself: RunPass). Until 2026-11-29 it ended the process.
    try {
      BackgroundRound();
    } catch (const std::bad_alloc&) {
      patient_ = false;
      SetStalled(false);
    }
    l.lock();
  }
}

void Compactor::BackgroundRound() {
  host_->ReapTxns();
  ReleaseRetentionHolds();
  {
    std::lock_guard<std::mutex> run(run_mu_);
    // Passes back to back while there is work (each pass is bounded by one
    // output segment and rate-limited), so compaction keeps up with
    // writers; then sleep until the next period.
    bool changed = false;
    patient_ = true;
    for (int pass = 0; pass < 256; pass++) {
      {
        std::lock_guard<std::mutex> sl(mu_);
        if (stop_) break;
      }
      if (callers_waiting_.load(std::memory_order_acquire) > 0) break;
      // Every fourth pass looks at the oldest segments' tombstones first:
      // under steady writes there are always segments with dead bytes,
      // and a sweep that waited for none (until 2026-11-27) let outputs
      // of tombstones and expired puts pile up for as long as writes
      // went on (a session cache of 30-ms TTLs: 2.7 MB of log for 0.1 MB
      // of live data after 80 rounds, reclaimed only once writes paused).
      std::vector<std::shared_ptr<Segment>> picked;
      bool swept = false;
      if (pass % 4 == 3) swept = !(picked = PickTombstoneSweep(false)).empty();
      if (picked.empty()) picked = PickCandidates(false);
      if (picked.empty()) swept = !(picked = PickTombstoneSweep(false)).empty();
      const uint64_t dropped = stats_.tombstones_dropped.load();
      const uint64_t freed = stats_.bytes_reclaimed.load();
      if (picked.empty() || !RunPass(std::move(picked)).ok()) break;
      changed = true;
      // A sweep that dropped and freed nothing (what it counted on was
      // held after all): no more passes now, or it would go round.
      if (swept && stats_.tombstones_dropped.load() == dropped &&
          stats_.bytes_reclaimed.load() == freed) {
        break;
      }
    }
    patient_ = false;
    // Nothing more it can do now (or closing): writes go on; the next
    // roll over the limit stalls them again if there is work by then.
    SetStalled(false);
    // Periodic checkpoint, and a fresh one after compaction retired
    // segments (the old one would no longer match the files).
    if (host_->CheckpointDue() || (changed && host_->options().checkpoint_every != 0)) {
      host_->CheckpointNow();
    }
  }
}

void Compactor::ReleaseRetentionHolds() {
  // A segment held for history retention is held by a window that moves on
  // with time (snapshots release their holds when they go): look again.
  if (host_->options().history_retention_ms == 0) return;
  host_->keyspace()->segments().ReleaseHolds(/*force=*/true);
}

Status Compactor::CompactAll(const std::function<void(uint64_t, uint64_t)>& progress) {
  callers_waiting_.fetch_add(1, std::memory_order_acq_rel);
  std::unique_lock<std::mutex> run(run_mu_);
  callers_waiting_.fetch_sub(1, std::memory_order_acq_rel);
  exhaustive_ = true;
  struct Reset {
    bool* flag;
    ~Reset() { *flag = false; }
  } reset{&exhaustive_};
  host_->ReapTxns();
  ReleaseRetentionHolds();
  // First the records of ordered namespaces, merged in key order (their
  // dead records go in the same passes); then every other segment with
  // dead bytes.
  const auto clusters = PickClusters();
  uint64_t total = 0, done = 0;
  if (progress) {
    for (auto& seg : host_->keyspace()->segments().List()) {
      bool clustered = false;
      for (const auto& g : clusters) {
        clustered |= std::find(g.begin(), g.end(), seg) != g.end();
      }
      if (seg->sealed.load(std::memory_order_acquire) && (seg->dead_bytes() > 0 || clustered)) {
        total += seg->published_len() - kSegmentHeaderSize;
      }
    }
    progress(0, total);
  }
  auto finish = [&](Status s) {
    if (progress && s.ok()) progress(total, total);
    return s;
  };
  for (const auto& group : clusters) {
    const uint64_t read_before = stats_.bytes_read.load();
    FIRKIN_RETURN_IF_ERROR(RunPass(group));
    if (progress) {
      done = std::min(total, done + (stats_.bytes_read.load() - read_before));
      progress(done, total);
    }
  }
  // Passes until nothing is left that can be compacted now (a pass that
  // retires nothing means the rest is held by snapshots).
  // A sweep's pass that dropped and freed nothing ends it too (what the
  // sweep counted on was held after all: another would go round).
  // firkin_compact compacts what is there when it is called: the passes
  // for dead bytes take only segments that were there then (ids are handed
  // out in order, outputs included). Writers that keep writing leave new
  // segments with dead bytes, and make this call's own outputs dead again
  // as they overwrite hot keys: passes over those went on for good beside
  // them (review). A bound on the passes, twice the segments there were at
  // the start and 16 more, stays for the sweeps, whose groups may include
  // this call's outputs.
  uint64_t max_id = 0;
  for (const auto& seg : host_->keyspace()->segments().List()) max_id = std::max(max_id, seg->id());
  const size_t max_passes = 2 * host_->keyspace()->segments().List().size() + 16;
  for (size_t passes = 0;; passes++) {
    if (passes == max_passes) return finish(Status::OK());
    auto picked = PickCandidates(true, max_id);
    bool swept = false;
    if (picked.empty()) swept = !(picked = PickTombstoneSweep(true)).empty();
    // Outputs of this call that kept dropped namespaces' records (newer
    // than max_id), with the segments holding their other records, or
    // alone once those are gone (until 2026-11-29 they stayed: ns_churn_test
    // split_full).
    if (picked.empty()) picked = PickNsPartners(host_->ChangeRetentionSegmentFloor());
    if (picked.empty()) return finish(Status::OK());
    const uint64_t before = stats_.segments_retired.load() + stats_.segments_skipped.load();
    const uint64_t read_before = stats_.bytes_read.load();
    const uint64_t dropped = stats_.tombstones_dropped.load();
    const uint64_t freed = stats_.bytes_reclaimed.load();
    FIRKIN_RETURN_IF_ERROR(RunPass(std::move(picked)));
    if (progress) {
      done = std::min(total, done + (stats_.bytes_read.load() - read_before));
      progress(done, total);
    }
    if (stats_.segments_retired.load() + stats_.segments_skipped.load() == before ||
        (swept && stats_.tombstones_dropped.load() == dropped &&
         stats_.bytes_reclaimed.load() == freed)) {
      return finish(Status::OK());
    }
  }
}

std::vector<std::shared_ptr<Segment>> Compactor::PickCandidates(bool all, uint64_t max_id) {
  const Options& o = host_->options();
  uint64_t total = 0, live = 0;
  const uint64_t change_floor = host_->ChangeRetentionSegmentFloor();
  const uint64_t now_ms = host_->ExpiryHorizonMs();
  // The byte counters change while we look (writers, relocations): read
  // each ratio once, then sort those values (sorting with a comparator that
  // re-reads live counters is not a strict weak order, and std::sort may
  // then run off the end of the array).
  std::vector<std::pair<double, std::shared_ptr<Segment>>> ranked;
  for (auto& s : host_->keyspace()->segments().List()) {
    uint64_t bytes = s->published_len() - kSegmentHeaderSize;
    total += bytes;
    live += std::min(bytes, s->live_bytes());
    // Expired records (TTL) count as reclaimable once their time has come.
    const bool expired = s->min_expiry.load(std::memory_order_relaxed) <= now_ms;
    const uint64_t dead = s->dead_bytes();
    // An output whose only dead bytes are namespace records its pass had
    // to keep (BuildPlan) is not taken alone by a background pass until
    // some other segment retired (one that was not such an output itself:
    // ns_progress_): the same pass would keep them again, and write the
    // output again every period. (A small one goes along with every pass
    // meanwhile: RunPass, "riders"; and when nothing else is picked, one
    // goes with the segments holding its namespaces' other records:
    // PickNsPartners.)
    bool ns_wait = false;
    if (!all) {
      auto k = ns_kept_.find(s->id());
      ns_wait = k != ns_kept_.end() && dead == k->second.dead && !expired &&
                k->second.retired == ns_progress_;
    }
    if ((dead > 0 || expired) && !ns_wait && s->id() <= max_id && Compactable(*s, change_floor) &&
        (all || !KnownDamaged(*s))) {
      ranked.emplace_back(bytes == 0 || expired ? 1.0 : double(dead) / double(bytes), s);
    }
  }
  std::sort(ranked.begin(), ranked.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  const bool over_amp = live > 0 && total * 100 > live * uint64_t{o.compact_space_amp};
  behind_ = over_amp;
  if (total <= StallLimit(live)) SetStalled(false);
  std::vector<std::shared_ptr<Segment>> picked;
  uint64_t out_bytes = 0;
  for (auto& [ratio, s] : ranked) {
    bool want = all || ratio * 100 >= o.compact_dead_ratio || (over_amp && ratio >= 0.2);
    if (!want) continue;
    uint64_t keep = s->live_bytes();
    // One output segment per pass: stop when it would overflow.
    if (!picked.empty() && out_bytes + keep > o.segment_size) break;
    picked.push_back(s);
    out_bytes += keep;
  }
  if (picked.empty() && !all) return PickNsPartners(change_floor);
  return picked;
}

bool Compactor::SeedNsKept() {
  std::vector<std::shared_ptr<NamespaceInfo>> dropped;
  for (auto& info : host_->ns_table().AllIncludingDropped()) {
    if (info->id != 0 && info->dropped.load(std::memory_order_acquire)) {
      dropped.push_back(std::move(info));
    }
  }
  if (dropped.empty()) {
    ns_seed_pending_ = false;
    return false;
  }
  size_t scans = kNsListScans;
  bool complete = true, added = false;
  for (const std::shared_ptr<Segment>& s : host_->keyspace()->segments().List()) {
    if (!s->sealed.load(std::memory_order_acquire)) continue;
    if (ns_kept_.count(s->id()) != 0) continue;  // (known: a pass of this process made it)
    const uint64_t min_seq = s->min_seq.load(std::memory_order_relaxed);
    std::vector<uint32_t> ids;
    for (const auto& info : dropped) {
      const uint64_t drop_seq = info->drop_seq.load(std::memory_order_relaxed);
      if (s->id() < info->seg_floor.load(std::memory_order_relaxed)) continue;
      if (drop_seq != 0 && min_seq > drop_seq) continue;  // (every record of it is at or below)
      if (!Filters()->HasNamespaces(s)) {
        if (scans == 0 || stopping_.load(std::memory_order_relaxed)) {
          complete = false;
          break;
        }
        scans--;
      }
      if (!Filters()->SurelyLacksNamespace(s, info->id)) ids.push_back(info->id);
    }
    if (!complete) break;
    if (ids.empty()) continue;
    std::sort(ids.begin(), ids.end());
    NsKept k;
    k.retired = ns_progress_;
    k.dead = UINT64_MAX;
    k.creates = ids;
    k.ids = std::move(ids);
    k.seeded = true;
    ns_kept_.emplace(s->id(), std::move(k));
    added = true;
  }
  if (complete) ns_seed_pending_ = false;
  NoteFilters();
  return added;
}

std::vector<std::shared_ptr<Segment>> Compactor::PickNsPartners(uint64_t change_floor) {
  // (After an open: the segments holding records of dropped namespaces.)
  if (ns_seed_pending_ && SeedNsKept()) partners_looked_ = {UINT64_MAX, UINT64_MAX};
  if (ns_kept_.empty()) return {};
  const std::vector<std::shared_ptr<Segment>> segs = host_->keyspace()->segments().List();
  uint64_t sealed = 0;
  for (const auto& s : segs) sealed += s->sealed.load(std::memory_order_acquire) ? 1 : 0;
  const std::pair<uint64_t, uint64_t> state{
      stats_.segments_retired.load(std::memory_order_relaxed), sealed};
  if (state == partners_looked_) return {};  // (nothing changed since it found nothing)
  const uint64_t room = host_->options().segment_size;
  ns_scans_left_ = kNsListScans;
  auto takeable = [&](const Segment& s) {
    return Compactable(s, change_floor) && !KnownDamaged(s);
  };
  for (const auto& [out_id, kept] : ns_kept_) {
    if (kept.partner_gen >= kMaxPartnerGen || kept.ids.empty()) continue;
    auto self = std::find_if(segs.begin(), segs.end(),
                             [&, id = out_id](const auto& s) { return s->id() == id; });
    if (self == segs.end() || !takeable(**self)) continue;
    // A segment SeedNsKept found (a log segment of live values, say) is
    // not rewritten for a few namespaces: at most kPartnerBytesPerNs of
    // its live bytes a namespace, as a partner's.
    if (kept.seeded && (*self)->live_bytes() > std::max<uint64_t>(
                                                  kRiderBytes, kPartnerBytesPerNs * kept.ids.size())) {
      continue;
    }
    // The segments that hold a record of any of its dropped namespaces.
    std::vector<std::shared_ptr<Segment>> partners;
    bool unknown = false;
    // Whether some namespace of it (not its highest id, which a pass over
    // it alone may keep) has no record left elsewhere: a pass over it
    // alone then leaves that one's records out (BuildPlan).
    bool alone_progress = false, top_alone = false;
    for (uint32_t ns_id : kept.ids) {
      const NamespaceInfo* info = host_->ns_table().ById(ns_id);
      if (info == nullptr || !info->dropped.load(std::memory_order_acquire)) continue;
      const uint64_t floor = info->seg_floor.load(std::memory_order_relaxed);
      const uint64_t drop_seq = info->drop_seq.load(std::memory_order_relaxed);
      bool found = false;
      for (const std::shared_ptr<Segment>& s : segs) {
        if (s == *self || s->id() < floor) continue;
        // (Every record of it is numbered at or below its drop's.)
        if (drop_seq != 0 && s->min_seq.load(std::memory_order_relaxed) > drop_seq) continue;
        if (std::find(partners.begin(), partners.end(), s) != partners.end()) {
          found |= !Filters()->SurelyLacksNamespace(s, ns_id);  // (listed: a partner)
          continue;
        }
        if (!s->sealed.load(std::memory_order_acquire)) {
          unknown = true;  // it may take or hold one
          break;
        }
        if (!Filters()->HasNamespaces(s)) {
          if (ns_scans_left_ == 0 || stopping_.load(std::memory_order_relaxed)) {
            unknown = true;
            break;
          }
          ns_scans_left_--;
        }
        if (!Filters()->SurelyLacksNamespace(s, ns_id)) {
          if (!takeable(*s)) {
            unknown = true;
            break;
          }
          partners.push_back(s);
          found = true;
        }
      }
      if (unknown) break;
      alone_progress |= !found && ns_id != kept.ids.back();
      top_alone |= !found && ns_id == kept.ids.back();
    }
    if (unknown) continue;
    if (partners.empty()) {
      // No segment but this output holds a record of its namespaces (their
      // create records went alone: BuildPlan): a pass over it alone leaves
      // their drop records out, but the highest id's, unless a newer
      // segment holds a higher id. Taken then, with riders.
      if (kept.ids.size() >= 2 || HigherNamespaceOutside(AllBut(segs, *self), kept.ids.back())) {
        partner_gen_next_ = kept.partner_gen + 1;
        NoteFilters();
        return {*self};
      }
      continue;
    }
    // As many as one output holds, those with the fewest live bytes first,
    // copying at most kPartnerBytesPerNs of their live bytes for each of
    // its namespaces (a cold segment is not rewritten for a few of them).
    std::sort(partners.begin(), partners.end(), [](const auto& a, const auto& b) {
      return a->live_bytes() < b->live_bytes();
    });
    std::vector<std::shared_ptr<Segment>> picked{*self};
    uint64_t out_bytes = (*self)->live_bytes(), copied = 0;
    const uint64_t budget = std::max<uint64_t>(kRiderBytes, kPartnerBytesPerNs * kept.ids.size());
    for (const auto& p : partners) {
      const uint64_t live = p->live_bytes();
      if (out_bytes + live > room || copied + live > budget) break;
      picked.push_back(p);
      out_bytes += live;
      copied += live;
    }
    if (picked.size() == 1) {
      // No partner fits beside it. Alone, it still leaves out the create
      // records it kept whose drop records are durable now (BuildPlan);
      // its highest id's too, and that one's drop when nothing else of it
      // is left, once a sealed segment outside holds a higher id. (Until
      // 2026-11-29 the highest id was left out of this look: a round's
      // highest id, its create record in one output beside live values
      // and its drop in another, stayed for good once the next rounds
      // made higher ids: ns_churn_test top_rounds, one more every few
      // rounds.)
      const bool top_may_go = HigherNamespaceOutside(AllBut(segs, *self), kept.ids.back());
      const uint64_t unsealed_min = MinUnsealedSeq(segs);
      bool creates_go = false;
      for (uint32_t ns_id : kept.creates) {
        const NamespaceInfo* info = host_->ns_table().ById(ns_id);
        const uint64_t drop_seq =
            info != nullptr ? info->drop_seq.load(std::memory_order_relaxed) : 0;
        creates_go |= drop_seq != 0 && drop_seq < unsealed_min &&
                      (ns_id != kept.ids.back() || top_may_go);
      }
      if (!creates_go && !alone_progress && !(top_alone && top_may_go)) continue;
    }
    partner_gen_next_ = kept.partner_gen + 1;
    NoteFilters();
    return picked;
  }
  NoteFilters();
  partners_looked_ = state;
  return {};
}

Compactor::Older Compactor::OlderOutside(const std::vector<std::shared_ptr<Segment>>& outside,
                                         uint64_t h, uint64_t seq,
                                         std::vector<std::shared_ptr<Segment>>* may) {
  // (outside is in ascending min_seq: the segments that may hold an older
  // number come first. Past a bound the answer is "unknown": the filters
  // cost a probe each, and a scan to build the first time.)
  constexpr size_t kMaxChecks = 64;
  Older result = Older::kNone;
  for (size_t i = 0; i < outside.size(); i++) {
    const std::shared_ptr<Segment>& s = outside[i];
    if (s->min_seq.load(std::memory_order_relaxed) >= seq) break;
    if (i == kMaxChecks || !s->sealed.load(std::memory_order_acquire)) return Older::kUnknown;
    if (!Filters()->SurelyLacks(s, h)) {
      if (!Filters()->Filterable(s)) return Older::kUnknown;
      result = Older::kMaybe;
      if (may != nullptr && std::find(may->begin(), may->end(), s) == may->end()) {
        may->push_back(s);
      }
    }
  }
  return result;
}

bool Compactor::NamespaceGoneOutside(const std::vector<std::shared_ptr<Segment>>& outside,
                                     uint32_t ns_id, uint64_t below, uint64_t floor) {
  // Every segment that may hold a record of it is asked, in a background
  // pass too: not those below its floor (NamespaceInfo::seg_floor: data
  // that predates it), nor those numbered from its drop on. A segment's
  // namespace list is made once in its life (a scan, no key filter) and
  // kept; a pass makes at most kNsListScans of them (ns_scans_left_), and
  // a namespace that needs more waits for the next pass, which goes on
  // from there. Until the second fix of 2026-11-29 a background pass
  // asked at most 64 segments, listed or not: with more than 64 below a
  // drop (live data, or outputs kept for namespace records) it forgot no
  // namespace, and the table grew by one a cycle under churn.
  for (const std::shared_ptr<Segment>& s : outside) {
    if (s->min_seq.load(std::memory_order_relaxed) >= below) break;
    if (s->id() < floor) continue;
    if (!s->sealed.load(std::memory_order_acquire)) return false;  // it may still take one
    if (!Filters()->HasNamespaces(s)) {
      if (ns_scans_left_ == 0 || stopping_.load(std::memory_order_relaxed)) return false;
      ns_scans_left_--;
    }
    if (!Filters()->SurelyLacksNamespace(s, ns_id)) return false;
  }
  return true;
}

bool Compactor::HigherNamespaceOutside(const std::vector<std::shared_ptr<Segment>>& outside,
                                       uint32_t id) {
  // The newest segments first (ids are handed out in order, so the newest
  // records carry the highest ids): the 4 newest sealed ones always, then
  // every other sealed one whose namespace list is made, and those whose
  // list is not while the pass may make lists (ns_scans_left_; all in
  // CompactAll). Until 2026-11-29 only the 4 newest were asked: behind
  // them (segments of live values, outputs of overwrites) a kept highest
  // id stayed for good, one or two more a round of create-and-drop
  // followed by writes (ns_churn_test top_rounds: 19 held after 12
  // rounds, growing).
  constexpr size_t kNewest = 4;
  size_t checked = 0;
  for (auto it = outside.rbegin(); it != outside.rend(); ++it) {
    if (!(*it)->sealed.load(std::memory_order_acquire)) continue;  // not durable yet
    if (checked++ >= kNewest && !Filters()->HasNamespaces(*it)) {
      if (ns_scans_left_ == 0 || stopping_.load(std::memory_order_relaxed)) return false;
      ns_scans_left_--;
    }
    if (Filters()->HighestNamespace(*it) > id) return true;
  }
  return false;
}

uint64_t Compactor::SweepScan(Segment& seg, const std::vector<std::shared_ptr<Segment>>& outside,
                              uint64_t s_min, uint64_t* recheck, bool* damaged, uint64_t* maybe) {
  const Keyspace& ks = *host_->keyspace();
  const uint64_t outside_min =
      outside.empty() ? UINT64_MAX : outside.front()->min_seq.load(std::memory_order_relaxed);
  uint64_t droppable = 0;
  const uint64_t horizon = host_->ExpiryHorizonMs();
  // A segment read before with nothing a sweep drops (sweep_clean_): its
  // 64 MB were read again, every checksum checked, after every retirement
  // (under YCSB A, in a callgrind profile, 92% of the compaction thread's
  // instructions, 24% of the process's, for no tombstone at all).
  if (sweep_clean_.count(seg.id()) != 0) return 0;
  // Every checksum (as BuildPlan's scan, which this one foresees).
  const uint64_t at_end = seg.published_len();
  LogReader reader(seg.data(), kSegmentHeaderSize, at_end, /*checksums=*/true);
  RecordView r;
  uint64_t at;
  std::string kb;
  bool clean = true;  // no tombstone, no put with an expiry (so far)
  for (LogReader::Result res; (res = reader.Next(&r, &at)) != LogReader::Result::kEnd;) {
    if (res == LogReader::Result::kDamaged) {
      *damaged = true;  // not picked (firkin_compact's pass reports it)
      NoteDamaged(&seg);
      return 0;
    }
    // What BuildPlan drops (the same rule): a tombstone, or an expired put
    // (absent too), that is its key's newest record, up to the oldest
    // snapshot, with no older record of its key outside (by sequence
    // range, or by the segments' key filters); an expired put that was its
    // key's first version (prev 0) in any case.
    const bool expiring = r.type == RecordType::kPut && r.expiry() != 0;
    if (!expiring && r.type != RecordType::kDelete) continue;
    clean = false;
    if (r.seq > s_min) continue;
    if (expiring && r.expiry() > horizon) {
      *recheck = std::min(*recheck, r.expiry());
      continue;
    }
    Epoch::Guard guard;
    RecordView newest;
    const std::string_view k = ks.Key(r, &kb);
    const uint64_t h = ks.Hash(r.ns_id, k);
    if (ks.FindNewest(h, r.ns_id, k, &newest) != MakeLocator(seg.slot(), at)) continue;
    if (r.seq < outside_min || (expiring && r.prev == 0)) {
      droppable += r.size();
      continue;
    }
    switch (OlderOutside(outside, h, r.seq, nullptr)) {
      case Older::kNone:
        droppable += r.size();
        break;
      case Older::kMaybe:
        *maybe += r.size();  // BuildPlan tells for sure (VerifyMaybes)
        break;
      case Older::kUnknown:
        break;
    }
  }
  stats_.sweep_bytes_read.fetch_add(at_end - kSegmentHeaderSize, std::memory_order_relaxed);
  if (clean && seg.sealed.load(std::memory_order_acquire)) sweep_clean_.insert(seg.id());
  return droppable;
}

std::vector<std::shared_ptr<Segment>> Compactor::PickTombstoneSweep(bool all) {
  const uint64_t change_floor = host_->ChangeRetentionSegmentFloor();
  std::vector<std::shared_ptr<Segment>> segs = host_->keyspace()->segments().List();
  auto min_seq = [](const std::shared_ptr<Segment>& s) {
    return s->min_seq.load(std::memory_order_relaxed);
  };
  std::sort(segs.begin(), segs.end(),
            [&](const auto& a, const auto& b) { return min_seq(a) < min_seq(b); });
  if (!sweep_clean_.empty()) {
    std::vector<uint64_t> ids;
    ids.reserve(segs.size());
    for (const auto& s : segs) ids.push_back(s->id());
    std::sort(ids.begin(), ids.end());
    for (auto it = sweep_clean_.begin(); it != sweep_clean_.end();) {
      it = std::binary_search(ids.begin(), ids.end(), *it) ? std::next(it) : sweep_clean_.erase(it);
    }
  }
  Filters()->Prune();
  NoteFilters();
  const uint64_t s_min = host_->OldestSnapshot();
  const uint64_t now_ms = host_->ExpiryHorizonMs();
  const uint64_t retired = stats_.segments_retired.load(std::memory_order_relaxed);
  const uint32_t ratio = host_->options().compact_dead_ratio;
  // Whether a group is worth a pass: with `all`, anything to drop.
  auto want = [&](uint64_t droppable, uint64_t dead, uint64_t bytes) {
    return droppable > 0 && (all || (droppable + dead) * 100 >= bytes * ratio);
  };
  // 1. The oldest segments, as many as one output holds (by their live
  // bytes): two segments whose sequence ranges overlap can each hold what
  // keeps the other's tombstones (until 2026-11-27 the sweep took the
  // oldest segment alone, and such pairs of outputs kept their tombstones
  // and expired puts for good; found by review).
  std::vector<std::shared_ptr<Segment>> group;
  uint64_t keep = 0, key = 0;
  size_t next = 0;
  for (; next < segs.size(); next++) {
    const Segment& s = *segs[next];
    if (!Compactable(s, change_floor) || (!all && KnownDamaged(s))) break;
    if (!group.empty() && keep + s.live_bytes() > host_->options().segment_size) break;
    group.push_back(segs[next]);
    keep += s.live_bytes();
    key = key * 1000003 + s.id();
  }
  // The same segments, with nothing retired and the same oldest snapshot
  // since, were scanned already and found wanting, unless an expiry passed
  // (background sweeps only: firkin_compact scans again).
  if (!group.empty() &&
      (all || key != swept_key_ || retired != swept_retired_ || s_min != swept_smin_ ||
       now_ms >= swept_recheck_ms_)) {
    swept_key_ = key;
    swept_retired_ = retired;
    swept_smin_ = s_min;
    uint64_t recheck = UINT64_MAX, droppable = 0, bytes = 0, dead = 0, maybe = 0;
    bool damaged = false;
    const std::vector<std::shared_ptr<Segment>> outside(segs.begin() + next, segs.end());
    for (const auto& seg : group) {
      droppable += SweepScan(*seg, outside, s_min, &recheck, &damaged, &maybe);
      bytes += seg->published_len() - kSegmentHeaderSize;
      dead += seg->dead_bytes();
    }
    swept_recheck_ms_ = recheck;
    if (!damaged && want(droppable + maybe / kMaybeShare, dead, bytes)) return group;
  }
  // 2. Outputs a pass left tombstones or expired puts in (kept because an
  // older record of their key may have been outside it): once a segment
  // retires or a snapshot goes, the key filters may tell that none is left
  // (a queue of unique keys, put and deleted beside a cold segment, kept
  // one tombstone per job until 2026-11-27). A background sweep scans two
  // of them at most.
  int scans = 0;
  for (auto it = absent_kept_.begin(); it != absent_kept_.end();) {
    auto at = std::find_if(segs.begin(), segs.end(),
                           [&](const auto& s) { return s->id() == it->first; });
    if (at == segs.end()) {
      it = absent_kept_.erase(it);
      continue;
    }
    AbsentKept& a = it->second;
    const std::shared_ptr<Segment> seg = *at;
    ++it;
    if (!Compactable(*seg, change_floor) || (!all && KnownDamaged(*seg))) continue;
    if (!all && a.retired == retired && a.s_min == s_min && now_ms < a.recheck_ms) continue;
    if (!all && scans++ == 2) break;
    a.retired = retired;
    a.s_min = s_min;
    a.recheck_ms = UINT64_MAX;
    std::vector<std::shared_ptr<Segment>> outside;
    for (const auto& s : segs) {
      if (s != seg) outside.push_back(s);
    }
    bool damaged = false;
    uint64_t maybe = 0;
    const uint64_t droppable = SweepScan(*seg, outside, s_min, &a.recheck_ms, &damaged, &maybe);
    if (!damaged && want(droppable + maybe / kMaybeShare, seg->dead_bytes(),
                         seg->published_len() - kSegmentHeaderSize)) {
      return {seg};
    }
  }
  return {};
}

Status Compactor::BuildPlan(const std::vector<std::shared_ptr<Segment>>& inputs, Plan* plan) {
  plan->inputs = inputs;
  const uint64_t s_min = host_->OldestSnapshot();
  plan->s_min = s_min;  // (RunPassSteps: a hold for a snapshot that went meanwhile)
  // A counting walk follows a record updated in place above its snapshot
  // back through its prev (DB::CountKeys); a copy would say kPrevReplaced.
  // (A walk registered after this was read took its number after every
  // overwrite of the inputs, which are sealed: it reads their records as
  // they are.)
  const uint64_t count_min = host_->OldestCountSnapshot();
  // With a counting walk the oldest holder, a hot key's newest record is
  // often overwritten above its number: the version at s_min is found
  // through it, as the walk finds it. (Until a review of the count floor,
  // the lookup below said "too old" there, every version counted as
  // needed, and a thread counting in a loop beside updates kept
  // compaction from reclaiming hot keys' old versions.)
  const Overwritten at_smin =
      host_->OldestIsCountWalk(s_min) ? Overwritten::kFollow : Overwritten::kTooOld;
  // Expired puts go up to here: not past the clock of an open iterator,
  // which still yields a put that had not expired when it was made.
  const uint64_t horizon = host_->ExpiryHorizonMs();
  plan->horizon = horizon;
  const bool any_snapshot = host_->HasSnapshots();
  std::unordered_map<std::string, uint64_t> visible_at_smin;  // (ns, key) -> seq
  // Smallest sequence number held outside the inputs: a tombstone newer than
  // it may still shadow an older version elsewhere.
  // The segments outside the inputs, in ascending smallest number (for
  // the key filters: NoOlderOutside).
  std::vector<std::shared_ptr<Segment>> outside;
  for (auto& s : host_->keyspace()->segments().List()) {
    if (std::find(inputs.begin(), inputs.end(), s) == inputs.end()) outside.push_back(s);
  }
  std::sort(outside.begin(), outside.end(), [](const auto& a, const auto& b) {
    return a->min_seq.load(std::memory_order_relaxed) < b->min_seq.load(std::memory_order_relaxed);
  });
  const uint64_t outside_min =
      outside.empty() ? UINT64_MAX : outside.front()->min_seq.load(std::memory_order_relaxed);
  Filters()->Prune();
  // Kept absent records whose key the filters of some segments outside may
  // hold (false positives, mostly), and those segments: VerifyMaybes.
  std::vector<Maybe> maybes;
  std::vector<std::shared_ptr<Segment>> may_hold;
  const Keyspace& ks = *host_->keyspace();
  bool unread_superseded = false;
  uint64_t absent_max = 0;    // the newest tombstone or expired put dropped
  uint64_t replaced_max = 0;  // the newest record kept that was updated in place
  // Whether the namespace of the last record was live: asked again only
  // when the namespace changes or every 1024 records (the table's mutex per
  // record was 6% of the compactor's time). A namespace dropped meanwhile
  // is the same race as a drop just after its records were scanned: the
  // drop purges their index entries, so the moves of them find nothing to
  // move, and the next pass leaves them out.
  uint32_t memo_ns = UINT32_MAX;
  bool memo_live = false;
  uint64_t memo_age = 0;
  // The namespace records of the inputs, decided after the scan.
  struct NsRecord {
    const char* rec;
    const char* seg;
    uint32_t ns_id;
    RecordType type;
    uint64_t seq;
    uint32_t size;
  };
  std::vector<NsRecord> ns_records;
  for (auto& seg : inputs) {
    // Every checksum is checked, also in a segment known intact to reads
    // (Segment::checked: this process wrote it, or validated it): what the
    // pass decides here is final (what it leaves out of the output is gone
    // with the input), and damage since the segment was validated, a
    // length that swallows the next records say, would make it walk over
    // records as if they were not there: a tombstone neither kept nor
    // dropped brought its key back at the next salvage open, a live put
    // went (until 2026-11-27; found by review, as the key filters' scans).
    // A sealed record of a segment not validated yet (checkpoint, before
    // the scrub) is authenticated: its key and header decide what the pass
    // drops, and one changed on purpose (checksum made to match) would
    // have it drop its key's newest record as another key's old one.
    LogReader reader(seg->data(), kSegmentHeaderSize, seg->published_len(), /*checksums=*/true,
                     ks.AuthFor(*seg));
    RecordView r;
    uint64_t at;
    uint64_t scanned = 0;
    // (The clock its seal recorded, too: the done marker keeps it for the
    // next open's clock once this segment is gone.)
    // (Encrypted: only an authentic clock, so that the output's MAC never
    // vouches for a forged one.)
    plan->max_time = std::max(plan->max_time, DecodeSealClock(seg->data(), ks.codec().cipher()));
    for (LogReader::Result res; (res = reader.Next(&r, &at)) != LogReader::Result::kEnd;) {
      if (res == LogReader::Result::kDamaged) {
        NoteDamaged(seg.get());
        return Status::Corruption(seg->path() + ": damaged record at offset " +
                                  std::to_string(at) + " found by compaction");
      }
      if ((++scanned & 1023) == 0 && stopping_.load(std::memory_order_relaxed)) {
        return Status::Busy("compaction stopped: the database is closing");
      }
      plan->read += r.size();
      // Encrypted: what the output's done marker carries is MACed, so only
      // authentic values go in: a sealed record's (its time and number are
      // in its tag's additional data; the reader above authenticated it,
      // or the segment was), an input output's done marker whose MAC
      // holds; not an unsealed commit record's time (forgeable, and the
      // times of a batch's records are its own). Numbers: a commit
      // record's counts, as recovery counts it (left open: docs/testing.md).
      // An input output's done marker: its prev (the highest number its
      // own inputs had) too, so that the number is not lost with it.
      const bool sealing = ks.codec().sealing();
      if (r.type == RecordType::kCompactDone) {
        // (The number whatever the MAC says, below kMaxUnauthenticatedSeq,
        // as recovery takes it: Replayer.)
        const bool authentic =
            !sealing || DoneMarkerMac(seg->data(), at + r.size(), at, ks.codec().cipher()) ==
                            HeaderMac::kValid;
        plan->max_seq = std::max(plan->max_seq, r.seq);
        if (authentic || r.prev <= kMaxUnauthenticatedSeq) {
          plan->max_seq = std::max(plan->max_seq, r.prev);
        }
        if (authentic) plan->max_time = std::max(plan->max_time, r.time());
      } else {
        plan->max_seq = std::max(plan->max_seq, r.seq);
        if (!sealing || r.sealed()) plan->max_time = std::max(plan->max_time, r.time());
      }
      const Locator loc = MakeLocator(seg->slot(), at);
      switch (r.type) {
        case RecordType::kNsCreate:
        case RecordType::kNsDrop:
          ns_records.push_back({r.base, seg->data(), r.ns_id, r.type, r.seq,
                                static_cast<uint32_t>(r.size())});
          continue;
        case RecordType::kPut:
        case RecordType::kDelete:
          break;
        default:
          continue;  // commit markers and compaction bookkeeping go
      }
      if (r.ns_id != memo_ns || ++memo_age == 1024) {
        memo_ns = r.ns_id;
        memo_live = host_->ns_table().IsLive(r.ns_id);
        memo_age = 0;
      }
      if (!memo_live) continue;  // dropped namespace: purged
      Epoch::Guard guard;
      std::string kb;
      const std::string_view key = ks.Key(r, &kb);
      const uint64_t h = ks.Hash(r.ns_id, key);
      RecordView newest;
      // A live record (the index points at it) is told without reading the
      // key's newest record; only a superseded one needs it.
      const bool live = ks.Indexes(h, loc);
      if (!live && !any_snapshot) {
        // Superseded (the index holds the key's newest record elsewhere)
        // or never indexed (an abandoned batch record), with no snapshot
        // open: no reader needs this version (readers of the latest state
        // only follow chains inside their epoch guard), and the newest
        // record is not read (a cache miss per superseded record, most of
        // a pass's scan under steady updates). Its successor may have been
        // published during the scan, or be in a write still in flight:
        // RunPass's sync waits for every write in flight to publish before
        // the pass changes anything, and a snapshot registered before that
        // makes RunPass plan again (unread_superseded). One registered
        // after it starts at the published number, past every successor.
        unread_superseded = true;
        continue;
      }
      const Locator newest_loc = live ? loc : ks.FindNewest(h, r.ns_id, key, &newest);
      if (live) newest = r;
      if (newest_loc == loc) {
        // An expired put (TTL) is absent, like a tombstone: it goes under
        // the same rule, so that no older version elsewhere comes back.
        // An expired put that is the key's first version (prev 0: the
        // index held nothing for the key when it was written, so no older
        // version is left anywhere) has nothing to shadow and goes at once.
        // Otherwise it goes once no older record of its key is left outside
        // the pass: by sequence range (nothing older outside at all), or by
        // the key filters of the segments outside that hold older numbers.
        const bool expired =
            r.type == RecordType::kPut && r.expiry() != 0 && r.expiry() <= horizon;
        const bool absent = r.type == RecordType::kDelete || expired;
        bool drop_tombstone =
            absent && r.seq <= s_min && (r.seq < outside_min || (expired && r.prev == 0));
        bool maybe = false;
        if (absent && r.seq <= s_min && !drop_tombstone) {
          switch (OlderOutside(outside, h, r.seq, &may_hold)) {
            case Older::kNone:
              drop_tombstone = true;
              break;
            case Older::kMaybe:
              maybe = true;  // VerifyMaybes tells for sure, after the scan
              break;
            case Older::kUnknown:
              break;
          }
        }
        if (drop_tombstone) {
          plan->drops.push_back({h, loc, 0, static_cast<uint32_t>(r.size())});
          plan->drop_puts.push_back({r.ns_id, expired ? r.expiry() : 0});
          absent_max = std::max(absent_max, r.seq);
        } else {
          // A record updated in place is copied with kPrevReplaced
          // (WriteOutput): what it replaced was gone already, but nothing
          // in the output says where; the floor covers it.
          if (r.counter() != 0) {
            // Updated in place above the snapshot of a counting walk that
            // is still running: the walk still needs its prev. The input
            // waits, as for any version a snapshot needs.
            if (r.seq > count_min) {
              plan->needs_snapshot = seg;
              return Status::OK();
            }
            replaced_max = std::max(replaced_max, r.seq);
          }
          if (maybe) maybes.push_back({plan->keep.size(), r.seq, expired ? r.expiry() : 0});
          plan->keep.push_back({r.base, loc, h, seg->data()});
          plan->bytes += r.size();
          plan->min_seq = std::min(plan->min_seq, r.seq);
          if (absent) plan->absent_kept += r.size();
        }
        continue;
      }
      if (newest_loc == 0) continue;  // not indexed: an abandoned batch record
      // An older version, with a snapshot open (without one, it went
      // above): needed iff a live snapshot can see it, i.e. it is on the
      // chain from the newest version down to the one visible at the
      // oldest snapshot.
      // The oldest snapshot sees the key's version at s_min; every version
      // from that one up to the newest may be seen by some snapshot, older
      // ones by none. Computed once per key per pass (hot keys have long
      // chains: walking them for every old record would be quadratic).
      std::string ck(reinterpret_cast<const char*>(&r.ns_id), sizeof(r.ns_id));
      ck.append(key.data(), key.size());
      auto vit = visible_at_smin.find(ck);
      if (vit == visible_at_smin.end()) {
        RecordView v;
        Status vs = ks.VersionAt(newest, s_min, &v, /*check_all=*/true, at_smin);
        // Not found at s_min: every version is newer than the oldest
        // snapshot, and any may be seen by some snapshot. The version at
        // s_min already gone (compacted, or replaced in place): the oldest
        // snapshot cannot read this key, but a younger one may need any
        // version still reachable, so every one is needed too. (Until
        // 2026-11-27 none was: a pass then dropped the version a younger
        // snapshot read, which said SnapshotTooOld while it was held.)
        uint64_t floor = vs.ok() ? v.seq : 0;
        vit = visible_at_smin.emplace(std::move(ck), floor).first;
      }
      const bool needed = r.seq >= vit->second;
      if (needed) {
        plan->needs_snapshot = seg;  // (only with a snapshot open: above)
        return Status::OK();
      }
    }
  }
  // Namespace records. A dropped namespace's create and drop records were
  // kept for good until 2026-11-28 (112 B of log per create-and-drop
  // cycle). They go together, once both are inputs and no segment outside
  // can hold a record of the namespace: every record of it is numbered
  // below its drop's (the drop runs with no write in flight, and writers
  // check the flag: DB::DropNamespace), so only segments outside with a
  // smaller number can, and their key filters' namespace lists tell. Then
  // recovery never meets a record of an id it has no create record for.
  // The create record with the highest id among the inputs stays (with its
  // drop), so that the highest id ever created keeps a durable record
  // (inputs are sealed, the output is synced before they retire) and an
  // open never hands out an id again (recovery raises the next id above
  // every id a record carries, whatever its type), unless a sealed
  // segment outside (durable) holds a record of a higher id: that one
  // then keeps the next id above it, and the pass that takes it keeps the
  // rule in turn. Snapshots, time travel and history never read a
  // dropped namespace (its keys leave the index at the drop), and the
  // change feed reads log segments that retention keeps from compaction.
  // The records of a dropped namespace that stay are counted dead in the
  // output, so that a later pass takes the output again, with the
  // segments that hold their partners or the higher ids: until 2026-11-29
  // they were counted live, an output holding only them had no dead bytes
  // and no pass took it again, and every pass left one more such output
  // (the highest id's records at least) for good; see PickCandidates for
  // why a background pass does not take such an output alone again, and
  // PickNsPartners for when it takes it with the segments holding the
  // other records of its namespaces.
  //
  // The two records need not meet in one pass, though (review of
  // 2026-11-29): a create record goes alone once its drop record is
  // durable outside the inputs (in a sealed segment: every segment not
  // sealed holds only numbers above the drop's), the drop staying until
  // no segment outside holds any record of the namespace (the create
  // included), when it goes alone too and the namespace is forgotten.
  // Recovery then meets the drop (and perhaps key records) of an id
  // without its create record: the drop makes a dropped placeholder of it
  // (NamespaceTable::Drop), which raises the next id as a create would,
  // key records met before it are purged after the replay (Recover), and
  // those after it are dead. Until then both had to be inputs of one pass:
  // with the create records beside live values in one output and the drop
  // records beside live values in another, more than one output holds,
  // no pass ever took both (firkin_compact neither), and about 800 of
  // every 1,000 namespaces dropped that way stayed for good, in the table
  // and in the log (ns_churn_test split_full). The highest id among the
  // inputs' namespace records (creates and drops) stays, as before.
  if (!ns_records.empty()) {
    uint32_t top = 0;  // the highest id of a namespace record among the inputs
    std::unordered_map<uint32_t, std::pair<int, uint64_t>> seen;  // id -> (creates|drops bits, drop seq)
    for (const NsRecord& n : ns_records) {
      auto& e = seen[n.ns_id];
      top = std::max(top, n.ns_id);
      if (n.type == RecordType::kNsCreate) {
        e.first |= 1;
      } else {
        e.first |= 2;
        e.second = std::max(e.second, n.seq);
      }
    }
    ns_scans_left_ = exhaustive_ ? SIZE_MAX : kNsListScans;
    const bool top_may_go = top != 0 && HigherNamespaceOutside(outside, top);
    const uint64_t unsealed_min = MinUnsealedSeq(outside);
    std::unordered_set<uint32_t> gone, dropped, create_out;
    for (const auto& [id, e] : seen) {
      if (id == 0) continue;
      const NamespaceInfo* info = host_->ns_table().ById(id);
      if (info == nullptr || !info->dropped.load(std::memory_order_acquire)) continue;
      dropped.insert(id);
      if (id >= top && !top_may_go) continue;
      if (e.first == 1) {
        // The create alone: its drop outside, durable. (drop_seq is at or
        // above the drop record's number: 0 when not known.)
        const uint64_t drop_seq = info->drop_seq.load(std::memory_order_relaxed);
        if (drop_seq != 0 && drop_seq < unsealed_min) create_out.insert(id);
        continue;
      }
      // The drop, with its create or without: no record of the namespace
      // outside (a create record outside among them).
      if (!NamespaceGoneOutside(outside, id, e.second,
                                info->seg_floor.load(std::memory_order_relaxed))) {
        continue;
      }
      gone.insert(id);
    }
    std::unordered_set<uint32_t> kept_ids;
    for (const NsRecord& n : ns_records) {
      if (gone.count(n.ns_id) != 0) continue;
      if (n.type == RecordType::kNsCreate && create_out.count(n.ns_id) != 0) continue;
      plan->keep.push_back({n.rec, 0, 0, n.seg});
      plan->bytes += n.size;
      plan->ns_bytes += n.size;
      if (dropped.count(n.ns_id) != 0) {
        plan->ns_dead += n.size;
        kept_ids.insert(n.ns_id);
        if (n.type == RecordType::kNsCreate) plan->ns_kept_creates.push_back(n.ns_id);
      }
      plan->min_seq = std::min(plan->min_seq, n.seq);
    }
    plan->ns_kept_ids.assign(kept_ids.begin(), kept_ids.end());
    std::sort(plan->ns_kept_ids.begin(), plan->ns_kept_ids.end());
    plan->ns_gone.assign(gone.begin(), gone.end());
    for (uint32_t id : create_out) plan->creates_out |= gone.count(id) == 0;
    plan->ns_counted_dead = std::move(dropped);
  }
  plan->unread_superseded = unread_superseded;
  plan->s_min = s_min;
  FIRKIN_RETURN_IF_ERROR(VerifyMaybes(may_hold, &maybes, plan, &absent_max));
  NoteFilters();
  // Before anything the pass drops is gone: snapshots below s_min may need
  // the versions it drops (time_travel.cc, "History floors").
  host_->HistoryDropped(std::max(s_min, replaced_max), absent_max);
  return Status::OK();
}

Status Compactor::VerifyMaybes(const std::vector<std::shared_ptr<Segment>>& may_hold,
                               std::vector<Maybe>* maybes, Plan* plan, uint64_t* absent_max) {
  // Worth a scan of the segments that may hold them only when they are a
  // share of the output (kMaybeShare), or in firkin_compact: a filter's
  // false positive is the same for the key at every pass.
  uint64_t maybe_bytes = 0;
  for (const Maybe& m : *maybes) maybe_bytes += PeekRecord(plan->keep[m.keep].rec).size();
  if (maybes->empty() || (!exhaustive_ && maybe_bytes * kMaybeShare < plan->bytes)) {
    return Status::OK();
  }
  // The oldest number of each kept absent record's key in those segments.
  std::unordered_map<uint64_t, uint64_t> oldest;  // key hash -> smallest seq found
  for (const Maybe& m : *maybes) oldest.emplace(plan->keep[m.keep].hash, UINT64_MAX);
  const Keyspace& ks = *host_->keyspace();
  std::string kb;
  for (const auto& seg : may_hold) {
    // (Checksums checked, and sealed records of a segment not validated
    // yet authenticated: as the filters, this is proof of absence.)
    LogReader reader(seg->data(), kSegmentHeaderSize, seg->published_len(), /*checksums=*/true,
                     ks.AuthFor(*seg));
    RecordView r;
    uint64_t at;
    for (LogReader::Result res; (res = reader.Next(&r, &at)) != LogReader::Result::kEnd;) {
      if (res == LogReader::Result::kDamaged) return Status::OK();  // keep them all
      if (r.type != RecordType::kPut && r.type != RecordType::kDelete) continue;
      const std::string_view k = ks.Key(r, &kb);
      if (r.sealed() && k.size() != r.key_len) return Status::OK();
      auto it = oldest.find(ks.Hash(r.ns_id, k));
      if (it != oldest.end()) it->second = std::min(it->second, r.seq);
    }
  }
  // Those with no record of their key's hash below their own number in any
  // of them go (a hash shared with another key keeps it: never wrong).
  std::vector<bool> gone(plan->keep.size(), false);
  for (const Maybe& m : *maybes) {
    const Plan::Keep& k = plan->keep[m.keep];
    if (oldest[k.hash] < m.seq) continue;
    const RecordView r = PeekRecord(k.rec);
    plan->drops.push_back({k.hash, k.from, 0, static_cast<uint32_t>(r.size())});
    plan->drop_puts.push_back({r.ns_id, m.expiry});
    *absent_max = std::max(*absent_max, m.seq);
    plan->bytes -= r.size();
    plan->absent_kept -= r.size();
    gone[m.keep] = true;
  }
  size_t w = 0;
  plan->min_seq = UINT64_MAX;
  for (size_t i = 0; i < plan->keep.size(); i++) {
    if (gone[i]) continue;
    plan->min_seq = std::min(plan->min_seq, PeekRecord(plan->keep[i].rec).seq);
    plan->keep[w++] = plan->keep[i];
  }
  plan->keep.resize(w);
  return Status::OK();
}

namespace {
constexpr auto kMaxWriteStall = std::chrono::seconds(1);
constexpr uint64_t kStallMinSegments = 16;
}  // namespace

uint64_t Compactor::StallLimit(uint64_t live) const {
  const Options& o = host_->options();
  return std::max(live / 100 * o.write_stall_factor * o.compact_space_amp,
                  kStallMinSegments * o.segment_size);
}

void Compactor::SetStalled(bool on) {
  if (stalled_.load(std::memory_order_relaxed) == on) return;
  {
    std::lock_guard<std::mutex> l(stall_mu_);
    stalled_.store(on, std::memory_order_relaxed);
  }
  if (!on) stall_cv_.notify_all();
}

void Compactor::NoteLogGrew() {
  if (host_->options().write_stall_factor == 0) return;  // writes never wait
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!thread_.joinable() || stop_) return;  // no background compaction
  }
  uint64_t total = 0, live = 0;
  bool reclaimable = false;
  const uint64_t change_floor = host_->ChangeRetentionSegmentFloor();
  for (auto& s : host_->keyspace()->segments().List()) {
    const uint64_t bytes = s->published_len() - kSegmentHeaderSize;
    total += bytes;
    live += std::min(bytes, s->live_bytes());
    reclaimable |= s->dead_bytes() > 0 && Compactable(*s, change_floor);
  }
  if (total <= StallLimit(live) || !reclaimable) return;
  SetStalled(true);
  {
    std::lock_guard<std::mutex> l(mu_);
    poked_ = true;
  }
  cv_.notify_one();
}

void Compactor::WaitWhileStalled() {
  const auto start = std::chrono::steady_clock::now();
  {
    std::unique_lock<std::mutex> l(stall_mu_);
    stall_cv_.wait_for(l, kMaxWriteStall, [this] { return !stalled(); });
  }
  stats_.write_stalls.fetch_add(1, std::memory_order_relaxed);
  stats_.write_stall_us.fetch_add(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                            start)
          .count(),
      std::memory_order_relaxed);
}

void Compactor::Throttle(uint64_t bytes) {
  const uint64_t rate = host_->options().compact_rate;
  if (rate == 0 || bytes == 0 || behind_) return;
  auto pause = std::chrono::microseconds(bytes * 1000000 / rate);
  std::this_thread::sleep_for(pause);
}

std::string Compactor::ReplacedIds(const Plan& plan) const {
  // The inputs, and the inputs of those inputs that are compaction outputs
  // themselves, as far as those are still in the segment table. An input
  // whose index entries all moved to an output can stay in the table after
  // the pass (held while a snapshot may follow a version chain into it);
  // when that output is compacted in turn, the new output must name the
  // held segment too. It holds nothing the new output lacks for any
  // snapshot that can still pin both, and an iterator that pins both decides
  // from this list alone which one to scan: naming only the intermediate
  // output, which is gone by then, made it scan both and yield their
  // records twice (kill_test: 'iterator saw 1585 entries, 1375 live').
  // Each output's own list is already closed this way, so one level of
  // lookup is enough. Recovery removes every named segment it finds once
  // this output is complete, which is right for the held ones as well: only
  // in-process snapshots needed them.
  std::vector<uint64_t> named;
  for (const auto& s : plan.inputs) named.push_back(s->id());
  const SegmentTable& table = host_->keyspace()->segments();
  // ById reads the table's id directory, which a concurrent Add or Remove
  // replaces and frees through the epoch (found by TSan: a writer's index
  // growth reclaimed it under this loop).
  Epoch::Guard guard;
  for (const auto& s : plan.inputs) {
    if ((s->flags() & kSegmentFlagCompacted) == 0) continue;
    std::vector<uint64_t> inputs;
    if (!ReadCompactionInputs(s->data(), s->published_len(), &inputs)) {
      continue;  // BuildPlan read this input whole: it is not damaged
    }
    for (uint64_t in : inputs) {
      if (table.ById(in) != nullptr && std::find(named.begin(), named.end(), in) == named.end()) {
        named.push_back(in);
      }
    }
  }
  std::string ids;
  for (uint64_t in : named) PutU64(&ids, in);
  return ids;
}

size_t Compactor::SortForScans(Plan* plan) const {
  const Keyspace& ks = *host_->keyspace();
  if (!ks.HasOrdered()) return 0;
  // Sorted on (namespace, the key's first 8 bytes big-endian) in memory,
  // the whole keys compared only on a tie: the records themselves are read
  // once, in plan order.
  struct Entry {
    uint32_t ns;
    uint64_t prefix;
    uint32_t at;  // index into plan->keep
  };
  OrderedLookup ordered(ks);
  std::vector<Entry> sorted;
  std::vector<Plan::Keep> rest;
  rest.reserve(plan->keep.size());
  for (size_t i = 0; i < plan->keep.size(); i++) {
    const Plan::Keep& k = plan->keep[i];
    const RecordView r = PeekRecord(k.rec);
    const bool data = r.type == RecordType::kPut || r.type == RecordType::kDelete;
    if (!data || r.sealed() || !ordered(r.ns_id)) {
      rest.push_back(k);
      continue;
    }
    const std::string_view key = r.key();
    uint64_t prefix = 0;
    for (size_t b = 0; b < 8; b++) {
      prefix = prefix << 8 | (b < key.size() ? static_cast<uint8_t>(key[b]) : 0);
    }
    sorted.push_back({r.ns_id, prefix, static_cast<uint32_t>(i)});
  }
  if (sorted.size() < 2) return sorted.size();
  const std::vector<Plan::Keep>& keep = plan->keep;
  std::stable_sort(sorted.begin(), sorted.end(), [&](const Entry& a, const Entry& b) {
    if (a.ns != b.ns) return a.ns < b.ns;
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    // Equal first 8 bytes: the keys decide (versions of one key keep their
    // plan order; recovery orders them by sequence number anyway).
    return PeekRecord(keep[a.at].rec).key() < PeekRecord(keep[b.at].rec).key();
  });
  for (const Entry& e : sorted) rest.push_back(keep[e.at]);
  plan->keep.swap(rest);
  return sorted.size();
}

uint8_t Compactor::KeyOrderOf(Segment* s) {
  const uint8_t known = s->key_order.load(std::memory_order_relaxed);
  if (known != Segment::kKeyOrderUnknown) return known;
  OrderedLookup ordered(*host_->keyspace());
  std::vector<std::pair<uint32_t, std::string>> last;  // per ordered namespace met
  uint8_t order = Segment::kKeyOrderNone;
  // Every checksum (as BuildPlan's scan): a damaged length would make the
  // order read here that of records that are not there.
  LogReader reader(s->data(), kSegmentHeaderSize, s->published_len(), /*checksums=*/true);
  RecordView r;
  uint64_t at;
  for (LogReader::Result res; order != Segment::kKeyOrderUnsorted &&
                              (res = reader.Next(&r, &at)) != LogReader::Result::kEnd;) {
    // Damage: left as it is (BuildPlan reports it when a pass takes it).
    if (res == LogReader::Result::kDamaged) {
      NoteDamaged(s);
      return Segment::kKeyOrderNone;
    }
    if ((r.type != RecordType::kPut && r.type != RecordType::kDelete) || r.sealed() ||
        !ordered(r.ns_id)) {
      continue;
    }
    order = Segment::kKeyOrderSorted;
    auto it = std::find_if(last.begin(), last.end(),
                           [&](const auto& e) { return e.first == r.ns_id; });
    if (it == last.end()) {
      last.emplace_back(r.ns_id, std::string(r.key()));
    } else if (r.key() < std::string_view(it->second)) {
      order = Segment::kKeyOrderUnsorted;
    } else {
      it->second.assign(r.key().data(), r.key().size());
    }
  }
  // Only a sealed segment's answer is final (the active one grows).
  if (s->sealed.load(std::memory_order_acquire)) {
    s->key_order.store(order, std::memory_order_relaxed);
  }
  return order;
}

uint64_t Compactor::ClusterBytes() const {
  return std::min<uint64_t>(4 * host_->options().segment_size, Options::kMaxSegmentSize);
}

std::vector<std::vector<std::shared_ptr<Segment>>> Compactor::PickClusters() {
  if (!host_->keyspace()->HasOrdered()) return {};
  const uint64_t change_floor = host_->ChangeRetentionSegmentFloor();
  const uint64_t limit = ClusterBytes();
  // Every compactable segment with records of an ordered namespace, except
  // a sorted one of at least half a group (a settled run: merging it again
  // would rewrite it on every full compaction of a large database).
  std::vector<std::shared_ptr<Segment>> cand;
  for (auto& s : host_->keyspace()->segments().List()) {
    if (!Compactable(*s, change_floor)) continue;
    const uint8_t order = KeyOrderOf(s.get());
    if (order == Segment::kKeyOrderNone) continue;
    if (order == Segment::kKeyOrderSorted && s->published_len() >= limit / 2) continue;
    cand.push_back(s);
  }
  std::sort(cand.begin(), cand.end(), [](const auto& a, const auto& b) { return a->id() < b->id(); });
  std::vector<std::vector<std::shared_ptr<Segment>>> groups;
  std::vector<std::shared_ptr<Segment>> group;
  uint64_t bytes = 0;
  auto close = [&] {
    // A group of one sorted segment has nothing to merge.
    if (group.size() > 1 ||
        (group.size() == 1 && KeyOrderOf(group[0].get()) == Segment::kKeyOrderUnsorted)) {
      groups.push_back(group);
    }
    group.clear();
    bytes = 0;
  };
  for (auto& s : cand) {
    const uint64_t b = s->published_len();
    if (!group.empty() && bytes + b > limit) close();
    group.push_back(s);
    bytes += b;
  }
  close();
  return groups;
}

Status Compactor::WriteOutput(Plan* plan) {
  Env* env = host_->env();
  const uint64_t id = host_->AllocateSegmentId();
  if (id > kMaxSegmentId) return Status::NoSpace("segment ids exhausted");
  const std::string ids = ReplacedIds(*plan);
  const uint64_t marker = RecordSize(0, ids.size());
  // The done marker carries the inputs' newest commit time (when any had one).
  const uint64_t done_marker = RecordSize(0, ids.size(), plan->max_time != 0 ? 8 : 0);
  const uint64_t markers = marker + done_marker;
  const uint64_t len = kSegmentHeaderSize + plan->bytes + markers;
  if (len > kMaxSegmentBytes) return Status::TooLarge("compaction output too large");
  // Written under a temporary name that recovery never reads as a segment
  // (it removes it), made durable, and only then named: a named output is
  // complete, whatever order its pages reached the disk in (issue 9, 6b).
  // Written with appends from a staging buffer, not through a writable
  // mapping: the page cache then takes whole pages (no zero-filled fresh
  // page per fault) and the sync write-protects no page-table entries (a
  // TLB shootdown per page on every core running the process, which was
  // the largest kernel cost of compaction under updates).
  const std::string path = host_->dir() + "/" + SegmentFileName(id);
  const std::string tmp = path + ".tmp";
  std::unique_ptr<WritableFile> wf;
  FIRKIN_RETURN_IF_ERROR(env->NewWritableFile(tmp, &wf));
  auto fail = [&](Status st) {
    if (wf != nullptr) wf->Close();
    wf.reset();
    env->RemoveFile(tmp);
    return st;
  };
  SegmentHeader h;
  h.segment_id = id;
  h.db_id = host_->db_id();
  h.flags = kSegmentFlagCompacted;
  // Version 8: its markers have the short layout, and so do the copies of
  // short records (a long record's copy stays long: sizes are as planned).
  h.format_version = kFormatVersionShort;
  const RecordCodec& codec = host_->keyspace()->codec();
  if (codec.sealing()) {  // a fresh salt: the copies are sealed anew (new nonces)
    h.flags |= kSegmentFlagSalted;
    Status rs = RandomBytes(&h.salt, sizeof h.salt);
    if (!rs.ok()) return fail(rs);
  }
  // The staging buffer holds the bytes from `flushed` (a 2 MiB boundary)
  // on; they go out in whole aligned 2 MiB pieces. A write of a whole
  // aligned 2 MiB lets the page cache keep it as one large folio, and the
  // read-only mapping of the output then maps it with one page-table entry
  // (FilePmdMapped in smaps, ext4 on Linux 6.18): a random read of a
  // compacted record misses the TLB less (1-byte reads over 64 MiB: 23.5 ns
  // against 31 with 4 KiB pages). Written in 1 MiB pieces, the folios were
  // small. Record sizes do not change when re-encoded, so the length (and
  // the header's durability watermark, written first) is known now; the
  // end checks it.
  constexpr uint64_t kChunk = 2u << 20;
  std::string buf(kSegmentHeaderSize, '\0');
  EncodeSegmentHeader(h, &buf[0]);
  EncodeDurableLen(&buf[0], len);
  uint64_t flushed = 0;
  auto room = [&](uint64_t pos, size_t n) -> char* {
    if (buf.size() < pos - flushed + n) buf.resize(pos - flushed + n);
    return &buf[pos - flushed];
  };
  auto flush = [&](uint64_t pos, bool all) -> Status {
    const uint64_t upto = all ? pos : pos & ~(kChunk - 1);
    if (upto <= flushed) return Status::OK();
    const size_t n = upto - flushed;
    FIRKIN_RETURN_IF_ERROR(wf->Append(std::string_view(buf.data(), n)));
    buf.erase(0, n);
    flushed = upto;
    return Status::OK();
  };
  const uint64_t mseq = plan->min_seq == UINT64_MAX ? 1 : plan->min_seq;
  uint64_t pos = kSegmentHeaderSize;
  // Its prev field carries the history floor (no record has a prev
  // there): the next open reads it back (DB::LoadHistoryFloors). The pass
  // raised the floor for what it drops (BuildPlan) before this.
  std::string inputs_rec(marker, '\0');
  EncodeRecord({mseq, host_->HistoryFloor(), 0, RecordType::kCompactInputs, 0, {}, ids},
               &inputs_rec[0]);
  // Its prev field carries the highest sequence number of any record the
  // inputs held (kept or dropped): recovery takes it into the last number,
  // so numbers never go back when the pass dropped the log's newest
  // records with nothing after them (a tombstone and its put, say) and the
  // process then died before a checkpoint (until 2026-11-27 the next open
  // handed those numbers out again: found by review).
  // Its commit time is the newest of any record the inputs held (kept or
  // dropped, their own done markers included): an open takes the database
  // clock from it (DB::NewestCommitTime), so the clock never goes back when
  // the pass dropped or moved the log's newest commits and the system clock
  // was then set back (before the fifth outside review, expired keys read as live again).
  std::string done_rec(done_marker, '\0');
  EncodeRecord({mseq, plan->max_seq, 0, RecordType::kCompactDone, 0, {}, ids, plan->max_time},
               &done_rec[0]);
  // Encrypted: both records' MAC in the watermark page (written first, with
  // the header), so that someone without the key cannot change the time,
  // the highest number or the history floor (docs/format.md,
  // "Authenticated header values").
  if (codec.sealing()) EncodeDoneMac(&buf[0], inputs_rec, len - done_marker, done_rec, codec.cipher());
  std::memcpy(room(pos, marker), inputs_rec.data(), marker);
  pos += marker;
  uint64_t since_throttle = 0;
  uint64_t min_expiry = UINT64_MAX;
  const uint64_t now_ms = plan->horizon;
  plan->out_locs.clear();
  const bool ordered_records = SortForScans(plan) > 0;
  std::string plain, sealed;
  for (const Plan::Keep& k : plan->keep) {
    RecordView r = PeekRecord(k.rec, k.seg);
    plan->out_locs.push_back(pos);  // offsets for now; locators once a slot is known
    // A batch record is re-encoded with its batch flag cleared: the batch
    // is committed. The value is copied as stored (a compressed one stays
    // compressed, with its codec flag). A sealed record is opened
    // (authenticated: damage stops the pass) and sealed again at its new
    // place, under the output's salt: a nonce is never reused.
    if (r.sealed()) {
      Status os = codec.Open(r, &plain);
      if (!os.ok()) return fail(os);
      sealed.resize(r.size());
      EncodeRecord({r.seq, r.prev, r.ns_id, r.type,
                    static_cast<uint8_t>((r.flags & kRecordFlagsCodec) | kRecordFlagSealed),
                    std::string_view(plain.data(), r.key_len),
                    std::string_view(plain.data() + r.key_len, r.value_len), r.time(),
                    r.expiry(), 0, !r.short_header()},
                   &sealed[0]);
      codec.SealAt(sealed.data(), room(pos, r.size()), h.salt, static_cast<uint32_t>(pos));
      pos += r.size();
    } else if (!r.is_batch() && r.counter() == 0) {
      // Nothing changes at the new place (a plain record holds no offset
      // and its flags stay as they are): the bytes are copied as they are,
      // checksum included, with no second checksum computed. Damage that
      // came after the scan validated it stays detectable, where a
      // re-encoding would have covered it with a fresh checksum.
      std::memcpy(room(pos, r.size()), r.base, r.size());
      pos += r.size();
    } else {
      // A batch record (its batch flag cleared: the batch is committed), or
      // a record updated in place (its counter back to 0: outputs say no
      // kSegmentFlagInPlace, and nothing overwrites it there). The counter
      // was what told reads that the versions between its prev and itself
      // are gone: its prev now says so (kPrevReplaced). Until 2026-11-27 it
      // kept the old prev, and a snapshot read between the two took the
      // older version behind it for its answer (a stale value).
      const bool replaced = r.counter() != 0;
      pos += EncodeRecord({r.seq, replaced ? kPrevReplaced : r.prev, r.ns_id, r.type,
                           static_cast<uint8_t>(r.flags & kRecordFlagsCodec), r.key(), r.value(),
                           r.time(), r.expiry(), 0, !r.short_header()},
                          room(pos, r.size()));
    }
    // Only a future expiry: an expired record kept here (an older version
    // elsewhere may still need it to shadow it) waits for a compaction
    // with another reason, or this segment would be picked again at once.
    if (r.expiry() > now_ms) min_expiry = std::min(min_expiry, r.expiry());
    since_throttle += r.size();
    if (since_throttle >= kChunk) {
      Status fs = flush(pos, false);
      if (!fs.ok()) return fail(fs);
      Throttle(since_throttle);
      since_throttle = 0;
    }
  }
  Throttle(since_throttle);
  // The done marker (encoded above, with its MAC).
  std::memcpy(room(pos, done_marker), done_rec.data(), done_marker);
  pos += done_marker;
  if (pos != len) {
    return fail(Status::Corruption("compaction output is " + std::to_string(pos) +
                                   " bytes, planned " + std::to_string(len)));
  }
  Status s = flush(pos, true);
  if (s.ok()) s = wf->Sync();  // fdatasync: the output is durable
  if (s.ok()) s = wf->Close();
  // A named output replaces its inputs (recovery finishes the pass): what
  // superseded the records it dropped must be durable first.
  if (s.ok()) s = AwaitDurable(plan->durable_at);
  if (!s.ok()) return fail(s);
  wf.reset();
  std::unique_ptr<MappedFile> file;
  if (s.ok()) s = env->RenameFile(tmp, path);
  if (s.ok()) s = env->SyncDir(host_->dir());
  // Mapped again under its final name (read-only: it is sealed), so that
  // the segment's path is the one it will be removed by.
  if (s.ok()) s = env->OpenMappedFile(path, false, &file);
  if (!s.ok()) {
    file.reset();
    env->RemoveFile(tmp);
    env->RemoveFile(path);
    env->SyncDir(host_->dir());
    return s;
  }
  uint32_t slot = 0;
  s = host_->keyspace()->segments().AllocateSlot(&slot);
  if (!s.ok()) {
    file.reset();
    env->RemoveFile(path);
    env->SyncDir(host_->dir());
    return s;
  }
  auto out = std::make_shared<Segment>(id, slot, std::move(file), pos, h.flags);
  out->sealed.store(true);
  // Its records are the plan's, each validated (checksum included) when
  // the inputs were scanned, or written by this pass.
  out->checked.store(true);
  // Sorted by SortForScans (sealed records have no readable key: "none").
  out->key_order.store(ordered_records ? Segment::kKeyOrderSorted : Segment::kKeyOrderNone);
  out->synced_len = pos;
  out->min_seq.store(mseq);  // (the first record's; see below for an empty output)
  out->min_expiry.store(min_expiry);
  if (plan->keep.empty()) {
    // Kept nothing: the output records the inputs that go as one (with
    // the tombstones the pass dropped) and the history floor. It holds no
    // version, so it never holds back another segment's tombstones. Never
    // picked alone (counted live): every later pass takes it along and
    // retires it (MarkerOnly), and its own output records the floor again.
    // Until 2026-11-27 it was counted dead and picked alone, and a pass
    // that kept and dropped nothing wrote no output: the floor it raised
    // would have been lost at the next open.
    Keyspace::SetCounts(out.get(), markers, 0);
    out->min_seq.store(UINT64_MAX);
  } else {
    // Bookkeeping (never reclaimable alone) and the namespace records it
    // kept, which no index entry stands for (the moves count the rest), as
    // the replay counts them. (Until 2026-11-27 those were counted neither
    // live nor dead.)
    // A dropped namespace's records that stay count dead (BuildPlan).
    Keyspace::SetCounts(out.get(), markers + plan->ns_bytes - plan->ns_dead, plan->ns_dead);
  }
  for (Locator& l : plan->out_locs) l = MakeLocator(slot, l);
  plan->output = out;  // published by RunPass, under the retire mutex
  stats_.bytes_written.fetch_add(pos, std::memory_order_relaxed);
  return Status::OK();
}

Status Compactor::AwaitDurable(const LogPosition& p) {
  const auto deadline = std::chrono::steady_clock::now() + kDurablePatience;
  for (;;) {
    if (host_->LogDurable(p)) {
      stats_.durable_waits.fetch_add(1, std::memory_order_relaxed);
      return Status::OK();
    }
    if (!patient_ || stopping_.load(std::memory_order_relaxed) || stalled() ||
        std::chrono::steady_clock::now() >= deadline) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  stats_.log_syncs.fetch_add(1, std::memory_order_relaxed);
  return host_->SyncAll();
}

bool Compactor::MarkerOnly(const Segment& s) {
  return (s.flags() & kSegmentFlagCompacted) != 0 &&
         s.min_seq.load(std::memory_order_relaxed) == UINT64_MAX &&
         s.sealed.load(std::memory_order_acquire);
}

bool Compactor::SmallReclaimable(const Segment& s) const {
  return (s.flags() & kSegmentFlagCompacted) != 0 && s.sealed.load(std::memory_order_acquire) &&
         s.published_len() - kSegmentHeaderSize <= kRiderBytes &&
         !s.compact_hold.load(std::memory_order_relaxed) && s.dead_bytes() > 0 &&
         !KnownDamaged(s);
}

Status Compactor::RunPass(std::vector<std::shared_ptr<Segment>> inputs) {
  partner_gen_ = partner_gen_next_;  // (PickNsPartners: this pass's, if any)
  partner_gen_next_ = 0;
  // A pass changes the index, the counts, the files and the segment table
  // in steps: an allocation failing between them fails the log
  // (CompactionHost::FailOutOfMemory), and a reopen recovers from the
  // files, as after a crash in the pass (until 2026-11-29 the exception
  // ended the process from the background thread; oom_test).
  try {
    return RunPassSteps(std::move(inputs));
  } catch (const std::bad_alloc&) {
    return host_->FailOutOfMemory("during a compaction pass");
  }
}

Status Compactor::RunPassSteps(std::vector<std::shared_ptr<Segment>> inputs) {
  // Riders: segments that go along with every pass, never its reason.
  // The outputs that kept no record: never picked alone (WriteOutput), so
  // at most a few are ever there. And small outputs with dead bytes
  // (SmallReclaimable), above all those kept only for dropped namespaces'
  // create and drop records: a pass that takes the segment holding the
  // other record of such a namespace (or the last other one holding a
  // record of it, or a record of a higher id) then has both records among
  // its inputs and leaves them out, whatever made it run. Until the second
  // fix of 2026-11-29 such an output waited to be picked on its own: one
  // that kept one namespace's two records beside its two markers was never
  // picked in the background (under compact_dead_ratio), so every pass
  // under churn left one behind for good; and two that each held one
  // record of a namespace (its create, its drop) never met in one pass:
  // each was under the ratio, or was picked alone (after some other
  // segment retired) and kept its record again.
  // Merged into every pass, few of them are there at any time; they are
  // told by their size and dead bytes, so after a reopen too. (At most
  // kRidersPerPass bytes of them a pass: a pass stays about one output.)
  std::vector<const Segment*> riders;
  uint64_t rider_bytes = 0;
  for (auto& s : host_->keyspace()->segments().List()) {
    const bool marker_only = MarkerOnly(*s);
    if (!marker_only && (rider_bytes >= kRidersPerPass || !SmallReclaimable(*s))) continue;
    if (std::find(inputs.begin(), inputs.end(), s) != inputs.end()) continue;
    if (!marker_only) rider_bytes += s->published_len() - kSegmentHeaderSize;
    inputs.push_back(s);
    riders.push_back(s.get());
  }
  // (Riders alone are no reason for a pass.)
  auto only_riders = [&inputs, &riders] {
    for (const auto& s : inputs) {
      if (std::find(riders.begin(), riders.end(), s.get()) == riders.end()) return false;
    }
    return true;
  };
  if (only_riders()) return Status::OK();
  Plan plan;
  int replans = 0;
  for (;;) {
    plan = Plan();
    Status s = BuildPlan(inputs, &plan);
    if (!s.ok()) {
      if (!stopping_.load(std::memory_order_relaxed)) stats_.failures.fetch_add(1);
      return s;
    }
    if (!plan.needs_snapshot) {
      // The plan dropped every input record whose key had a newer version
      // in the index when BuildPlan looked; those newer versions may still
      // sit in the unsynced active segment, some not even published yet.
      // They must be durable before the output is named (recovery finishes
      // a compaction whose output is complete by removing its inputs) and
      // before the inputs go, or a power failure loses both; a read-only
      // process, which reads the log only up to its durability watermark,
      // would find neither. So the position to make durable is taken after
      // the plan, never before it; it covers every write in flight, which
      // publishes first. The wait for it (AwaitDurable) comes only before
      // the output is named: the output is written meanwhile.
      plan.durable_at = host_->PublishInFlight();
      // A snapshot registered during the scan, older than a version the
      // plan treated as superseded for everyone: plan again (the snapshot
      // is seen now). One registered from here on starts at the published
      // number, past every such version. The successors of the versions
      // dropped (unread_superseded) were published by PublishInFlight at
      // the latest, so the published number read now bounds them (read before
      // OldestSnapshot, which without a snapshot is the published number).
      const uint64_t after = plan.unread_superseded ? host_->LastSeq() : 0;
      if (after != 0 && host_->OldestSnapshot() < after) {
        if (++replans > 3) return Status::OK();  // snapshots come and go: later
        continue;
      }
      // The successors of the versions dropped unread may be above s_min:
      // a snapshot below them may need those versions (the floor covers
      // them before anything changes). No snapshot is below `after` now,
      // and one registered from now on is not either.
      if (after != 0) host_->HistoryDropped(after, 0);
      break;
    }
    // A live snapshot still sees an old version in this input: leave it
    // (held until a snapshot is released).
    stats_.segments_skipped.fetch_add(1);
    HoldFor(plan.needs_snapshot.get(), plan.s_min);
    inputs.erase(std::find(inputs.begin(), inputs.end(), plan.needs_snapshot));
    if (only_riders()) return Status::OK();  // (they wait for the next pass)
  }
  stats_.runs.fetch_add(1, std::memory_order_relaxed);
  stats_.bytes_read.fetch_add(plan.read, std::memory_order_relaxed);
  // (A pass that keeps and drops nothing, every record of its inputs
  // superseded by a version outside them, writes an output of its two
  // markers too: the floor it raised must reach the next open.)
  Status s = WriteOutput(&plan);
  if (!s.ok()) {
    stats_.failures.fetch_add(1);
    return s;  // the inputs are untouched
  }

  // Publishing the output and retiring the inputs happen under the host's
  // retire mutex, so an online backup never lists a set of segments that a
  // pass is in the middle of replacing, nor loses a listed file under it.
  std::lock_guard<std::mutex> retire(host_->retire_mutex());
  host_->keyspace()->segments().Add(plan.output);
  MoveCreateCopies(plan);

  // Move index entries (one sub-table lock at a time).
  std::vector<Relocation> moves;
  for (size_t i = 0; i < plan.keep.size(); i++) {
    if (plan.keep[i].from == 0) continue;
    moves.push_back({plan.keep[i].hash, plan.keep[i].from, plan.out_locs[i],
                     static_cast<uint32_t>(PeekRecord(plan.keep[i].rec).size())});
  }
  moves.insert(moves.end(), plan.drops.begin(), plan.drops.end());
  // An expired put that leaves the index was its key's newest record: the
  // key's counts go (a delete's were gone already), under the key's lock
  // and before its entry goes (Relocate's before_remove). Until a review's
  // probe (firkin_count above the keys that could exist, 2141 of at most
  // 2114) they went after the whole Relocate: a count that walked the
  // index in between and found no TTL key left raised the expiry bound
  // past now, and the counts after it took the counter, which still held
  // the keys gone (and the re-puts of those keys, each counted again):
  // every expired key the pass dropped counted as live for a while. (The
  // namespaces are looked up first: ById takes the table's mutex, not
  // taken under a sub-table lock anywhere.)
  const size_t first_drop = moves.size() - plan.drops.size();
  std::vector<NamespaceInfo*> drop_ns(plan.drop_puts.size(), nullptr);
  for (size_t i = 0; i < plan.drop_puts.size(); i++) {
    if (plan.drop_puts[i].expiry != 0) drop_ns[i] = host_->ns_table().ById(plan.drop_puts[i].ns_id);
  }
  const uint64_t failed =
      host_->keyspace()->Relocate(moves.data(), moves.size(), [&](size_t m) {
        if (m < first_drop) return;  // (only drops remove)
        if (NamespaceInfo* info = drop_ns[m - first_drop]) {
          info->AccountNewest(true, plan.drop_puts[m - first_drop].expiry, false, 0);
        }
      });
  stats_.tombstones_dropped.fetch_add(plan.drops.size(), std::memory_order_relaxed);

  // A record superseded while we copied it left a newer record whose
  // version chain points into an input; keep the inputs while a snapshot
  // might follow that chain. The newer record may still be in flight (not
  // published): let it publish first, so that no snapshot taken from now
  // on is older than it. The published number is read before the oldest
  // snapshot: with none registered, OldestSnapshot() is the published
  // number at its own (later) call, so writers that go on meanwhile do not
  // make an input look needed (it was then held until some snapshot was
  // released, which a workload without snapshots never does: its space was
  // never reclaimed). Published, not durable: the output keeps the version
  // that newer record replaced, so a power loss that takes the newer one
  // leaves that version (a sync here froze the active segment after almost
  // every pass under YCSB A: every record below its tail then appended on
  // its next update instead of being updated in place).
  if (failed > 0) host_->PublishInFlight();
  const uint64_t published = host_->LastSeq();
  if (failed > 0 && host_->OldestSnapshot() < published) {
    for (auto& in : plan.inputs) HoldFor(in.get(), published - 1);
    return Status::OK();
  }
  inputs.clear();
  std::vector<uint64_t> retired_ids;
  for (const auto& in : plan.inputs) retired_ids.push_back(in->id());
  const Status rs = RetireInputs(&plan, plan.output->published_len());
  // No segment holds a record of these namespaces now (the output was
  // synced before the inputs went; an input whose file could not be
  // removed is an input of a present output, which the next open removes
  // first): the table lets them go (handles still hold theirs).
  for (uint32_t id : plan.ns_gone) host_->ForgetNamespace(id);
  stats_.namespaces_forgotten.fetch_add(plan.ns_gone.size(), std::memory_order_relaxed);
  // Create records it left out alone: their drop records lie outside, in
  // an output of ns_kept_ or in a segment no pass knows (a log segment
  // beside live values, which no pass takes for its dead ratio): until
  // 2026-11-29 those namespaces stayed held for good, 200 more a round
  // (ns_churn_test top_rounds). SeedNsKept finds them.
  if (plan.creates_out) ns_seed_pending_ = true;
  // Its kept tombstones and expired puts: the sweep looks at them again
  // once other segments retire or the oldest snapshot moves (this pass
  // asked about them with everything else as it is now).
  // Its kept namespace records: a background pass takes it again only
  // once some other segment retired, or its dead bytes grew (PickCandidates).
  // (Only the retirement of a segment that was not itself such an output
  // counts: two of them would otherwise let each other go in turn, and
  // an idle database rewrote both about 500 times a second for good;
  // found by a review.)
  for (uint64_t id : retired_ids) {
    auto k = ns_kept_.find(id);
    if (k == ns_kept_.end() || k->second.seeded) ns_progress_++;
    if (k != ns_kept_.end()) ns_kept_.erase(k);
  }
  if (plan.ns_dead > 0) {
    ns_kept_[plan.output->id()] =
        NsKept{ns_progress_, plan.ns_dead, std::move(plan.ns_kept_ids), partner_gen_,
               std::move(plan.ns_kept_creates)};
  }
  if (plan.absent_kept > 0) {
    absent_kept_[plan.output->id()] =
        AbsentKept{stats_.segments_retired.load(std::memory_order_relaxed), plan.s_min, UINT64_MAX};
  }
  return rs;
}

void Compactor::HoldFor(Segment* seg, uint64_t needed_at) {
  // The release of a snapshot clears the holds set before it
  // (SegmentTable::ReleaseHolds, after the snapshot left the set under
  // the snapshot mutex), and only those: one released after the pass read
  // the oldest snapshot and before this hold found nothing to clear. So
  // the hold is set first, then the snapshots are read again (under that
  // mutex): a release that came before this read is seen here, and the
  // hold is cleared at once (the next pass looks at the segment again);
  // one that comes after it sees the hold (holds_ set before the read,
  // the read before its erase) and clears it. Until 2026-11-29 the hold
  // of a segment whose snapshot went during the pass stayed for good: no
  // pass, background or firkin_compact, took the segment again until a
  // reopen (compact_hold_test).
  SegmentTable& segs = host_->keyspace()->segments();
  segs.Hold(seg);
  if (!host_->HasSnapshots() || host_->OldestSnapshot() > needed_at) {
    seg->compact_hold.store(false, std::memory_order_relaxed);
  }
}

void Compactor::MoveCreateCopies(const Plan& plan) {
  // The create records the output kept: the copy that counts live is the
  // output's from now on (NamespaceInfo::create_loc), before the inputs
  // retire and hand their slots on. A namespace dropped since the plan
  // (under the retire mutex, which is held here: the drop counted the
  // input's copy dead) has its copy in the output counted dead now, as the
  // plan would have counted it; one dropped before the plan is counted
  // dead there already (ns_dead).
  Keyspace* ks = host_->keyspace();
  const uint64_t out_id = plan.output->id();
  for (size_t i = 0; i < plan.keep.size(); i++) {
    if (plan.keep[i].from != 0) continue;  // (namespace records have none)
    const RecordView r = PeekRecord(plan.keep[i].rec);
    if (r.type != RecordType::kNsCreate || plan.ns_counted_dead.count(r.ns_id) != 0) continue;
    NamespaceInfo* info = host_->ns_table().ById(r.ns_id);
    if (info == nullptr) continue;
    const uint32_t size = static_cast<uint32_t>(r.size());
    if (info->dropped.load(std::memory_order_acquire)) {
      uint64_t loc = 0, seg = 0;
      uint32_t old_size = 0;
      info->TakeCreateCopy(&loc, &seg, &old_size);  // (an input's, if the drop left one)
      ks->CountDeadIn(plan.out_locs[i], out_id, size);
    } else {
      info->SetCreateCopy(plan.out_locs[i], out_id, size);
    }
  }
}

Status Compactor::RetireInputs(Plan* plan, uint64_t written) {
  Status s;
  uint64_t reclaimed = 0;
  // The last references of this thread to the inputs go as each is
  // retired, before the directory sync below (milliseconds behind the
  // disk's queue): the segment pool reuses a file only once its Segment is
  // gone, and the log writer looks for one while this pass is still
  // running. Held until the pass returned, they made about a third of the
  // rolls of YCSB A at 2 threads take a fresh file instead.
  std::vector<std::shared_ptr<Segment>> inputs = std::move(plan->inputs);
  plan->inputs.clear();
  const size_t retired = inputs.size();
  for (auto& in : inputs) {
    reclaimed += in->published_len();
    host_->keyspace()->segments().Remove(in->id());
    Status rs = host_->RetireSegmentFile(in, plan->max_seq);
    if (!rs.ok()) s = rs;
    in.reset();
  }
  Status ds = host_->env()->SyncDir(host_->dir());
  if (s.ok()) s = ds;
  stats_.segments_retired.fetch_add(retired, std::memory_order_relaxed);
  stats_.bytes_reclaimed.fetch_add(reclaimed > written ? reclaimed - written : 0,
                                   std::memory_order_relaxed);
  return s;
}

}  // namespace firkin
