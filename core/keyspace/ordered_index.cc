#include "core/keyspace/ordered_index.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <mutex>

#include "core/log/format.h"
#include "core/util/coding.h"
#include "core/util/per_thread.h"

namespace firkin {

namespace {
// memcmp order, the shorter first on a tie.
int KeyCmp(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  const int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);
  if (c != 0) return c;
  return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}
}  // namespace

OrderedIndex::~OrderedIndex() {
  for (Chunk* c : chunks_) delete c;
}

uint64_t OrderedIndex::Bits(std::string_view key, size_t skip) {
  const auto* p = reinterpret_cast<const unsigned char*>(key.data());
  const size_t n = key.size();
  const uint64_t b0 = n > skip ? p[skip] : 0, b1 = n > skip + 1 ? p[skip + 1] : 0,
                 b2 = n > skip + 2 ? p[skip + 2] : 0;
  return (b0 << 12) | (b1 << 4) | (b2 >> 4);
}

bool OrderedIndex::ViewOf(uint64_t e, RecordView* r) const {
  const Locator l = EntryLoc(e);
  Segment* s = segs_->BySlot(LocatorSlot(l));
  if (s == nullptr) return false;
  const uint64_t off = LocatorOffset(l), end = s->capacity();
  if (off + kRecordPeekSize > end) return false;
  *r = s->Peek(off);
  return r->size() <= end - off;
}

int OrderedIndex::Side(const Chunk* c, std::string_view key) {
  const size_t skip = c->common.size();
  const size_t n = std::min(key.size(), skip);
  const int m = n == 0 ? 0 : std::memcmp(key.data(), c->common.data(), n);
  if (m != 0) return m < 0 ? -1 : 1;
  return key.size() < skip ? -1 : 0;  // a proper prefix of common sorts first
}

int OrderedIndex::Compare(const Chunk* c, size_t i, std::string_view key) const {
  const int side = Side(c, key);
  if (side != 0) return -side;
  const uint64_t e = c->e[i];
  const uint64_t ep = e >> kLocatorBits, kb = Bits(key, c->common.size());
  if (ep != kb) return ep < kb ? -1 : 1;
  std::string& scratch = PerThread<std::string, struct CompareKeyTag>();
  return KeyCmp(KeyOf(e, &scratch), key);
}

OrderedIndex::Pos OrderedIndex::LowerBound(std::string_view key) const {
  // The first chunk whose first key is > key; the key's place is in the
  // chunk before it (or at the very start).
  size_t lo = 0, hi = chunks_.size();
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (Compare(chunks_[mid], 0, key) <= 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == 0) return {0, 0};
  const size_t c = lo - 1;
  const Chunk* ch = chunks_[c];
  if (Side(ch, key) > 0) return {c + 1, 0};
  size_t a = 0, b = ch->n;
  while (a < b) {
    size_t mid = (a + b) / 2;
    if (Compare(ch, mid, key) < 0) {
      a = mid + 1;
    } else {
      b = mid;
    }
  }
  if (a == ch->n) return {c + 1, 0};
  return {c, a};
}

void OrderedIndex::Derive(const uint64_t* src, uint32_t n, uint32_t known_at,
                          std::string_view known, Chunk* dst) const {
  // Everything that reads a key (a sealed one is decrypted: it may throw)
  // comes first, into words of our own; *dst changes only after.
  std::string s1, s2, s3;
  const std::string_view first = known_at == 0 ? known : KeyOf(src[0], &s1);
  const std::string_view last = known_at == n - 1 ? known : KeyOf(src[n - 1], &s2);
  size_t lcp = 0;
  while (lcp < first.size() && lcp < last.size() && first[lcp] == last[lcp]) lcp++;
  // Any prefix of the keys' common prefix serves (the entries then hold
  // more of each key): out of memory for a longer one, the chunk keeps one
  // that fits the room it has, so a rebuild never fails half way (until
  // 2026-11-29 it could throw here after its caller had changed the
  // chunk, and range scans on the handle then skipped keys; found by
  // review). (reserve keeps the content: nothing of the chunk changes.)
  if (lcp > dst->common.capacity()) {
    try {
      dst->common.reserve(lcp);
    } catch (const std::bad_alloc&) {
      lcp = dst->common.capacity();
    }
  }
  uint64_t words[kChunkCap];
  for (uint32_t i = 0; i < n; i++) {
    const std::string_view k = i == known_at ? known : KeyOf(src[i], &s3);
    words[i] = (Bits(k, lcp) << kLocatorBits) | EntryLoc(src[i]);
  }
  dst->common.assign(first.data(), lcp);  // (within its room: no allocation)
  std::memcpy(dst->e, words, n * sizeof(uint64_t));
  dst->n = n;
}

