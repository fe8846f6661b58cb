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

// A random 64-bit value from the OS (getrandom), for database ids and seeds.
uint64_t RandomU64();

}  // namespace firkin

#endif  // FIRKIN_CORE_UTIL_HASH_H_
