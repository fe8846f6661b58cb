#include "core/recovery/checkpoint.h"

#include <cstring>

#include "core/log/format.h"
#include "core/util/coding.h"
#include "core/util/hash.h"

namespace firkin {

namespace {
constexpr char kMagic[8] = {'F', 'I', 'R', 'K', 'C', 'K', 'P', 'T'};
constexpr uint32_t kCheckpointVersion = 1;
}  // namespace

std::string EncodeCheckpoint(const CheckpointData& c) {
  std::string out(kCheckpointHeaderSize, '\0');
  for (const CheckpointSegment& s : c.segments) {
    PutU64(&out, s.id);
    PutU32(&out, s.slot);
    PutU32(&out, s.flags);
    PutU64(&out, s.len);
    PutU64(&out, s.live);
    PutU64(&out, s.dead);
    PutU64(&out, s.min_seq);
  }
  for (const CheckpointNamespace& n : c.namespaces) {
    PutU32(&out, n.id);
    out.push_back(static_cast<char>(n.dropped ? 1 : 0));
    out.push_back(static_cast<char>(n.name.size()));
    out += n.name;
    PutU64(&out, static_cast<uint64_t>(n.live_keys));
  }
  out += c.entries;
  char* h = &out[0];
  std::memcpy(h, kMagic, 8);
  EncodeU32(h + 8, kCheckpointVersion);
  EncodeU64(h + 16, c.db_id);
  EncodeU64(h + 24, c.last_seq);
  EncodeU64(h + 32, c.segments.size());
  EncodeU64(h + 40, c.namespaces.size());
  EncodeU64(h + 48, c.entry_count());
  EncodeU64(h + 56, Checksum(out.data() + kCheckpointHeaderSize, out.size() - kCheckpointHeaderSize));
  EncodeU64(h + 64, Checksum(h, 64));
  return out;
}

Status DecodeCheckpoint(std::string_view data, const std::string& path, CheckpointData* out) {
  auto bad = [&](const std::string& why, size_t off) {
    return Status::Corruption(path + ": " + why + " at offset " + std::to_string(off));
  };
  if (data.size() < kCheckpointHeaderSize || std::memcmp(data.data(), kMagic, 8) != 0) {
    return bad("not a checkpoint (bad magic or size)", 0);
  }
  const char* h = data.data();
  if (DecodeU64(h + 64) != Checksum(h, 64)) return bad("header checksum mismatch", 64);
  if (DecodeU32(h + 8) > kCheckpointVersion) {
    return Status::Version(path + ": checkpoint version is newer than this library supports");
  }
  if (DecodeU64(h + 56) !=
      Checksum(data.data() + kCheckpointHeaderSize, data.size() - kCheckpointHeaderSize)) {
    return bad("body checksum mismatch", kCheckpointHeaderSize);
  }
  out->db_id = DecodeU64(h + 16);
  out->last_seq = DecodeU64(h + 24);
  const uint64_t nseg = DecodeU64(h + 32), nns = DecodeU64(h + 40), nent = DecodeU64(h + 48);
  size_t pos = kCheckpointHeaderSize;
  const size_t end = data.size();
  if (nseg > (end - pos) / 48) return bad("segment table runs past the end", pos);
  for (uint64_t i = 0; i < nseg; i++, pos += 48) {
    const char* p = data.data() + pos;
    CheckpointSegment s;
    s.id = DecodeU64(p);
    s.slot = DecodeU32(p + 8);
    s.flags = DecodeU32(p + 12);
    s.len = DecodeU64(p + 16);
    s.live = DecodeU64(p + 24);
    s.dead = DecodeU64(p + 32);
    s.min_seq = DecodeU64(p + 40);
    out->segments.push_back(s);
  }
  for (uint64_t i = 0; i < nns; i++) {
    if (end - pos < 6) return bad("namespace table runs past the end", pos);
    CheckpointNamespace n;
    n.id = DecodeU32(data.data() + pos);
    n.dropped = data[pos + 4] != 0;
    size_t len = static_cast<unsigned char>(data[pos + 5]);
    pos += 6;
    if (end - pos < len + 8) return bad("namespace entry runs past the end", pos);
    n.name.assign(data.data() + pos, len);
    pos += len;
    n.live_keys = static_cast<int64_t>(DecodeU64(data.data() + pos));
    pos += 8;
    out->namespaces.push_back(std::move(n));
  }
  if ((end - pos) != nent * 16) return bad("index entry count does not match the size", pos);
  out->entries_view = data.substr(pos);
  return Status::OK();
}

}  // namespace firkin