void OrderedIndex::RebuildIfRoom(Chunk* c) const noexcept {
  try {
    Rebuild(c);
  } catch (const std::bad_alloc&) {
    // (the chunk is whole as it is: see the header)
  }
}

void OrderedIndex::InsertAt(Pos p, std::string_view key, Locator loc) {
  // What allocates, and every Derive that a chunk needs to be whole, comes
  // before the change it serves: a new chunk here, the vector's room where
  // it is added, a neighbour made anew with the entries it takes (an
  // insert that ran out of memory left half a chunk's keys out until
  // 2026-11-29, and a sealed key whose decryption failed in a Rebuild
  // left a chunk whose bits did not follow its prefix until the session
  // after). A Rebuild after the change only lengthens a prefix
  // (RebuildIfRoom).
  if (chunks_.empty()) {
    std::unique_ptr<Chunk> c(new Chunk);
    c->e[0] = (Bits(key, 0) << kLocatorBits) | loc;  // (whole with no prefix)
    c->n = 1;
    chunks_.push_back(c.get());  // (may throw: nothing changed)
    RebuildIfRoom(c.release());
    return;
  }
  if (p.c == chunks_.size()) {  // past the last key: append to the last chunk
    p.c = chunks_.size() - 1;
    p.i = chunks_[p.c]->n;
  }
  Chunk* ch = chunks_[p.c];
  if (ch->n == kChunkCap) {
    std::unique_ptr<Chunk> owned(new Chunk);
    Chunk* nc = owned.get();
    if (p.c + 1 == chunks_.size() && p.i == ch->n) {
      // Ascending load: start a new chunk and leave this one full.
      nc->e[0] = (Bits(key, 0) << kLocatorBits) | loc;
      nc->n = 1;
      chunks_.push_back(nc);
      owned.release();
      RebuildIfRoom(nc);
      return;
    }
    // A neighbour with room takes part of this chunk instead of a split
    // (B*-tree style): chunks stay fuller (memory per key) at the cost of
    // re-deriving two chunks' prefixes. The neighbour is made anew (in the
    // chunk allocated above) and takes the old one's place; this chunk,
    // which only loses keys at one end, stays whole as it is.
    constexpr uint32_t kMinRoom = kChunkCap / 8;
    if (p.c + 1 < chunks_.size() && kChunkCap - chunks_[p.c + 1]->n >= kMinRoom) {
      Chunk* nx = chunks_[p.c + 1];
      const uint32_t m = (kChunkCap - nx->n) / 2;
      std::memcpy(nc->e, ch->e + (kChunkCap - m), m * sizeof(uint64_t));
      std::memcpy(nc->e + m, nx->e, nx->n * sizeof(uint64_t));
      Derive(nc->e, m + nx->n, m + nx->n, std::string_view(), nc);  // (may throw: nothing changed)
      chunks_[p.c + 1] = owned.release();
      delete nx;
      ch->n -= m;
      RebuildIfRoom(ch);
      if (p.i > ch->n) {
        p.i -= ch->n;
        ch = nc;
      }
      InsertIntoRoom(ch, p.i, key, loc);
      return;
    }
    if (p.c > 0 && kChunkCap - chunks_[p.c - 1]->n >= kMinRoom) {
      Chunk* pv = chunks_[p.c - 1];
      const uint32_t m = (kChunkCap - pv->n) / 2;
      const uint32_t pv_n = pv->n;
      std::memcpy(nc->e, pv->e, pv_n * sizeof(uint64_t));
      std::memcpy(nc->e + pv_n, ch->e, m * sizeof(uint64_t));
      Derive(nc->e, pv_n + m, pv_n + m, std::string_view(), nc);  // (may throw: nothing changed)
      chunks_[p.c - 1] = owned.release();
      delete pv;
      std::memmove(ch->e, ch->e + m, (ch->n - m) * sizeof(uint64_t));
      ch->n -= m;
      RebuildIfRoom(ch);
      if (p.i < m) {
        InsertIntoRoom(nc, pv_n + p.i, key, loc);
      } else {
        InsertIntoRoom(ch, p.i - m, key, loc);
      }
      return;
    }
    // A split: the new half keeps this chunk's prefix (a copy, made before
    // anything changes), so both halves are whole before their Rebuilds.
    const uint32_t half = kChunkCap / 2;
    nc->common = ch->common;  // (may throw: nothing changed)
    std::memcpy(nc->e, ch->e + half, (kChunkCap - half) * sizeof(uint64_t));
    nc->n = kChunkCap - half;
    chunks_.insert(chunks_.begin() + static_cast<std::ptrdiff_t>(p.c) + 1, nc);  // (the same)
    owned.release();
    ch->n = half;
    RebuildIfRoom(ch);  // each half may share a longer prefix
    RebuildIfRoom(nc);
    if (p.i > half) {
      ch = nc;
      p.i -= half;
    }
  }
  InsertIntoRoom(ch, p.i, key, loc);
}

