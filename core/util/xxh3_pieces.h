// XXH3 of three byte ranges laid end to end, through XXH3's streaming
// state. Included (after <xxhash.h> with XXH_INLINE_ALL) by hash.cc and by
// hash_avx2.cc, so that each compiles it for its own target: it has
// internal linkage only, and must keep it (see hash_avx2.cc).
//
// Thread contract: a pure function; safe from any thread.
#ifndef FIRKIN_CORE_UTIL_XXH3_PIECES_H_
#define FIRKIN_CORE_UTIL_XXH3_PIECES_H_

static inline uint64_t Xxh3OfPieces(const void* a, size_t alen, const void* b, size_t blen,
                                    const void* c, size_t clen) {
  XXH3_state_t st;
  XXH3_64bits_reset(&st);
  XXH3_64bits_update(&st, a, alen);
  XXH3_64bits_update(&st, b, blen);
  XXH3_64bits_update(&st, c, clen);
  return XXH3_64bits_digest(&st);
}

#endif  // FIRKIN_CORE_UTIL_XXH3_PIECES_H_
