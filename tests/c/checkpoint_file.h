/*
 * checkpoint_file.h — a database's CHECKPOINT file read into memory, edited
 * and written back re-signed (both XXH3 checksums recomputed), for the
 * tests that forge one (docs/format.md, "Checkpoint `CHECKPOINT`"): a
 * well-formed file whose content lies, which no checksum catches.
 * Header-only; include it once per program (after defining XXH_INLINE_ALL
 * and including xxhash.h).
 *
 *   ckpt_read(dir)          CHECKPOINT into ckpt_buf / ckpt_len (0 = ok)
 *   ckpt_write(dir)         re-signs and writes it back (0 = ok)
 *   ckpt_u64(off)           a little-endian u64 of the file
 *   ckpt_put_u64(off, v)
 *   ckpt_entries_at()       where the index entries start (after the
 *                           segments, namespaces and 1024 shard counts)
 *
 * Layout used here: an 80-byte header ([24] last seq, [32] segments, [40]
 * namespaces, [48] entries, [56] ordered-section bytes, [64] body
 * checksum, [72] header checksum), 72 bytes per segment, per namespace
 * {u32 id, u8 flags, u8 name length, name, i64 keys, i64 TTL keys, u64
 * expiry bound, and since version 8 u64 create record locator, u32 its
 * size}, 1024 u32 shard counts, the 8-byte entries, the ordered section.
 *
 *   ckpt_version()          the file's version (the u32 at offset 8)
 *   ckpt_to_v7()            makes a version-8 file a version-7 one (the
 *                           namespaces' create record places left out),
 *                           as a library before 2026-11-29 wrote it
 */
#ifndef FIRKIN_TESTS_C_CHECKPOINT_FILE_H_
#define FIRKIN_TESTS_C_CHECKPOINT_FILE_H_

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static unsigned char ckpt_buf[1 << 22];
static size_t ckpt_len;

static inline uint64_t ckpt_u64(size_t off) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | ckpt_buf[off + (size_t)i];
  return v;
}

static inline void ckpt_put_u64(size_t off, uint64_t v) {
  for (int i = 0; i < 8; i++) ckpt_buf[off + (size_t)i] = (unsigned char)(v >> (8 * i));
}

static inline int ckpt_read(const char *dir) {
  char p[1200];
  snprintf(p, sizeof p, "%s/CHECKPOINT", dir);
  FILE *f = fopen(p, "rb");
  if (f == NULL) return 1;
  ckpt_len = fread(ckpt_buf, 1, sizeof ckpt_buf, f);
  fclose(f);
  return ckpt_len < 80 ? 1 : 0;
}

static inline int ckpt_write(const char *dir) {
  ckpt_put_u64(64, (uint64_t)XXH3_64bits(ckpt_buf + 80, ckpt_len - 80));
  ckpt_put_u64(72, (uint64_t)XXH3_64bits(ckpt_buf, 72));
  char p[1200];
  snprintf(p, sizeof p, "%s/CHECKPOINT", dir);
  FILE *f = fopen(p, "wb");
  if (f == NULL) return 1;
  const size_t n = fwrite(ckpt_buf, 1, ckpt_len, f);
  fclose(f);
  return n == ckpt_len ? 0 : 1;
}

static inline uint32_t ckpt_version(void) { return (uint32_t)(ckpt_u64(8) & 0xffffffffu); }

/* The offset of the first namespace entry. */
static inline size_t ckpt_namespaces_at(void) { return 80 + (size_t)ckpt_u64(32) * 72; }

/* The bytes of a namespace entry after its name. */
static inline size_t ckpt_ns_tail(void) { return ckpt_version() >= 8 ? 36 : 24; }

/* The offset of the 1024 shard counts. */
static inline size_t ckpt_shards_at(void) {
  size_t p = ckpt_namespaces_at();
  for (uint64_t i = 0; i < ckpt_u64(40); i++) p += 6 + ckpt_buf[p + 5] + ckpt_ns_tail();
  return p;
}

/* Version 8 -> 7: each namespace entry loses its last 12 bytes (0 = ok;
 * write it with ckpt_write). */
static inline int ckpt_to_v7(void) {
  if (ckpt_version() != 8) return 1;
  size_t p = ckpt_namespaces_at();
  for (uint64_t i = 0; i < ckpt_u64(40); i++) {
    const size_t cut = p + 6 + ckpt_buf[p + 5] + 24; /* the 12 bytes of version 8 */
    memmove(ckpt_buf + cut, ckpt_buf + cut + 12, ckpt_len - cut - 12);
    ckpt_len -= 12;
    p = cut;
  }
  ckpt_buf[8] = 7;
  ckpt_buf[9] = ckpt_buf[10] = ckpt_buf[11] = 0;
  return 0;
}

static inline size_t ckpt_entries_at(void) { return ckpt_shards_at() + 4 * 1024; }

#endif  /* FIRKIN_TESTS_C_CHECKPOINT_FILE_H_ */
