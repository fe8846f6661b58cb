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

// A random 64-bit value from the OS (getrandom), for database ids and seeds.
uint64_t RandomU64();

}  // namespace firkin

#endif  // FIRKIN_CORE_UTIL_HASH_H_
