#include "core/util/hash.h"

#include <sys/random.h>

#include <chrono>
#include <cstring>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace firkin {

uint64_t KeyHash(uint64_t seed, uint32_t ns_id, std::string_view key) {
  // Mix the namespace into the seed: equal keys in distinct namespaces hash
  // independently, and no bytes need to be copied to prepend the id.
  return XXH3_64bits_withSeed(key.data(), key.size(),
                              seed ^ (0x9E3779B97F4A7C15ull * (uint64_t{ns_id} + 1)));
}

uint64_t Checksum(const void* data, size_t len) { return XXH3_64bits(data, len); }

uint64_t RandomU64() {
  uint64_t v = 0;
  if (getrandom(&v, sizeof(v), 0) != static_cast<ssize_t>(sizeof(v))) {
    v = static_cast<uint64_t>(
            std::chrono::steady_clock::now().time_since_epoch().count()) *
        0x9E3779B97F4A7C15ull;
  }
  return v;
}

}  // namespace firkin
