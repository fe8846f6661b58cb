// KeyFile: the database's key file ("KEYS"): its data encryption key (DEK,
// 32 random bytes drawn at creation) wrapped with AES-256-GCM under a key-
// encryption key (KEK): the user's raw 32-byte key, or the Argon2id output
// of a passphrase with the salt and cost parameters stored here. Rekeying
// re-wraps the same DEK under a new KEK (docs/format.md, "Encryption").
//
// Layout (little-endian), one 128-byte copy, stored twice (256 bytes; open
// uses the first copy whose checksum holds, so one damaged sector loses
// nothing):
//   [0]  magic "FIRKKEYS"   [8]  u32 version (1)   [12] u32 kdf (0 raw, 1 argon2id)
//   [16] u32 argon2 memory KiB  [20] u32 passes  [24] u32 lanes  [28] u32 0
//   [32] 16-byte KDF salt (zero for raw keys)
//   [48] u64 database id
//   [56] 12-byte nonce (random per write)
//   [68] 48 bytes: the sealed DEK (32) + tag (16); aad = bytes [0, 56)
//   [116] u32 0   [120] u64 XXH3 of bytes [0, 120)
// The checksum tells damage (FIRKIN_E_CORRUPTION) from a wrong key (the tag
// fails: FIRKIN_E_BAD_KEY).
//
// Thread contract: plain functions and values; DeriveKek may take long
// (Argon2id's cost is the point) and allocates memory_kib KiB.
#ifndef FIRKIN_CORE_CRYPTO_KEY_FILE_H_
#define FIRKIN_CORE_CRYPTO_KEY_FILE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/util/status.h"

namespace firkin {

constexpr char kKeyFileName[] = "KEYS";
constexpr size_t kKeyFileCopySize = 128;
constexpr size_t kKeyFileSize = 2 * kKeyFileCopySize;

enum class KdfKind : uint32_t { kRaw = 0, kArgon2id = 1 };

// Argon2id cost. Defaults: 64 MiB, 3 passes, 1 lane (about 0.2-0.4 s on a
// current core; RFC 9106's second recommended option). Tests set cheap ones.
struct KdfParams {
  uint32_t memory_kib = 64 * 1024;
  uint32_t passes = 3;
  uint32_t lanes = 1;
  static constexpr uint32_t kMinMemoryKib = 8;        // Argon2's minimum per lane
  static constexpr uint32_t kMaxMemoryKib = 4u << 20; // 4 GiB
  static constexpr uint32_t kMaxPasses = 64;
  static constexpr uint32_t kMaxLanes = 16;
  Status Validate() const;
};

// What the user gave to open the database: a raw key or a passphrase (and,
// for a new database or a rekey, the KDF cost for the passphrase).
struct KeySource {
  KdfKind kind = KdfKind::kRaw;
  std::string secret;  // 32 key bytes, or the passphrase
  KdfParams params;
  bool empty() const { return secret.empty(); }
};

struct KeyFileData {
  KdfKind kind = KdfKind::kRaw;
  KdfParams params;
  uint8_t salt[16] = {};
  uint64_t db_id = 0;
};

// The KEK for `src` with the salt and parameters of `kf` (raw: the key
// itself). kInvalidArgument for bad parameters, kNoMemory if Argon2 cannot
// get its memory.
Status DeriveKek(const KeySource& src, const KeyFileData& kf, uint8_t kek[32]);

// A key file wrapping dek under kek (fresh random nonce). kf.kind,
// params, salt and db_id are recorded as given.
Status EncodeKeyFile(const KeyFileData& kf, const uint8_t kek[32], const uint8_t dek[32],
                     std::string* out);

// Parses the header of the first intact copy (no key needed): kCorruption
// when neither copy is intact, kVersion for a newer version.
Status DecodeKeyFileHeader(std::string_view data, const std::string& path, KeyFileData* out);

// Unwraps the DEK with kek: kBadKey when the key is wrong.
Status UnwrapKeyFile(std::string_view data, const std::string& path, const uint8_t kek[32],
                     uint8_t dek[32]);

// Which copy of a key file of the right size is damaged (its checksum
// fails) while the other is intact: 1 or 2; 0 when both are intact or
// neither is (nothing to repair from).
int KeyFileDamagedCopy(std::string_view data);
// The key file with its intact copy written twice (REQUIRES: one is).
std::string KeyFileFromIntactCopy(std::string_view data);

}  // namespace firkin

#endif  // FIRKIN_CORE_CRYPTO_KEY_FILE_H_
