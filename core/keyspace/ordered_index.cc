#include "core/keyspace/ordered_index.h"

#include <algorithm>
#include <cstring>
#include <mutex>

#include "core/log/format.h"

namespace firkin {

OrderedIndex::~OrderedIndex() {
  for (Chunk* c : chunks_) delete c;
}

uint64_t OrderedIndex::Prefix20(std::string_view key) {
  const auto* p = reinterpret_cast<const unsigned char*>(key.data());
  const uint64_t b0 = key.size() > 0 ? p[0] : 0, b1 = key.size() > 1 ? p[1] : 0,
                 b2 = key.size() > 2 ? p[2] : 0;
  return (b0 << 12) | (b1 << 4) | (b2 >> 4);
}

bool OrderedIndex::ViewOf(uint64_t e, RecordView* r) const {
  const Locator l = EntryLoc(e);
  Segment* s = segs_->BySlot(LocatorSlot(l));
  if (s == nullptr) return false;
  const uint64_t off = LocatorOffset(l), end = s->capacity();
  if (off + kRecordHeaderSize > end) return false;
  *r = PeekRecord(s->RecordAt(off));
  return r->size() <= end - off;
}

int OrderedIndex::Compare(uint64_t e, std::string_view key, uint64_t kp) const {
  const uint64_t ep = e >> kLocatorBits;
  if (ep != kp) return ep < kp ? -1 : 1;
  std::string_view k = KeyOf(e);
  const size_t n = std::min(k.size(), key.size());
  int c = n == 0 ? 0 : std::memcmp(k.data(), key.data(), n);
  if (c != 0) return c;
  return k.size() < key.size() ? -1 : (k.size() > key.size() ? 1 : 0);
}

OrderedIndex::Pos OrderedIndex::LowerBound(std::string_view key, uint64_t kp) const {
  // The first chunk whose first key is > key; the key's place is in the
  // chunk before it (or at the very start).
  size_t lo = 0, hi = chunks_.size();
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (Compare(chunks_[mid]->e[0], key, kp) <= 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == 0) return {0, 0};
  const size_t c = lo - 1;
  const Chunk* ch = chunks_[c];
  size_t a = 0, b = ch->n;
  while (a < b) {
    size_t mid = (a + b) / 2;
    if (Compare(ch->e[mid], key, kp) < 0) {
      a = mid + 1;
    } else {
      b = mid;
    }
  }
  if (a == ch->n) return {c + 1, 0};
  return {c, a};
}

void OrderedIndex::InsertAt(Pos p, uint64_t entry) {
  if (chunks_.empty()) {
    auto* c = new Chunk;
    c->e[0] = entry;
    c->n = 1;
    chunks_.push_back(c);
    return;
  }
  if (p.c == chunks_.size()) {  // past the last key: append to the last chunk
    p.c = chunks_.size() - 1;
    p.i = chunks_[p.c]->n;
  }
  Chunk* ch = chunks_[p.c];
  if (ch->n == kChunkCap) {
    auto* nc = new Chunk;
    if (p.c + 1 == chunks_.size() && p.i == ch->n) {
      // Ascending load: start a new chunk and leave this one full.
      nc->e[0] = entry;
      nc->n = 1;
      chunks_.push_back(nc);
      return;
    }
    const uint32_t half = kChunkCap / 2;
    std::memcpy(nc->e, ch->e + half, (kChunkCap - half) * sizeof(uint64_t));
    nc->n = kChunkCap - half;
    ch->n = half;
    chunks_.insert(chunks_.begin() + static_cast<std::ptrdiff_t>(p.c) + 1, nc);
    if (p.i > half) {
      ch = nc;
      p.i -= half;
    }
  }
  std::memmove(ch->e + p.i + 1, ch->e + p.i, (ch->n - p.i) * sizeof(uint64_t));
  ch->e[p.i] = entry;
  ch->n++;
}

void OrderedIndex::EraseAt(Pos p) {
  Chunk* ch = chunks_[p.c];
  std::memmove(ch->e + p.i, ch->e + p.i + 1, (ch->n - p.i - 1) * sizeof(uint64_t));
  ch->n--;
  if (ch->n == 0) {
    delete ch;
    chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(p.c));
    return;
  }
  // Merge a sparse chunk into its successor when both fit in 3/4 of one,
  // so deletes do not leave the index mostly empty.
  if (p.c + 1 < chunks_.size() && ch->n + chunks_[p.c + 1]->n <= kChunkCap * 3 / 4) {
    Chunk* next = chunks_[p.c + 1];
    std::memcpy(ch->e + ch->n, next->e, next->n * sizeof(uint64_t));
    ch->n += next->n;
    delete next;
    chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(p.c) + 1);
  }
}

