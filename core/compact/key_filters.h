// SegmentKeyFilters: which sealed segments may hold a record of a key, for
// compaction's tombstone drops (docs/format.md, "Compaction outputs": the
// drop rule).
//
// A tombstone (or an expired put) of a key may leave the log only once no
// older record of that key is left outside its pass: recovery would
// otherwise replay that record and bring the key back. Sequence ranges
// alone tell it only when no segment outside the pass holds an older
// number at all, so one long-lived cold segment pinned every newer
// tombstone of every key, whether it held that key or not (a queue of
// unique keys, put then deleted, grew its log by one tombstone per job for
// good). A Bloom filter over the key hashes of every record a sealed
// segment holds (superseded, dead and tombstones included: what recovery
// would read) tells that it holds no record of a key for sure, so the
// tombstone may go.
//
// A sealed segment never changes (in-place updates happen only in the
// active one), so its filter is built once, by a scan, when first asked
// for, and kept while the segment lives: about 10 bits per record, built
// only for segments that pin a tombstone.
//
// The same scan keeps the namespace ids the segment's records carry (a
// sorted list: a few per segment, one per create-and-drop cycle at worst),
// so that a pass may drop a dropped namespace's create and drop records
// once no other segment holds a record of it (SurelyLacksNamespace). A
// segment asked only about namespaces gets the list alone (a scan that
// hashes no key, and no filter's 10 bits a record): a dropped namespace
// is asked of every segment that may hold its records, cold ones of live
// data included, which no tombstone may ever ask.
//
// Thread contract: not thread-safe; the compactor uses it under its run
// mutex only.
#ifndef FIRKIN_CORE_COMPACT_KEY_FILTERS_H_
#define FIRKIN_CORE_COMPACT_KEY_FILTERS_H_

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "core/util/status.h"

namespace firkin {

class Keyspace;
class Segment;

// A Bloom filter over 64-bit key hashes (KeyHash): no false negatives; about
// 1% false positives at 10 bits a key.
class KeyFilter {
 public:
  explicit KeyFilter(const std::vector<uint64_t>& hashes);
  bool MayContain(uint64_t hash) const;
  size_t bytes() const { return bits_.size() * 8; }

 private:
  static constexpr int kProbes = 7;
  std::vector<uint64_t> bits_;
};

class SegmentKeyFilters {
 public:
  explicit SegmentKeyFilters(const Keyspace* ks) : ks_(ks) {}

  // Whether `seg` holds no record of the key with this hash, for sure:
  // false if it may hold one, or if it cannot be told (the segment is not
  // sealed, or it failed to read: damage is reported by the pass that
  // takes it as an input). Builds the segment's filter on first use (its
  // namespace list with it; again if only the list was made).
  bool SurelyLacks(const std::shared_ptr<Segment>& seg, uint64_t hash);

  // Whether `seg` holds no record of namespace `ns_id` (of any type), for
  // sure: false if it may, or if it cannot be told (as SurelyLacks).
  // Makes the segment's namespace list on first use (no key filter).
  bool SurelyLacksNamespace(const std::shared_ptr<Segment>& seg, uint32_t ns_id);

  // Whether seg's namespace list is made, or seg was found unreadable
  // (SurelyLacksNamespace and HighestNamespace then scan nothing).
  bool HasNamespaces(const std::shared_ptr<Segment>& seg) const;

  // The highest namespace id of any record `seg` holds (of any type), for
  // sure; 0 if it holds none or it cannot be told (as SurelyLacks).
  // Makes the segment's namespace list on first use (no key filter).
  uint32_t HighestNamespace(const std::shared_ptr<Segment>& seg);

  // Whether seg has a filter (SurelyLacks built one that can tell).
  bool Filterable(const std::shared_ptr<Segment>& seg) const;

  // Forgets the filters of segments no longer alive (weak references
  // expired), e.g. after a pass retired its inputs.
  void Prune();

  uint64_t built() const { return built_; }  // scans made (filters and lists)
  uint64_t bytes() const { return bytes_; }  // of the filters held

 private:
  struct Entry {
    std::weak_ptr<Segment> seg;
    // Whether the scan read every record (false: damage, or a sealed key
    // that did not open: nothing can be told of the segment).
    bool read = false;
    bool with_filter = false;                 // the scan was asked for a filter
    std::shared_ptr<const KeyFilter> filter;  // null: not asked for, or cannot be told
    std::vector<uint32_t> ns_ids;             // sorted, distinct (if read)
    size_t bytes() const {
      return (filter != nullptr ? filter->bytes() : 0) + ns_ids.size() * sizeof(uint32_t);
    }
  };
  Entry Build(const std::shared_ptr<Segment>& seg, bool with_filter) const;
  // The entry of seg, built if missing (or, with `with_filter`, if it was
  // built without one); nullptr if seg is not sealed.
  const Entry* Get(const std::shared_ptr<Segment>& seg, bool with_filter);

  const Keyspace* ks_;
  std::unordered_map<uint64_t, Entry> filters_;  // by segment id
  uint64_t built_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace firkin

#endif  // FIRKIN_CORE_COMPACT_KEY_FILTERS_H_
