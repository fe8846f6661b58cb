// Nonce builders for AES-256-GCM (core/crypto/aead.h).
//
// RecordNonce: the 12-byte nonce of the record at `offset` in the segment
// whose header carries `salt` (a random 64-bit value drawn when the segment
// is created): salt (8 bytes LE) || offset (4 bytes LE). A record is written
// once at one offset of one segment, and segments are never rewritten in
// place, so (salt, offset) is unique per sealed record under one data key as
// long as salts do not repeat; the argument, and the birthday bound on
// salts, are in docs/format.md, "Encryption".
//
// RandomNonce: 96 random bits from the OS CSPRNG (via RAND_bytes), for files
// written a few times in a database's life (the key file, the checkpoint).
//
// Thread contract: pure functions; RandomBytes is thread-safe.
#ifndef FIRKIN_CORE_CRYPTO_NONCE_H_
#define FIRKIN_CORE_CRYPTO_NONCE_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/util/status.h"

namespace firkin {

inline void RecordNonce(uint64_t segment_salt, uint32_t offset, uint8_t out[12]) {
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "little-endian hosts only");
  std::memcpy(out, &segment_salt, 8);
  std::memcpy(out + 8, &offset, 4);
}

// Fills out[0..n) with cryptographically secure random bytes.
Status RandomBytes(void* out, size_t n);

inline Status RandomNonce(uint8_t out[12]) { return RandomBytes(out, 12); }

}  // namespace firkin

#endif  // FIRKIN_CORE_CRYPTO_NONCE_H_
