#include "core/keyspace/options.h"

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>

namespace firkin {

const char* SyncModeName(SyncMode m) {
  switch (m) {
    case SyncMode::kNone: return "none";
    case SyncMode::kInterval: return "interval";
    case SyncMode::kAlways: return "always";
    case SyncMode::kDefault: return "default";
  }
  return "unknown";
}

Status Options::SetSyncMode(SyncMode m) {
  if (m != SyncMode::kNone && m != SyncMode::kInterval && m != SyncMode::kAlways) {
    return Status::InvalidArgument("sync_mode must be none, interval or always");
  }
  sync_mode = m;
  return Status::OK();
}

Status Options::SetSyncIntervalMs(uint32_t ms) {
  if (ms < 1 || ms > 60000) {
    return Status::InvalidArgument("sync_interval_ms must be in 1..60000, got " +
                                   std::to_string(ms));
  }
  sync_interval_ms = ms;
  return Status::OK();
}

Status Options::SetSegmentSize(uint64_t bytes) {
  if (bytes < kMinSegmentSize || bytes > kMaxSegmentSize) {
    return Status::InvalidArgument("segment_size must be in 64 KiB..1 GiB, got " +
                                   std::to_string(bytes));
  }
  segment_size = (bytes + 4095) & ~uint64_t{4095};
  return Status::OK();
}

Status Options::SetCompactDeadRatio(uint32_t percent) {
  if (percent < 1 || percent > 100) {
    return Status::InvalidArgument("compact_dead_ratio must be in 1..100 (percent), got " +
                                   std::to_string(percent));
  }
  compact_dead_ratio = percent;
  return Status::OK();
}

Status Options::SetCompactSpaceAmp(uint32_t percent) {
  if (percent < 110 || percent > 10000) {
    return Status::InvalidArgument("compact_space_amp must be in 110..10000 (percent), got " +
                                   std::to_string(percent));
  }
  compact_space_amp = percent;
  return Status::OK();
}

Status Options::SetCompression(Compression c) {
  if (c != Compression::kNone && c != Compression::kLz4 && c != Compression::kZstd) {
    return Status::InvalidArgument("compression must be none, lz4 or zstd, got " +
                                   std::to_string(static_cast<int>(c)));
  }
  compression = c;
  return Status::OK();
}

Status Options::SetCompressionLevel(int32_t level) {
  if (level < kMinZstdLevel || level > kMaxZstdLevel || level == 0) {
    return Status::InvalidArgument("compression_level must be in " +
                                   std::to_string(kMinZstdLevel) + "..-1 or 1.." +
                                   std::to_string(kMaxZstdLevel) + ", got " +
                                   std::to_string(level));
  }
  compression_level = level;
  return Status::OK();
}

Status Options::SetEncryptionKey(std::string_view key) {
  if (key.size() != Aead::kKeySize) {
    return Status::InvalidArgument("an encryption key is exactly 32 bytes, got " +
                                   std::to_string(key.size()));
  }
  encryption.kind = KdfKind::kRaw;
  encryption.secret.assign(key.data(), key.size());
  return Status::OK();
}

Status Options::SetPassphrase(std::string_view text) {
  if (text.empty()) return Status::InvalidArgument("a passphrase must not be empty");
  if (text.size() > 4096) return Status::InvalidArgument("a passphrase is at most 4096 bytes");
  encryption.kind = KdfKind::kArgon2id;
  encryption.secret.assign(text.data(), text.size());
  return Status::OK();
}

// true/false, 1/0, yes/no, on/off, in any case ("TRUE", "Off").
static Status ParseBool(const std::string& name, const std::string& text, bool* out) {
  std::string v = text;
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v == "true" || v == "1" || v == "yes" || v == "on") { *out = true; return Status::OK(); }
  if (v == "false" || v == "0" || v == "no" || v == "off") { *out = false; return Status::OK(); }
  return Status::InvalidArgument("option " + name +
                                 ": expected true or false (or 1/0, yes/no, on/off), got '" +
                                 text + "'");
}

static Status ParseSize(const std::string& name, const std::string& v, uint64_t* out) {
  if (v.empty() || !std::isdigit(static_cast<unsigned char>(v[0]))) {
    return Status::InvalidArgument("option " + name + ": expected a number, got '" + v + "'");
  }
  errno = 0;
  char* end = nullptr;
  unsigned long long n = std::strtoull(v.c_str(), &end, 10);
  uint64_t mult = 1;
  std::string suffix(end);
  if (suffix == "K" || suffix == "k" || suffix == "KiB") mult = 1ull << 10;
  else if (suffix == "M" || suffix == "m" || suffix == "MiB") mult = 1ull << 20;
  else if (suffix == "G" || suffix == "g" || suffix == "GiB") mult = 1ull << 30;
  else if (!suffix.empty()) {
    return Status::InvalidArgument("option " + name + ": bad size suffix in '" + v + "'");
  }
  if (errno != 0 || n > (UINT64_MAX / mult)) {
    return Status::InvalidArgument("option " + name + ": value out of range '" + v + "'");
  }
  *out = n * mult;
  return Status::OK();
}