void OrderedIndex::InsertIntoRoom(Chunk* ch, size_t i, std::string_view key, Locator loc) {
  if (Side(ch, key) == 0) {
    std::memmove(ch->e + i + 1, ch->e + i, (ch->n - i) * sizeof(uint64_t));
    ch->n++;
    ch->e[i] = (Bits(key, ch->common.size()) << kLocatorBits) | loc;
    return;
  }
  // A new first or last key outside the common prefix: the chunk with it
  // is derived anew (a shorter prefix, every entry's bits), from a copy of
  // its entries with the new one in place, before anything changes.
  uint64_t with[kChunkCap];
  std::memcpy(with, ch->e, i * sizeof(uint64_t));
  with[i] = loc;
  std::memcpy(with + i + 1, ch->e + i, (ch->n - i) * sizeof(uint64_t));
  Derive(with, ch->n + 1, static_cast<uint32_t>(i), key, ch);
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
  // so deletes do not leave the index mostly empty. (Derived from a copy
  // of both chunks' entries before anything changes: out of memory, the
  // chunks stay apart, each whole.)
  if (p.c + 1 < chunks_.size() && ch->n + chunks_[p.c + 1]->n <= kChunkCap * 3 / 4) {
    Chunk* next = chunks_[p.c + 1];
    uint64_t both[kChunkCap];
    std::memcpy(both, ch->e, ch->n * sizeof(uint64_t));
    std::memcpy(both + ch->n, next->e, next->n * sizeof(uint64_t));
    const uint32_t n = ch->n + next->n;
    try {
      Derive(both, n, n, std::string_view(), ch);
    } catch (const std::bad_alloc&) {
      return;
    }
    delete next;
    chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(p.c) + 1);
  }
}

void OrderedIndex::Insert(std::string_view key, Locator loc) {
  std::unique_lock<SharedSpinLock> l(mu_);
  Pos p = LowerBound(key);
  if (p.c < chunks_.size() && Compare(chunks_[p.c], p.i, key) == 0) {
    Chunk* c = chunks_[p.c];
    c->e[p.i] = (Bits(key, c->common.size()) << kLocatorBits) | loc;
    return;
  }
  InsertAt(p, key, loc);
  size_.fetch_add(1, std::memory_order_relaxed);
}

void OrderedIndex::Replace(std::string_view key, Locator to) {
  std::unique_lock<SharedSpinLock> l(mu_);
  Pos p = LowerBound(key);
  const bool found = p.c < chunks_.size() && Compare(chunks_[p.c], p.i, key) == 0;
  if (to == 0) {
    if (found) {
      EraseAt(p);
      size_.fetch_sub(1, std::memory_order_relaxed);
    }
    return;
  }
  if (found) {
    Chunk* c = chunks_[p.c];
    c->e[p.i] = (Bits(key, c->common.size()) << kLocatorBits) | to;
  } else {
    InsertAt(p, key, to);
    size_.fetch_add(1, std::memory_order_relaxed);
  }
}

