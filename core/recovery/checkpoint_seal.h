// The sealed checkpoint of an encrypted database: the whole checkpoint
// (core/recovery/checkpoint.h: index tags and addresses, segment table,
// namespace names) encrypted as one AES-256-GCM message under the data key,
// with a fresh random 96-bit nonce per write (docs/format.md,
// "Encryption").
//
// Layout (little-endian):
//   [0]  magic "FIRKCKPE"  [8] u32 version (1)  [12] u32 0
//   [16] u64 database id   [24] 12-byte nonce   [36] u32 0
//   [40] the plaintext checkpoint, encrypted, then the 16-byte tag;
//        aad = bytes [0, 40)
// A sealed checkpoint that fails its tag is treated like any damaged
// checkpoint: ignored, every segment scanned.
//
// Thread contract: plain functions.
#ifndef FIRKIN_CORE_RECOVERY_CHECKPOINT_SEAL_H_
#define FIRKIN_CORE_RECOVERY_CHECKPOINT_SEAL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/crypto/aead.h"
#include "core/util/status.h"

namespace firkin {

constexpr size_t kSealedCheckpointHeaderSize = 40;
constexpr size_t kSealedCheckpointOverhead = kSealedCheckpointHeaderSize + Aead::kTagSize;

// The sealed file for the plaintext checkpoint `plain`.
Status SealCheckpoint(const Aead& aead, uint64_t db_id, std::string_view plain,
                      std::string* out);

// The plaintext of a sealed checkpoint file: kCorruption (with the path) for
// a file that is not one, of another database, or fails authentication;
// kVersion for a newer version.
Status OpenSealedCheckpoint(const Aead& aead, std::string_view file, const std::string& path,
                            uint64_t db_id, std::string* plain);

}  // namespace firkin

#endif  // FIRKIN_CORE_RECOVERY_CHECKPOINT_SEAL_H_
