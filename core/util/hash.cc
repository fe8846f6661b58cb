#include "core/util/hash.h"

#include <sys/random.h>

#include <chrono>
#include <cstring>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/util/xxh3_pieces.h"

namespace firkin {

uint64_t KeyHash(uint64_t seed, uint32_t ns_id, std::string_view key) {
  // Mix the namespace into the seed: equal keys in distinct namespaces hash
  // independently, and no bytes need to be copied to prepend the id.
  return XXH3_64bits_withSeed(key.data(), key.size(),
                              seed ^ (0x9E3779B97F4A7C15ull * (uint64_t{ns_id} + 1)));
}

#if defined(FIRKIN_HAVE_AVX2_CHECKSUM)
extern "C" uint64_t firkin_internal_checksum_avx2(const void* data, size_t len);
extern "C" uint64_t firkin_internal_checksum3_avx2(const void* a, size_t alen, const void* b,
                                                   size_t blen, const void* c, size_t clen);
#endif

namespace {

uint64_t ChecksumDefault(const void* data, size_t len) { return XXH3_64bits(data, len); }

using ChecksumFn = uint64_t (*)(const void*, size_t);
using Checksum3Fn = uint64_t (*)(const void*, size_t, const void*, size_t, const void*, size_t);

bool HaveAvx2() {
#if defined(FIRKIN_HAVE_AVX2_CHECKSUM)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

// XXH3 over records (1 KB in YCSB) runs 1.8x faster with AVX2 than with the
// SSE2 code x86-64 compilers target by default (55 -> 30 ns per cached
// 1040-byte record, 257 -> 183 ns uncached, on the 2-core machine): picked
// once, by what this CPU has. Both give the same value (XXH3 is defined
// bit for bit; the vector width only changes the speed).
ChecksumFn PickChecksum() {
#if defined(FIRKIN_HAVE_AVX2_CHECKSUM)
  if (HaveAvx2()) return firkin_internal_checksum_avx2;
#endif
  return ChecksumDefault;
}

Checksum3Fn PickChecksum3() {
#if defined(FIRKIN_HAVE_AVX2_CHECKSUM)
  if (HaveAvx2()) return firkin_internal_checksum3_avx2;
#endif
  return Xxh3OfPieces;
}

}  // namespace

uint64_t Checksum(const void* data, size_t len) {
  // Below 240 bytes XXH3 has no vector loop: the call through the pointer
  // would only add its cost.
  // (A function-local static: no order among the library's static
  // initializers to depend on.)
  static const ChecksumFn long_checksum = PickChecksum();
  return len <= 240 ? XXH3_64bits(data, len) : long_checksum(data, len);
}

uint64_t Checksum3(std::string_view a, std::string_view b, std::string_view c) {
  const size_t n = a.size() + b.size() + c.size();
  if (n <= 240) {
    // XXH3's short path: one contiguous copy on the stack costs less than
    // the streaming state.
    char buf[240];
    std::memcpy(buf, a.data(), a.size());
    if (!b.empty()) std::memcpy(buf + a.size(), b.data(), b.size());
    if (!c.empty()) std::memcpy(buf + a.size() + b.size(), c.data(), c.size());
    return XXH3_64bits(buf, n);
  }
  static const Checksum3Fn checksum3 = PickChecksum3();
  return checksum3(a.data(), a.size(), b.data(), b.size(), c.data(), c.size());
}

static_assert(sizeof(XXH3_state_t) <= sizeof(unsigned char[640]) &&
                  alignof(XXH3_state_t) <= 64,
              "ChecksumStream's buffer must hold an XXH3_state_t");

ChecksumStream::ChecksumStream() { XXH3_64bits_reset(reinterpret_cast<XXH3_state_t*>(state_)); }

void ChecksumStream::Update(std::string_view bytes) {
  XXH3_64bits_update(reinterpret_cast<XXH3_state_t*>(state_), bytes.data(), bytes.size());
}

uint64_t ChecksumStream::Digest() const {
  return XXH3_64bits_digest(reinterpret_cast<const XXH3_state_t*>(state_));
}

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