void OrderedIndex::Insert(std::string_view key, Locator loc) {
  const uint64_t kp = Prefix20(key);
  std::unique_lock<std::shared_mutex> l(mu_);
  Pos p = LowerBound(key, kp);
  if (p.c < chunks_.size() && Compare(chunks_[p.c]->e[p.i], key, kp) == 0) {
    chunks_[p.c]->e[p.i] = MakeEntry(key, loc);
    return;
  }
  InsertAt(p, MakeEntry(key, loc));
  size_.fetch_add(1, std::memory_order_relaxed);
}

void OrderedIndex::Replace(std::string_view key, Locator to) {
  const uint64_t kp = Prefix20(key);
  std::unique_lock<std::shared_mutex> l(mu_);
  Pos p = LowerBound(key, kp);
  const bool found = p.c < chunks_.size() && Compare(chunks_[p.c]->e[p.i], key, kp) == 0;
  if (to == 0) {
    if (found) {
      EraseAt(p);
      size_.fetch_sub(1, std::memory_order_relaxed);
    }
    return;
  }
  if (found) {
    chunks_[p.c]->e[p.i] = MakeEntry(key, to);
  } else {
    InsertAt(p, MakeEntry(key, to));
    size_.fetch_add(1, std::memory_order_relaxed);
  }
}

void OrderedIndex::BulkLoad(std::vector<Locator> locs) {
  std::vector<uint64_t> es;
  es.reserve(locs.size());
  for (Locator l : locs) {
    // The prefix comes from the record; KeyOf reads only the locator bits.
    es.push_back(MakeEntry(KeyOf(l), l));
  }
  locs.clear();
  locs.shrink_to_fit();
  std::sort(es.begin(), es.end(), [this](uint64_t a, uint64_t b) {
    const uint64_t pa = a >> kLocatorBits, pb = b >> kLocatorBits;
    if (pa != pb) return pa < pb;
    return KeyOf(a) < KeyOf(b);
  });
  std::unique_lock<std::shared_mutex> l(mu_);
  for (Chunk* c : chunks_) delete c;
  chunks_.clear();
  for (size_t i = 0; i < es.size(); i += kChunkCap) {
    auto* c = new Chunk;
    c->n = static_cast<uint32_t>(std::min(kChunkCap, es.size() - i));
    std::memcpy(c->e, es.data() + i, c->n * sizeof(uint64_t));
    chunks_.push_back(c);
  }
  size_.store(es.size(), std::memory_order_relaxed);
}

bool OrderedIndex::Collect(const std::string* from, bool inclusive, bool reverse,
                           const std::string* stop, size_t max,
                           std::vector<std::string>* out,
                           std::vector<RecordView>* recs) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  if (chunks_.empty()) return false;
  // Position of the first entry to take, as a flat walk over (c, i).
  Pos p;
  bool valid = true;
  if (from == nullptr) {
    p = reverse ? Pos{chunks_.size() - 1, chunks_.back()->n - 1u} : Pos{0, 0};
  } else {
    const uint64_t kp = Prefix20(*from);
    p = LowerBound(*from, kp);
    const bool at_end = p.c == chunks_.size();
    const bool equal = !at_end && Compare(chunks_[p.c]->e[p.i], *from, kp) == 0;
    if (!reverse) {
      if (equal && !inclusive) {  // step past from
        if (++p.i == chunks_[p.c]->n) p = {p.c + 1, 0};
      }
      valid = p.c < chunks_.size();
    } else if (!(equal && inclusive)) {  // the last entry < from
      if (p.c == 0 && p.i == 0) {
        valid = false;
      } else if (p.i == 0) {
        p = {p.c - 1, chunks_[p.c - 1]->n - 1u};
      } else {
        p.i--;
      }
    }
  }
  const uint64_t sp = stop != nullptr ? Prefix20(*stop) : 0;
  while (valid) {
    const uint64_t e = chunks_[p.c]->e[p.i];
    if (stop != nullptr) {
      const int c = Compare(e, *stop, sp);
      if (!reverse ? c >= 0 : c < 0) return false;
    }
    if (out->size() >= max) return true;
    RecordView r;
    if (!ViewOf(e, &r)) r = RecordView();
    std::string_view k = r.base != nullptr ? r.key() : std::string_view();
    out->emplace_back(k.data(), k.size());
    if (recs != nullptr) recs->push_back(r);
    if (!reverse) {
      if (++p.i == chunks_[p.c]->n) {
        p = {p.c + 1, 0};
        valid = p.c < chunks_.size();
      }
    } else if (p.i > 0) {
      p.i--;
    } else if (p.c > 0) {
      p = {p.c - 1, chunks_[p.c - 1]->n - 1u};
    } else {
      valid = false;
    }
  }
  return false;
}

uint64_t OrderedIndex::memory_bytes() const {
  std::shared_lock<std::shared_mutex> l(mu_);
  return chunks_.size() * sizeof(Chunk) + chunks_.capacity() * sizeof(Chunk*) + sizeof(*this);
}

}  // namespace firkin