Status Options::Set(const std::string& name, const std::string& value) {
  if (name == "create_if_missing") return ParseBool(name, value, &create_if_missing);
  if (name == "error_if_exists") return ParseBool(name, value, &error_if_exists);
  if (name == "read_only") return ParseBool(name, value, &read_only);
  if (name == "salvage") return ParseBool(name, value, &salvage);
  if (name == "verify_checksums") return ParseBool(name, value, &verify_checksums);
  if (name == "in_place_updates") return ParseBool(name, value, &in_place_updates);
  if (name == "auto_compact") return ParseBool(name, value, &auto_compact);
  if (name == "compact_rate") return ParseSize(name, value, &compact_rate);
  if (name == "checkpoint_every") return ParseSize(name, value, &checkpoint_every);
  if (name == "change_retention_bytes") return ParseSize(name, value, &change_retention_bytes);
  if (name == "change_retention_seqs") return ParseSize(name, value, &change_retention_seqs);
  if (name == "history_retention_ms") return ParseSize(name, value, &history_retention_ms);
  if (name == "txn_max_age_ms") return ParseSize(name, value, &txn_max_age_ms);
  if (name == "compact_dead_ratio" || name == "compact_space_amp") {
    uint64_t v = 0;
    FIRKIN_RETURN_IF_ERROR(ParseSize(name, value, &v));
    if (v > UINT32_MAX) return Status::InvalidArgument("option " + name + " out of range");
    return name == "compact_dead_ratio" ? SetCompactDeadRatio(static_cast<uint32_t>(v))
                                        : SetCompactSpaceAmp(static_cast<uint32_t>(v));
  }
  if (name == "sync_mode") {
    if (value == "none") return SetSyncMode(SyncMode::kNone);
    if (value == "interval") return SetSyncMode(SyncMode::kInterval);
    if (value == "always") return SetSyncMode(SyncMode::kAlways);
    return Status::InvalidArgument("option sync_mode: expected none, interval or always, got '" +
                                   value + "'");
  }
  if (name == "sync_interval_ms") {
    uint64_t v = 0;
    FIRKIN_RETURN_IF_ERROR(ParseSize(name, value, &v));
    if (v > UINT32_MAX) return Status::InvalidArgument("option sync_interval_ms out of range");
    return SetSyncIntervalMs(static_cast<uint32_t>(v));
  }
  if (name == "write_stall_factor") {
    uint64_t v = 0;
    FIRKIN_RETURN_IF_ERROR(ParseSize(name, value, &v));
    if (v == 1 || v > 1000) {
      return Status::InvalidArgument(
          "option write_stall_factor must be 0 (writes never wait for compaction) or 2..1000, "
          "got '" + value + "'");
    }
    write_stall_factor = static_cast<uint32_t>(v);
    return Status::OK();
  }
  if (name == "expected_keys") {
    uint64_t v = 0;
    FIRKIN_RETURN_IF_ERROR(ParseSize(name, value, &v));
    if (v > kMaxExpectedKeys) {
      return Status::InvalidArgument("option expected_keys must be 0.." +
                                     std::to_string(kMaxExpectedKeys) + ", got '" + value + "'");
    }
    expected_keys = v;
    return Status::OK();
  }
  if (name == "recycle_segments") {
    uint64_t v = 0;
    FIRKIN_RETURN_IF_ERROR(ParseSize(name, value, &v));
    if (v > kMaxRecycle) {
      return Status::InvalidArgument("option recycle_segments must be 0.." +
                                     std::to_string(kMaxRecycle) + ", got '" + value + "'");
    }
    recycle_segments = static_cast<uint32_t>(v);
    return Status::OK();
  }
  if (name == "segment_size") {
    uint64_t v = 0;
    FIRKIN_RETURN_IF_ERROR(ParseSize(name, value, &v));
    return SetSegmentSize(v);
  }
  // ---- encryption: the secrets (write-only; "encryption" reads the kind) ----
  if (name == "encryption_key") {  // 64 hex digits
    std::string key;
    for (size_t i = 0; i + 1 < value.size() && value.size() == 2 * Aead::kKeySize; i += 2) {
      auto hex = [](char c) {
        return c >= '0' && c <= '9' ? c - '0'
               : c >= 'a' && c <= 'f' ? c - 'a' + 10
               : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      };
      const int hi = hex(value[i]), lo = hex(value[i + 1]);
      if (hi < 0 || lo < 0) break;
      key.push_back(static_cast<char>(hi << 4 | lo));
    }
    if (key.size() != Aead::kKeySize) {
      return Status::InvalidArgument("option encryption_key: expected 64 hex digits (32 bytes)");
    }
    return SetEncryptionKey(key);
  }
  if (name == "passphrase") return SetPassphrase(value);
  if (name == "compression") {
    if (value == "none") return SetCompression(Compression::kNone);
    if (value == "lz4") return SetCompression(Compression::kLz4);
    if (value == "zstd") return SetCompression(Compression::kZstd);
    return Status::InvalidArgument("option compression: expected none, lz4 or zstd, got '" +
                                   value + "'");
  }
  if (name == "compression_level") {
    errno = 0;
    char* end = nullptr;
    const long v = std::strtol(value.c_str(), &end, 10);
    // Digits with an optional '-', nothing around them (strtol alone took
    // " 5" and "+5" but not "5 ").
    const size_t digits = !value.empty() && value[0] == '-' ? 1 : 0;
    const bool plain = value.size() > digits &&
                       value.find_first_not_of("0123456789", digits) == std::string::npos;
    if (!plain || *end != '\0' || errno != 0 || v < INT32_MIN || v > INT32_MAX) {
      return Status::InvalidArgument("option compression_level: expected an integer, got '" +
                                     value + "'");
    }
    return SetCompressionLevel(static_cast<int32_t>(v));
  }
  if (name == "compression_min_size") {
    uint64_t v = 0;
    FIRKIN_RETURN_IF_ERROR(ParseSize(name, value, &v));
    if (v > UINT32_MAX) return Status::InvalidArgument("option compression_min_size out of range");
    compression_min_size = static_cast<uint32_t>(v);
    return Status::OK();
  }
  // ---- encryption: Argon2id cost of a passphrase (memory in KiB) ----
  if (name == "kdf_memory_kib" || name == "kdf_passes" || name == "kdf_lanes") {
    uint64_t v = 0;
    FIRKIN_RETURN_IF_ERROR(ParseSize(name, value, &v));
    if (v > UINT32_MAX) return Status::InvalidArgument("option " + name + " out of range");
    const uint32_t u = static_cast<uint32_t>(v);
    uint32_t lo = 1, hi = KdfParams::kMaxPasses, *field = &encryption.params.passes;
    if (name == "kdf_memory_kib") {
      lo = KdfParams::kMinMemoryKib, hi = KdfParams::kMaxMemoryKib;
      field = &encryption.params.memory_kib;
    } else if (name == "kdf_lanes") {
      hi = KdfParams::kMaxLanes, field = &encryption.params.lanes;
    }
    // (memory >= 8 KiB x lanes is checked when the key file is written)
    if (u < lo || u > hi) {
      return Status::InvalidArgument("option " + name + " must be " + std::to_string(lo) + ".." +
                                     std::to_string(hi) + ", got '" + value + "'");
    }
    *field = u;
    return Status::OK();
  }
  return Status::InvalidArgument("unknown option '" + name + "'");
}

