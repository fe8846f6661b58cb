// The checksum's AVX2 build (core/util/hash.cc picks it at run time when the
// CPU has AVX2). This file alone is compiled with -mavx2, so it holds only
// XXH3's static inline code and C-linkage entry points: no C++ inline
// function with external linkage may be emitted here, or the linker could
// pick this AVX2 copy for callers on CPUs without it.
//
// Thread contract: a pure function; safe from any thread.
#include <cstddef>
#include <cstdint>

#define XXH_INLINE_ALL
#define XXH_VECTOR XXH_AVX2
#include <xxhash.h>

#include "core/util/xxh3_pieces.h"

extern "C" uint64_t firkin_internal_checksum_avx2(const void* data, size_t len) {
  return XXH3_64bits(data, len);
}

extern "C" uint64_t firkin_internal_checksum3_avx2(const void* a, size_t alen, const void* b,
                                                   size_t blen, const void* c, size_t clen) {
  return Xxh3OfPieces(a, alen, b, blen, c, clen);
}