void OrderedIndex::BulkLoad(std::vector<Locator> locs) {
  // Each key's first 16 bytes (zero-padded) and length, read once: keys of
  // up to 16 bytes (and most longer ones) sort and get their chunk prefix
  // and bits without reading the log again.
  struct Head {
    unsigned char b[16];
    uint16_t len;
    Locator loc;
  };
  std::vector<Head> es(locs.size());
  std::string scratch;
  for (size_t i = 0; i < locs.size(); i++) {
    std::string_view k = KeyOf(locs[i], &scratch);
    std::memset(es[i].b, 0, sizeof es[i].b);
    std::memcpy(es[i].b, k.data(), std::min<size_t>(16, k.size()));
    es[i].len = static_cast<uint16_t>(k.size());
    es[i].loc = locs[i];
  }
  locs.clear();
  locs.shrink_to_fit();
  std::sort(es.begin(), es.end(), [this](const Head& a, const Head& b) {
    const int c = std::memcmp(a.b, b.b, 16);
    if (c != 0) return c < 0;
    // Equal first 16 bytes: if one key is that short, it is a prefix of
    // the other and sorts first; else the whole keys decide.
    if (std::min(a.len, b.len) <= 16) return a.len < b.len;
    std::string sa, sb;
    return KeyCmp(KeyOf(a.loc, &sa), KeyOf(b.loc, &sb)) < 0;
  });
  // The chunks are made aside and take the old ones' place at the end
  // (OwnedChunks): out of memory part way, the index is as it was and
  // nothing leaks.
  OwnedChunks made;
  made.v.reserve((es.size() + kChunkCap - 1) / kChunkCap);
  for (size_t i = 0; i < es.size(); i += kChunkCap) {
    std::unique_ptr<Chunk> c(new Chunk);
    c->n = static_cast<uint32_t>(std::min(kChunkCap, es.size() - i));
    const Head& first = es[i];
    const Head& last = es[i + c->n - 1];
    size_t lcp = 0;
    const size_t lim = std::min<size_t>({16, first.len, last.len});
    while (lcp < lim && first.b[lcp] == last.b[lcp]) lcp++;
    bool from_heads = lcp + 3 <= 16 && (lcp < 16 || std::min(first.len, last.len) <= 16);
    if (from_heads) {
      c->common.assign(reinterpret_cast<const char*>(first.b), lcp);
      for (uint32_t j = 0; j < c->n; j++) {
        const Head& h = es[i + j];
        const uint64_t bits = (uint64_t{h.b[lcp]} << 12) | (uint64_t{h.b[lcp + 1]} << 4) |
                              (uint64_t{h.b[lcp + 2]} >> 4);
        c->e[j] = (bits << kLocatorBits) | h.loc;
      }
    } else {
      for (uint32_t j = 0; j < c->n; j++) c->e[j] = es[i + j].loc;
      Rebuild(c.get());  // (a sealed key's decryption may throw)
    }
    made.v.push_back(c.release());  // (within the room reserved)
  }
  std::unique_lock<SharedSpinLock> l(mu_);
  chunks_.swap(made.v);  // (the old chunks go with `made`)
  size_.store(es.size(), std::memory_order_relaxed);
}

void OrderedIndex::LoadChunks(const std::vector<ChunkImage>& chunks) {
  OwnedChunks made;  // (as BulkLoad's)
  made.v.reserve(chunks.size());
  uint64_t n = 0;
  for (const ChunkImage& ci : chunks) {
    std::unique_ptr<Chunk> c(new Chunk);
    c->n = ci.n;
    c->common.assign(ci.common.data(), ci.common.size());  // (may throw)
    for (uint32_t j = 0; j < ci.n; j++) c->e[j] = DecodeU64(ci.words + 8 * j);
    made.v.push_back(c.release());  // (within the room reserved)
    n += ci.n;
  }
  std::unique_lock<SharedSpinLock> l(mu_);
  chunks_.swap(made.v);
  size_.store(n, std::memory_order_relaxed);
}

