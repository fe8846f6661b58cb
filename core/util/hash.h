// Hashing and checksums: thin wrappers over XXH3 (xxHash), the one hash
// family of the project (DESIGN §2, §4).
//
// Thread contract: pure functions; safe from any thread.
#ifndef FIRKIN_CORE_UTIL_HASH_H_
#define FIRKIN_CORE_UTIL_HASH_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace firkin {

// Index hash of (namespace id, key), seeded per database so that keys chosen
// to collide in one database do not collide in another.
uint64_t KeyHash(uint64_t seed, uint32_t ns_id, std::string_view key);

// Checksum of a byte range (XXH3 64-bit, unseeded).
uint64_t Checksum(const void* data, size_t len);

// Checksum(a + b + c): the checksum of the three ranges laid end to end,
// without laying them out. A writer hashes the record's pieces where they
// already sit in cache (its header on the stack, the caller's key and
// value) instead of reading back the log lines it has just stored to, whose
// ownership the core is still fetching (DESIGN §3: a put is one pass over
// fresh memory).
uint64_t Checksum3(std::string_view a, std::string_view b, std::string_view c);

// Checksum of bytes handed over in pieces: Update(x), Update(y), ... then
// Digest() equals Checksum() of the pieces laid end to end. For a file
// written in pieces (an index checkpoint) whose checksum must not need the
// whole file in memory.
// Thread contract: one object per thread.
class ChecksumStream {
 public:
  ChecksumStream();
  ChecksumStream(const ChecksumStream&) = delete;
  ChecksumStream& operator=(const ChecksumStream&) = delete;
  void Update(std::string_view bytes);
  uint64_t Digest() const;

 private:
  alignas(64) unsigned char state_[640];  // an XXH3_state_t (hash.cc checks the size)
};

// A random 64-bit value from the OS (getrandom), for database ids and seeds.
uint64_t RandomU64();

}  // namespace firkin

#endif  // FIRKIN_CORE_UTIL_HASH_H_
