// SegmentKeyFilters (key_filters.h).
#include "core/compact/key_filters.h"

#include <algorithm>
#include <string>

#include "core/keyspace/keyspace.h"
#include "core/log/log_reader.h"
#include "core/log/segment.h"

namespace firkin {
namespace {

// The probes of a hash: double hashing over a mixed copy of it (the index
// keeps the hash's top bits for its shard and tag; the mix spreads all 64).
struct Probes {
  uint64_t a, b;
  explicit Probes(uint64_t h) {
    uint64_t x = h ^ (h >> 31);
    x *= 0x9E3779B97F4A7C15ull;
    x ^= x >> 29;
    a = x;
    b = (x >> 32 | x << 32) | 1;
  }
  uint64_t Bit(int i, uint64_t nbits) const { return (a + static_cast<uint64_t>(i) * b) % nbits; }
};

}  // namespace

KeyFilter::KeyFilter(const std::vector<uint64_t>& hashes) {
  const uint64_t nbits = std::max<uint64_t>(64, hashes.size() * 10);
  bits_.assign((nbits + 63) / 64, 0);
  const uint64_t m = bits_.size() * 64;
  for (uint64_t h : hashes) {
    const Probes p(h);
    for (int i = 0; i < kProbes; i++) {
      const uint64_t bit = p.Bit(i, m);
      bits_[bit / 64] |= uint64_t{1} << (bit % 64);
    }
  }
}

bool KeyFilter::MayContain(uint64_t hash) const {
  const uint64_t m = bits_.size() * 64;
  const Probes p(hash);
  for (int i = 0; i < kProbes; i++) {
    const uint64_t bit = p.Bit(i, m);
    if ((bits_[bit / 64] & (uint64_t{1} << (bit % 64))) == 0) return false;
  }
  return true;
}

SegmentKeyFilters::Entry SegmentKeyFilters::Build(const std::shared_ptr<Segment>& sp,
                                                  bool with_filter) const {
  const Segment& seg = *sp;
  Entry e;
  e.seg = sp;
  e.with_filter = with_filter;
  // Every put and delete of the segment, as recovery would read them. Its
  // checksums are checked even in a segment this process wrote (known
  // intact to reads): a filter (and a namespace list) is proof that a key
  // (a namespace) is absent, and damage since (a length that swallows the
  // next record) would leave it out, and a tombstone would go that a
  // salvage open then misses (found by review). Sealed records of a
  // segment not validated yet are authenticated (a key changed on purpose
  // would be proof of nothing).
  std::vector<uint64_t> hashes;
  LogReader reader(seg.data(), kSegmentHeaderSize, seg.published_len(), /*checksums=*/true,
                   ks_->AuthFor(seg));
  RecordView r;
  uint64_t at;
  std::string scratch;
  for (LogReader::Result res; (res = reader.Next(&r, &at)) != LogReader::Result::kEnd;) {
    if (res == LogReader::Result::kDamaged) return Entry{sp, false, with_filter, nullptr, {}};
    if (r.type == RecordType::kNsCreate || r.type == RecordType::kNsDrop) {
      e.ns_ids.push_back(r.ns_id);
      continue;
    }
    if (r.type != RecordType::kPut && r.type != RecordType::kDelete) continue;
    if (e.ns_ids.empty() || e.ns_ids.back() != r.ns_id) e.ns_ids.push_back(r.ns_id);
    if (!with_filter) continue;
    const std::string_view key = ks_->Key(r, &scratch);
    if (r.sealed() && key.size() != r.key_len) {
      return Entry{sp, false, with_filter, nullptr, {}};  // cannot open
    }
    hashes.push_back(ks_->Hash(r.ns_id, key));
  }
  std::sort(e.ns_ids.begin(), e.ns_ids.end());
  e.ns_ids.erase(std::unique(e.ns_ids.begin(), e.ns_ids.end()), e.ns_ids.end());
  e.ns_ids.shrink_to_fit();
  e.read = true;
  if (with_filter) e.filter = std::make_shared<const KeyFilter>(hashes);
  return e;
}

const SegmentKeyFilters::Entry* SegmentKeyFilters::Get(const std::shared_ptr<Segment>& seg,
                                                       bool with_filter) {
  if (!seg->sealed.load(std::memory_order_acquire)) return nullptr;  // it may still change
  auto it = filters_.find(seg->id());
  const bool fresh = it != filters_.end() && it->second.seg.lock() == seg;
  // (One that could not be read is not scanned again for a filter.)
  if (!fresh || (with_filter && !it->second.with_filter && it->second.read)) {
    Entry e = Build(seg, with_filter);
    built_++;
    bytes_ += e.bytes();
    if (it != filters_.end()) bytes_ -= it->second.bytes();
    it = filters_.insert_or_assign(seg->id(), std::move(e)).first;
  }
  return &it->second;
}

bool SegmentKeyFilters::SurelyLacks(const std::shared_ptr<Segment>& seg, uint64_t hash) {
  const Entry* e = Get(seg, /*with_filter=*/true);
  return e != nullptr && e->filter != nullptr && !e->filter->MayContain(hash);
}

bool SegmentKeyFilters::SurelyLacksNamespace(const std::shared_ptr<Segment>& seg,
                                             uint32_t ns_id) {
  const Entry* e = Get(seg, /*with_filter=*/false);
  return e != nullptr && e->read && !std::binary_search(e->ns_ids.begin(), e->ns_ids.end(), ns_id);
}

uint32_t SegmentKeyFilters::HighestNamespace(const std::shared_ptr<Segment>& seg) {
  const Entry* e = Get(seg, /*with_filter=*/false);
  return e == nullptr || !e->read || e->ns_ids.empty() ? 0 : e->ns_ids.back();
}

bool SegmentKeyFilters::HasNamespaces(const std::shared_ptr<Segment>& seg) const {
  auto it = filters_.find(seg->id());
  return it != filters_.end() && it->second.seg.lock() == seg;
}

bool SegmentKeyFilters::Filterable(const std::shared_ptr<Segment>& seg) const {
  auto it = filters_.find(seg->id());
  return it != filters_.end() && it->second.filter != nullptr && it->second.seg.lock() == seg;
}

void SegmentKeyFilters::Prune() {
  for (auto it = filters_.begin(); it != filters_.end();) {
    if (!it->second.seg.expired()) {
      ++it;
      continue;
    }
    bytes_ -= it->second.bytes();
    it = filters_.erase(it);
  }
}

}  // namespace firkin