Status Options::Get(const std::string& name, std::string* value) const {
  auto b = [](bool v) { return std::string(v ? "true" : "false"); };
  if (name == "create_if_missing") *value = b(create_if_missing);
  else if (name == "error_if_exists") *value = b(error_if_exists);
  else if (name == "read_only") *value = b(read_only);
  else if (name == "salvage") *value = b(salvage);
  else if (name == "verify_checksums") *value = b(verify_checksums);
  else if (name == "in_place_updates") *value = b(in_place_updates);
  else if (name == "sync_mode") *value = SyncModeName(sync_mode);
  else if (name == "sync_interval_ms") *value = std::to_string(sync_interval_ms);
  else if (name == "segment_size") *value = std::to_string(segment_size);
  else if (name == "auto_compact") *value = b(auto_compact);
  else if (name == "compact_dead_ratio") *value = std::to_string(compact_dead_ratio);
  else if (name == "compact_space_amp") *value = std::to_string(compact_space_amp);
  else if (name == "compact_rate") *value = std::to_string(compact_rate);
  else if (name == "write_stall_factor") *value = std::to_string(write_stall_factor);
  else if (name == "checkpoint_every") *value = std::to_string(checkpoint_every);
  else if (name == "recycle_segments") *value = std::to_string(recycle_segments);
  else if (name == "expected_keys") *value = std::to_string(expected_keys);
  else if (name == "change_retention_bytes") *value = std::to_string(change_retention_bytes);
  else if (name == "change_retention_seqs") *value = std::to_string(change_retention_seqs);
  else if (name == "history_retention_ms") *value = std::to_string(history_retention_ms);
  else if (name == "txn_max_age_ms") *value = std::to_string(txn_max_age_ms);
  else if (name == "compression") *value = CompressionName(compression);
  else if (name == "compression_level") *value = std::to_string(compression_level);
  else if (name == "compression_min_size") *value = std::to_string(compression_min_size);
  else if (name == "kdf_memory_kib") *value = std::to_string(encryption.params.memory_kib);
  else if (name == "kdf_passes") *value = std::to_string(encryption.params.passes);
  else if (name == "kdf_lanes") *value = std::to_string(encryption.params.lanes);
  // The secret itself is never handed back: only which kind is set.
  else if (name == "encryption") {
    *value = encryption.empty() ? "none"
             : encryption.kind == KdfKind::kRaw ? "key" : "passphrase";
  }
  else return Status::InvalidArgument("unknown option '" + name + "'");
  return Status::OK();
}

}  // namespace firkin