void OrderedIndex::ForEachChunk(
    const std::function<void(std::string_view, const uint64_t*, uint32_t)>& fn) const {
  std::shared_lock<SharedSpinLock> l(mu_);
  for (const Chunk* c : chunks_) fn(c->common, c->e, c->n);
}

bool OrderedIndex::Collect(const std::string* from, bool inclusive, bool reverse,
                           const std::string* stop, size_t max,
                           std::string* keys, std::vector<size_t>* ends,
                           std::vector<RecordView>* recs,
                           std::vector<const Segment*>* segs) const {
  std::shared_lock<SharedSpinLock> shared(mu_);
  if (chunks_.empty()) return false;
  Pos p;
  bool valid = true;
  if (from == nullptr) {
    p = reverse ? Pos{chunks_.size() - 1, chunks_.back()->n - 1u} : Pos{0, 0};
  } else {
    p = LowerBound(*from);
    const bool at_end = p.c == chunks_.size();
    const bool equal = !at_end && Compare(chunks_[p.c], p.i, *from) == 0;
    if (!reverse) {
      if (equal && !inclusive) {  // step past from
        if (++p.i == chunks_[p.c]->n) p = {p.c + 1, 0};
      }
      valid = p.c < chunks_.size();
    } else if (!(equal && inclusive)) {  // the last entry < from
      if (p.c == 0 && p.i == 0) {
        valid = false;
      } else if (p.c == chunks_.size() || p.i == 0) {
        p = {p.c - 1, chunks_[p.c - 1]->n - 1u};
      } else {
        p.i--;
      }
    }
  }
  // The entries first (the stop check rarely reads the log), then their
  // records, fetched all at once: in key order they lie anywhere in the
  // log, so the misses overlap instead of queueing one after another.
  std::vector<uint64_t>& picked = PerThread<std::vector<uint64_t>, struct PickedTag>();
  picked.clear();
  bool more = false;
  while (valid) {
    const Chunk* ch = chunks_[p.c];
    if (stop != nullptr) {
      const int c = Compare(ch, p.i, *stop);
      if (!reverse ? c >= 0 : c < 0) break;
    }
    if (picked.size() >= max) {
      more = true;
      break;
    }
    picked.push_back(ch->e[p.i]);
    if (!reverse) {
      if (++p.i == ch->n) {
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
  // The records are read after the lock is let go (writers wait for no
  // cache miss of ours): the entry words picked under it say which record
  // was each key's newest then, and the caller's Epoch::Guard keeps those
  // records (and the slots naming their segments) where they are.
  shared.unlock();
  for (uint64_t e : picked) {
    const Locator l = EntryLoc(e);
    if (Segment* s = segs_->BySlot(LocatorSlot(l))) {
      const uint64_t off = LocatorOffset(l);
      if (off + kRecordPeekSize <= s->capacity()) __builtin_prefetch(s->RecordAt(off));
    }
  }
  std::string scratch;
  for (uint64_t e : picked) {
    RecordView r;
    if (!ViewOf(e, &r)) r = RecordView();
    std::string_view k = r.base != nullptr ? codec_->Key(r, &scratch) : std::string_view();
    keys->append(k.data(), k.size());
    ends->push_back(keys->size());
    if (recs != nullptr) recs->push_back(r);
    if (segs != nullptr) {
      segs->push_back(r.base != nullptr ? segs_->BySlot(LocatorSlot(EntryLoc(e))) : nullptr);
    }
  }
  return more;
}

uint64_t OrderedIndex::memory_bytes() const {
  std::shared_lock<SharedSpinLock> l(mu_);
  uint64_t common = 0;
  for (const Chunk* c : chunks_) {
    if (c->common.capacity() > 15) common += c->common.capacity() + 1;  // beyond SSO
  }
  return chunks_.size() * sizeof(Chunk) + chunks_.capacity() * sizeof(Chunk*) + common +
         sizeof(*this);
}

}  // namespace firkin
