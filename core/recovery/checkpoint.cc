#include "core/recovery/checkpoint.h"

#include <algorithm>
#include <cstring>

#include "core/index/hash_index.h"
#include "core/keyspace/namespaces.h"
#include "core/log/format.h"
#include "core/util/coding.h"
#include "core/util/hash.h"

namespace firkin {

namespace {
constexpr char kMagic[8] = {'F', 'I', 'R', 'K', 'C', 'K', 'P', 'T'};
// 4: namespace flags byte (ordered); 5: the ordered section (80-byte header);
// 6: 8-byte entries after per-shard counts (they were 16 bytes); 7: the
// segments' in-place bound (72-byte segment entries); 8: each namespace's
// create record locator and size (42-byte namespace entries). Version 7
// is still read.
constexpr uint32_t kCheckpointVersion = 8;
constexpr uint32_t kCheckpointOldestRead = 7;
constexpr uint64_t kTailCheckWindow = 4096;
}  // namespace

// The body's first part: the segments and the namespaces (small).
std::string EncodeCheckpointTables(const CheckpointData& c) {
  std::string out;
  for (const CheckpointSegment& s : c.segments) {
    PutU64(&out, s.id);
    PutU32(&out, s.slot);
    PutU32(&out, s.flags);
    PutU64(&out, s.len);
    PutU64(&out, s.live);
    PutU64(&out, s.dead);
    PutU64(&out, s.min_seq);
    PutU64(&out, s.tail_check);
    PutU64(&out, s.min_expiry);
    PutU64(&out, s.inplace_seq);
  }
  for (const CheckpointNamespace& n : c.namespaces) {
    PutU32(&out, n.id);
    out.push_back(static_cast<char>((n.dropped ? 1 : 0) |
                                    ((n.flags & kNsFlagOrdered) != 0 ? 2 : 0)));
    out.push_back(static_cast<char>(n.name.size()));
    out += n.name;
    PutU64(&out, static_cast<uint64_t>(n.live_keys));
    PutU64(&out, static_cast<uint64_t>(n.ttl_keys));
    PutU64(&out, n.min_expiry);
    PutU64(&out, n.create_loc);
    PutU32(&out, n.create_size);
  }
  return out;
}

void EncodeCheckpointShardCounts(const std::vector<uint32_t>& counts, char* out) {
  std::memset(out, 0, kCheckpointShardCountsSize);
  for (size_t i = 0; i < counts.size() && i < kCheckpointShards; ++i) {
    EncodeU32(out + 4 * i, counts[i]);
  }
}

void EncodeCheckpointHeader(const CheckpointData& c, uint64_t n_entries, uint64_t body_checksum,
                            char* h) {
  std::memset(h, 0, kCheckpointHeaderSize);
  std::memcpy(h, kMagic, 8);
  EncodeU32(h + 8, kCheckpointVersion);
  EncodeU32(h + 12, c.flags);
  EncodeU64(h + 16, c.db_id);
  EncodeU64(h + 24, c.last_seq);
  EncodeU64(h + 32, c.segments.size());
  EncodeU64(h + 40, c.namespaces.size());
  EncodeU64(h + 48, n_entries);
  EncodeU64(h + 56, c.ordered.size());
  EncodeU64(h + 64, body_checksum);
  EncodeU64(h + 72, Checksum(h, 72));
}

namespace {

// The shard counts, then the entries 128 KiB at a time.
Status EmitEntries(const CheckpointData& c, const std::function<Status(std::string_view)>& sink) {
  char counts[kCheckpointShardCountsSize];
  EncodeCheckpointShardCounts(c.shard_counts, counts);
  FIRKIN_RETURN_IF_ERROR(sink(std::string_view(counts, sizeof counts)));
  constexpr size_t kRun = 16384;  // entries per piece (128 KiB)
  std::string buf(kRun * kCheckpointEntrySize, '\0');
  for (size_t next = 0; next < c.packed_entries.size();) {
    const size_t n = std::min(kRun, c.packed_entries.size() - next);
    for (size_t k = 0; k < n; ++k) {
      EncodeCheckpointEntry(c.packed_entries[next + k], &buf[k * kCheckpointEntrySize]);
    }
    FIRKIN_RETURN_IF_ERROR(sink(std::string_view(buf.data(), n * kCheckpointEntrySize)));
    next += n;
  }
  return Status::OK();
}

// The shard counts must add up to the entries, or a reader would take
// entries for the wrong shard.
bool CountsMatch(const CheckpointData& c) {
  if (c.shard_counts.size() != kCheckpointShards) return false;
  uint64_t sum = 0;
  for (uint32_t n : c.shard_counts) sum += n;
  return sum == c.packed_entries.size();
}

}  // namespace

Status WriteCheckpoint(const CheckpointData& c,
                       const std::function<Status(std::string_view)>& sink) {
  if (!CountsMatch(c)) {
    return Status::InvalidArgument("checkpoint: shard counts do not add up to the entries");
  }
  const std::string tables = EncodeCheckpointTables(c);
  // The body's checksum goes into the header, before the body: a first
  // pass over the entries computes it, the second writes them.
  ChecksumStream body;
  body.Update(tables);
  EmitEntries(c, [&](std::string_view piece) {
    body.Update(piece);
    return Status::OK();
  });
  body.Update(c.ordered);
  char h[kCheckpointHeaderSize];
  EncodeCheckpointHeader(c, c.entry_count(), body.Digest(), h);
  FIRKIN_RETURN_IF_ERROR(sink(std::string_view(h, sizeof h)));
  FIRKIN_RETURN_IF_ERROR(sink(tables));
  FIRKIN_RETURN_IF_ERROR(EmitEntries(c, sink));
  return c.ordered.empty() ? Status::OK() : sink(c.ordered);
}

std::string EncodeCheckpoint(const CheckpointData& c) {
  std::string out;
  out.reserve(kCheckpointHeaderSize + c.segments.size() * kCheckpointSegmentSize +
              kCheckpointShardCountsSize + c.entry_count() * kCheckpointEntrySize +
              c.ordered.size());
  WriteCheckpoint(c, [&](std::string_view piece) {
    out.append(piece.data(), piece.size());
    return Status::OK();
  });
  return out;
}

uint64_t CheckpointTailCheck(const char* seg, uint64_t len) {
  const uint64_t from = len > kSegmentHeaderSize + kTailCheckWindow ? len - kTailCheckWindow
                                                                     : kSegmentHeaderSize;
  return Checksum(seg + from, len - from) ^ len;
}

Status DecodeCheckpointHeader(std::string_view data, const std::string& path,
                              CheckpointHeader* out) {
  auto bad = [&](const std::string& why, size_t off) {
    return Status::Corruption(path + ": " + why + " at offset " + std::to_string(off));
  };
  if (data.size() < kCheckpointHeaderSize || std::memcmp(data.data(), kMagic, 8) != 0) {
    return bad("not a checkpoint (bad magic or size)", 0);
  }
  const char* h = data.data();
  // The version first: older versions had a shorter header (their
  // checksum sits elsewhere) and are not read at all.
  const uint32_t version = DecodeU32(h + 8);
  if (version > kCheckpointVersion) {
    return Status::Version(path + ": checkpoint version is newer than this library supports");
  }
  if (version < kCheckpointOldestRead) {
    return Status::Corruption(path + ": checkpoint version " + std::to_string(version) +
                              " is older than this library writes (it is rebuilt)");
  }
  if (DecodeU64(h + 72) != Checksum(h, 72)) return bad("header checksum mismatch", 72);
  out->version = version;
  out->flags = DecodeU32(h + 12);
  out->db_id = DecodeU64(h + 16);
  out->last_seq = DecodeU64(h + 24);
  out->n_segments = DecodeU64(h + 32);
  out->n_namespaces = DecodeU64(h + 40);
  out->n_entries = DecodeU64(h + 48);
  out->ordered_bytes = DecodeU64(h + 56);
  // The size the counts imply (names are 0..255 bytes), in 128-bit-safe
  // steps: any count too large for the file is refused here, before the
  // body is read.
  const uint64_t size = data.size() - kCheckpointHeaderSize;
  const uint64_t ns_entry_min = version >= 8 ? kCheckpointNamespaceMin : kCheckpointNamespaceMinV7;
  if (out->n_segments > size / kCheckpointSegmentSize ||
      out->n_namespaces > size / ns_entry_min ||
      out->n_entries > size / kCheckpointEntrySize || out->ordered_bytes > size) {
    return bad("counts do not fit the file size", 32);
  }
  const uint64_t fixed = out->n_segments * kCheckpointSegmentSize + kCheckpointShardCountsSize +
                        out->n_entries * kCheckpointEntrySize + out->ordered_bytes;
  const uint64_t ns_min = out->n_namespaces * ns_entry_min;
  const uint64_t ns_max = out->n_namespaces * (ns_entry_min + 255);
  if (fixed > size || size - fixed < ns_min || size - fixed > ns_max) {
    return bad("file size " + std::to_string(data.size()) + " does not match its counts", 32);
  }
  return Status::OK();
}

Status DecodeCheckpoint(std::string_view data, const std::string& path, CheckpointData* out) {
  auto bad = [&](const std::string& why, size_t off) {
    return Status::Corruption(path + ": " + why + " at offset " + std::to_string(off));
  };
  CheckpointHeader hdr;
  FIRKIN_RETURN_IF_ERROR(DecodeCheckpointHeader(data, path, &hdr));
  const char* h = data.data();
  if (DecodeU64(h + 64) !=
      Checksum(data.data() + kCheckpointHeaderSize, data.size() - kCheckpointHeaderSize)) {
    return bad("body checksum mismatch", kCheckpointHeaderSize);
  }
  out->db_id = DecodeU64(h + 16);
  out->flags = DecodeU32(h + 12);
  out->version = hdr.version;
  out->last_seq = DecodeU64(h + 24);
  const uint64_t nseg = DecodeU64(h + 32), nns = DecodeU64(h + 40), nent = DecodeU64(h + 48);
  const uint64_t ordered_bytes = hdr.ordered_bytes;
  size_t pos = kCheckpointHeaderSize;
  const size_t end = data.size() - ordered_bytes;  // (the header check bounds it)
  if (nseg > (end - pos) / kCheckpointSegmentSize) {
    return bad("segment table runs past the end", pos);
  }
  for (uint64_t i = 0; i < nseg; i++, pos += kCheckpointSegmentSize) {
    const char* p = data.data() + pos;
    CheckpointSegment s;
    s.id = DecodeU64(p);
    s.slot = DecodeU32(p + 8);
    s.flags = DecodeU32(p + 12);
    s.len = DecodeU64(p + 16);
    s.live = DecodeU64(p + 24);
    s.dead = DecodeU64(p + 32);
    s.min_seq = DecodeU64(p + 40);
    s.tail_check = DecodeU64(p + 48);
    s.min_expiry = DecodeU64(p + 56);
    s.inplace_seq = DecodeU64(p + 64);
    out->segments.push_back(s);
  }
  for (uint64_t i = 0; i < nns; i++) {
    if (end - pos < 6) return bad("namespace table runs past the end", pos);
    CheckpointNamespace n;
    n.id = DecodeU32(data.data() + pos);
    const uint8_t nf = static_cast<uint8_t>(data[pos + 4]);
    if (nf > 3) return bad("unknown namespace flags", pos + 4);
    n.dropped = (nf & 1) != 0;
    n.flags = (nf & 2) != 0 ? kNsFlagOrdered : 0;
    size_t len = static_cast<unsigned char>(data[pos + 5]);
    pos += 6;
    const size_t tail = hdr.version >= 8 ? 36 : 24;  // (create_loc, create_size: version 8)
    if (end - pos < len + tail) return bad("namespace entry runs past the end", pos);
    n.name.assign(data.data() + pos, len);
    pos += len;
    n.live_keys = static_cast<int64_t>(DecodeU64(data.data() + pos));
    n.ttl_keys = static_cast<int64_t>(DecodeU64(data.data() + pos + 8));
    n.min_expiry = DecodeU64(data.data() + pos + 16);
    if (hdr.version >= 8) {
      n.create_loc = DecodeU64(data.data() + pos + 24);
      n.create_size = DecodeU32(data.data() + pos + 32);
    }
    pos += tail;
    out->namespaces.push_back(std::move(n));
  }
  if (end - pos < kCheckpointShardCountsSize) return bad("shard counts run past the end", pos);
  uint64_t sum = 0;
  for (size_t i = 0; i < kCheckpointShards; ++i) sum += DecodeU32(data.data() + pos + 4 * i);
  if (sum != nent) return bad("shard counts do not add up to the entries", pos);
  out->shard_counts_view = data.substr(pos, kCheckpointShardCountsSize);
  pos += kCheckpointShardCountsSize;
  if ((end - pos) / kCheckpointEntrySize != nent || (end - pos) % kCheckpointEntrySize != 0) {
    return bad("index entry count does not match the size", pos);
  }
  out->entries_view = data.substr(pos, end - pos);
  out->ordered_view = data.substr(end);
  return Status::OK();
}

}  // namespace firkin
