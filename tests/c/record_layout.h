/* The two record layouts of docs/format.md ("Records"), for the tests that
 * read, walk or damage segment files byte by byte. Both share bytes [8, 36)
 * (seq, prev, ns_id, value_len, key_len, type, flags); the flags byte (35)
 * says which layout a record has:
 *   short (flag 64, format version 8, what the library writes): a 4-byte
 *     checksum (the low 32 bits of XXH3 over [4, end)), the in-place
 *     counter at 4, optional fields and key from 36;
 *   long (format versions up to 7): an 8-byte checksum (XXH3 over
 *     [8, end)), the counter at 36, optional fields and key from 40.
 * Test machinery only: header-only, no library code. */
#ifndef FIRKIN_TESTS_RECORD_LAYOUT_H
#define FIRKIN_TESTS_RECORD_LAYOUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define REC_FLAG_SHORT 64u
#define REC_MIN_SIZE 40u  /* the smallest record of either layout */
#define REC_PEEK_SIZE 36u /* bytes every record's header has */

static inline unsigned rec_header_len(unsigned flags) { return (flags & REC_FLAG_SHORT) ? 36u : 40u; }
static inline unsigned rec_checksum_len(unsigned flags) { return (flags & REC_FLAG_SHORT) ? 4u : 8u; }
static inline unsigned rec_counter_off(unsigned flags) { return (flags & REC_FLAG_SHORT) ? 4u : 36u; }
static inline unsigned rec_ext_len(unsigned flags) {
  return ((flags & 2u) ? 8u : 0u) + ((flags & 4u) ? 8u : 0u);
}
static inline unsigned rec_tail_len(unsigned flags) { return (flags & 32u) ? 16u : 0u; }
/* Bytes before the key: header and optional fields. */
static inline size_t rec_head_len(unsigned flags) { return rec_header_len(flags) + rec_ext_len(flags); }
/* Bytes the checksum covers end here (no padding). */
static inline size_t rec_body_end(unsigned flags, size_t klen, size_t vlen) {
  return rec_head_len(flags) + klen + vlen + rec_tail_len(flags);
}
static inline size_t rec_size(unsigned flags, size_t klen, size_t vlen) {
  return (rec_body_end(flags, klen, vlen) + 7u) & ~(size_t)7u;
}

/* Fields of the record at r (little-endian, as the format). */
static inline unsigned rec_flags(const unsigned char *r) { return r[35]; }
static inline unsigned rec_type(const unsigned char *r) { return r[34]; }
static inline uint32_t rec_u32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t rec_u64(const unsigned char *p) {
  return (uint64_t)rec_u32(p) | (uint64_t)rec_u32(p + 4) << 32;
}
static inline uint64_t rec_seq(const unsigned char *r) { return rec_u64(r + 8); }
static inline uint32_t rec_ns(const unsigned char *r) { return rec_u32(r + 24); }
static inline uint32_t rec_vlen(const unsigned char *r) { return rec_u32(r + 28); }
static inline uint32_t rec_klen(const unsigned char *r) { return (uint32_t)r[32] | (uint32_t)r[33] << 8; }
static inline uint32_t rec_counter(const unsigned char *r) { return rec_u32(r + rec_counter_off(rec_flags(r))); }
static inline size_t rec_record_size(const unsigned char *r) {
  return rec_size(rec_flags(r), rec_klen(r), rec_vlen(r));
}
static inline const unsigned char *rec_key(const unsigned char *r) { return r + rec_head_len(rec_flags(r)); }
static inline const unsigned char *rec_value(const unsigned char *r) { return rec_key(r) + rec_klen(r); }
/* The bytes the record's checksum covers: [*from, *from + *len). */
static inline void rec_covered(const unsigned char *r, size_t *from, size_t *len) {
  const unsigned f = rec_flags(r);
  *from = rec_checksum_len(f);
  *len = rec_body_end(f, rec_klen(r), rec_vlen(r)) - *from;
}
/* Stores `xxh3` (XXH3_64bits over rec_covered's bytes) as the record's
 * checksum: all of it in the long layout, the low 32 bits in the short. */
static inline void rec_store_checksum(unsigned char *r, uint64_t xxh3) {
  if (rec_flags(r) & REC_FLAG_SHORT) {
    const uint32_t c = (uint32_t)xxh3;
    memcpy(r, &c, 4);
  } else {
    memcpy(r, &xxh3, 8);
  }
}

/* Writes the record at r in the long layout at out (checksum 0, in-place
 * counter 0: the caller stores the checksum); returns its size. For tests
 * that make what a library of format version 7 or before wrote out of
 * what this one writes. Plain records only (a sealed record's additional
 * data is its header, which this changes). */
static inline size_t rec_copy_long(const unsigned char *r, unsigned char *out) {
  const unsigned f = rec_flags(r) & ~REC_FLAG_SHORT;
  const size_t kl = rec_klen(r), vl = rec_vlen(r);
  const size_t size = rec_size(f, kl, vl);
  memset(out, 0, size);
  memcpy(out + 8, r + 8, 27); /* seq, prev, ns_id, value_len, key_len, type */
  out[35] = (unsigned char)f;
  memcpy(out + 40, r + rec_header_len(rec_flags(r)), rec_ext_len(f) + kl + vl + rec_tail_len(f));
  return size;
}

#endif
