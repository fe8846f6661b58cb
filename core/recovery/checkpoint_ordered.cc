// The checkpoint's ordered section: encoding, and the checks that decide
// whether open may load it (checkpoint_ordered.h).
#include "core/recovery/checkpoint_ordered.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "core/keyspace/namespaces.h"
#include "core/log/format.h"
#include "core/log/segment.h"
#include "core/recovery/checkpoint_load.h"
#include "core/util/coding.h"

namespace firkin {
namespace {

constexpr size_t kNsHeader = 16;    // u32 ns_id, u32 n_chunks, u64 n_keys
constexpr size_t kChunkHeader = 4;  // u16 n, u16 common_len
constexpr uint32_t kPrefetchAhead = 16;  // records fetched ahead while checking

// memcmp order, the shorter first on a tie (OrderedIndex's order).
int KeyCmp(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  const int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);
  if (c != 0) return c;
  return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

// The segments of the checkpoint by slot: index into data.segments, or -1.
std::vector<int> SlotTable(const CheckpointData& c) {
  std::vector<int> t(SegmentTable::kSlots, -1);
  for (size_t i = 0; i < c.segments.size(); i++) t[c.segments[i].slot] = static_cast<int>(i);
  return t;
}

}  // namespace

void AppendOrderedSection(uint32_t ns_id, const OrderedIndex& index, std::string* out) {
  const size_t head = out->size();
  out->append(kNsHeader, '\0');
  uint32_t n_chunks = 0;
  uint64_t n_keys = 0;
  index.ForEachChunk([&](std::string_view common, const uint64_t* e, uint32_t n) {
    char h[kChunkHeader];
    EncodeU16(h, static_cast<uint16_t>(n));
    EncodeU16(h + 2, static_cast<uint16_t>(common.size()));  // keys are at most 64 KiB
    out->append(h, kChunkHeader);
    out->append(common.data(), common.size());
    for (uint32_t j = 0; j < n; j++) PutU64(out, e[j]);
    n_chunks++;
    n_keys += n;
  });
  EncodeU32(&(*out)[head], ns_id);
  EncodeU32(&(*out)[head + 4], n_chunks);
  EncodeU64(&(*out)[head + 8], n_keys);
}

std::string CheckOrderedSection(const LoadedCheckpoint& ck, const RecordCodec& codec,
                                const std::map<uint32_t, uint64_t>* keys_per_ns,
                                std::vector<OrderedImage>* out) {
  out->clear();
  const CheckpointData& c = ck.data;
  std::string_view v = c.ordered_view;
  if (v.empty()) return "";
  auto fail = [&](const std::string& why) {
    out->clear();
    return "ordered section not used (indexes rebuilt): " + why;
  };
  // 1. Layout: namespaces that are ordered and live, each once; chunk
  //    sizes in range; counts that add up.
  std::set<uint32_t> ordered_ns, seen;
  for (const CheckpointNamespace& n : c.namespaces) {
    if ((n.flags & kNsFlagOrdered) != 0 && !n.dropped) ordered_ns.insert(n.id);
  }
  const uint64_t n_entries = c.entries_view.size() / kCheckpointEntrySize;
  uint64_t total = 0;
  size_t pos = 0;
  while (pos < v.size()) {
    if (v.size() - pos < kNsHeader) return fail("truncated namespace header");
    OrderedImage img;
    img.ns_id = DecodeU32(v.data() + pos);
    const uint32_t n_chunks = DecodeU32(v.data() + pos + 4);
    img.n_keys = DecodeU64(v.data() + pos + 8);
    pos += kNsHeader;
    if (!ordered_ns.count(img.ns_id) || !seen.insert(img.ns_id).second) {
      return fail("namespace " + std::to_string(img.ns_id) + " is not a live ordered one, or twice");
    }
    if (img.n_keys > n_entries - total || n_chunks > img.n_keys) return fail("implausible counts");
    uint64_t keys = 0;
    for (uint32_t i = 0; i < n_chunks; i++) {
      if (v.size() - pos < kChunkHeader) return fail("truncated chunk");
      const uint32_t n = DecodeU16(v.data() + pos);
      const size_t cl = DecodeU16(v.data() + pos + 2);
      pos += kChunkHeader;
      if (n == 0 || n > OrderedIndex::kChunkCap || v.size() - pos < cl + size_t{8} * n) {
        return fail("bad chunk size");
      }
      img.chunks.push_back({v.substr(pos, cl), v.data() + pos + cl, n});
      pos += cl + size_t{8} * n;
      keys += n;
    }
    if (keys != img.n_keys) return fail("key count does not match its chunks");
    total += keys;
    out->push_back(std::move(img));
  }

  // 2. Every word is one of the hash entries, each at most once: a bitmap
  //    of the entries' record offsets (8-byte aligned) per segment.
  const std::vector<int> slots = SlotTable(c);
  std::vector<std::vector<uint64_t>> marks(c.segments.size());
  for (size_t i = 0; i < c.segments.size(); i++) {
    marks[i].assign(c.segments[i].len / kRecordAlign / 64 + 1, 0);
  }
  const char* e = c.entries_view.data();
  for (uint64_t i = 0; i < n_entries; i++, e += kCheckpointEntrySize) {
    // validated: inside a listed segment
    const Locator l = HashIndex::UnpackLocator(DecodeU64(e));
    const uint64_t b = LocatorOffset(l) / kRecordAlign;
    marks[slots[LocatorSlot(l)]][b / 64] |= uint64_t{1} << (b % 64);
  }
  for (const OrderedImage& img : *out) {
    for (const OrderedIndex::ChunkImage& ch : img.chunks) {
      for (uint32_t j = 0; j < ch.n; j++) {
        const Locator l = OrderedIndex::EntryLoc(DecodeU64(ch.words + 8 * j));
        const int s = l == 0 ? -1 : slots[LocatorSlot(l)];
        const uint64_t off = LocatorOffset(l);
        if (s < 0 || off % kRecordAlign != 0 || off >= c.segments[s].len) {
          return fail("an entry points outside the log");
        }
        const uint64_t b = off / kRecordAlign, bit = uint64_t{1} << (b % 64);
        if ((marks[s][b / 64] & bit) == 0) {
          return fail("an entry is not (or twice) one of the hash index's entries");
        }
        marks[s][b / 64] &= ~bit;
      }
    }
  }

  // 3. The records: namespace, order, common prefix and prefix bits; all
  //    of them up to kFullCheckEntries, else each chunk's ends and a sample.
  // A sealed record's key (encrypted databases) is decrypted into *buf.
  auto key_of = [&](uint64_t word, uint32_t ns, std::string_view* key, std::string* buf) {
    const Locator l = OrderedIndex::EntryLoc(word);
    const int s = slots[LocatorSlot(l)];
    const uint64_t off = LocatorOffset(l), len = c.segments[s].len;
    if (off + kRecordPeekSize > len) return false;
    RecordView r = PeekRecord(ck.files[s]->data() + off, ck.files[s]->data());
    if (r.size() > len - off || !RecordLayoutFits(r.flags, r.seg) ||
        (r.type != RecordType::kPut && r.type != RecordType::kDelete) || r.ns_id != ns ||
        r.seq > c.last_seq) {
      return false;
    }
    *key = codec.Key(r, buf);
    return key->size() == r.key_len;
  };
  std::string first_buf, last_buf, key_buf, prev_buf;
  const bool full = total <= kFullCheckEntries;
  const uint64_t stride = full || total < kSampledEntries ? 1 : total / kSampledEntries;
  uint64_t at = 0;
  for (const OrderedImage& img : *out) {
    std::string_view prev;  // the previous entry's key, if it was read
    bool have_prev = false;
    for (size_t ci = 0; ci < img.chunks.size(); ci++) {
      const OrderedIndex::ChunkImage& ch = img.chunks[ci];
      std::string_view first, last;
      if (!key_of(DecodeU64(ch.words), img.ns_id, &first, &first_buf) ||
          !key_of(DecodeU64(ch.words + 8 * (ch.n - 1)), img.ns_id, &last, &last_buf)) {
        return fail("an entry is not a key of its namespace");
      }
      size_t lcp = 0;
      while (lcp < first.size() && lcp < last.size() && first[lcp] == last[lcp]) lcp++;
      // A prefix of every key of the chunk, not always the longest: an
      // erase leaves the chunk's prefix as it was (the index works with any
      // common prefix; the entries' prefix bits, checked below, go with
      // it). Until 2026-11-28 only the longest was taken, so a checkpoint
      // written after deletes or expiries was refused and the next open
      // rebuilt every ordered index (found by review).
      if (ch.common.size() > lcp || first.substr(0, ch.common.size()) != ch.common) {
        return fail("a chunk's common prefix is wrong");
      }
      for (uint32_t j = 0; j < ch.n; j++, at++) {
        if (full && j + kPrefetchAhead < ch.n) {  // in key order the records lie anywhere
          const Locator l = OrderedIndex::EntryLoc(DecodeU64(ch.words + 8 * (j + kPrefetchAhead)));
          const int s = slots[LocatorSlot(l)];  // (checked in step 2)
          __builtin_prefetch(ck.files[s]->data() + LocatorOffset(l));
        }
        const bool ends = j == 0 || j + 1 == ch.n;
        if (!full && !ends && at % stride != 0) {
          have_prev = false;
          continue;
        }
        const uint64_t word = DecodeU64(ch.words + 8 * j);
        std::string_view key;
        if (!key_of(word, img.ns_id, &key, &key_buf)) {
          return fail("an entry is not a key of its namespace");
        }
        if (!have_prev && j > 0) {  // sampled: read the one before it too
          if (!key_of(DecodeU64(ch.words + 8 * (j - 1)), img.ns_id, &prev, &prev_buf)) {
            return fail("an entry is not a key of its namespace");
          }
          have_prev = true;
        }
        if (have_prev && KeyCmp(prev, key) >= 0) return fail("keys out of order");
        if (key.substr(0, ch.common.size()) != ch.common ||
            OrderedIndex::Bits(key, ch.common.size()) != word >> kLocatorBits) {
          return fail("an entry's prefix bits do not match its key");
        }
        if (!key.empty() && key.data() == key_buf.data()) {  // decrypted: keep it
          key_buf.swap(prev_buf);
          prev = std::string_view(prev_buf.data(), key.size());
        } else {
          prev = key;
        }
        have_prev = true;
      }
    }
    if (keys_per_ns != nullptr) {
      auto it = keys_per_ns->find(img.ns_id);
      if (img.n_keys != (it == keys_per_ns->end() ? 0 : it->second)) {
        return fail("namespace " + std::to_string(img.ns_id) +
                    " holds another number of keys than the hash index");
      }
    }
  }
  return "";
}

}  // namespace firkin
