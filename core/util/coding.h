// Little-endian fixed-width encoding of integers into byte buffers.
//
// Thread contract: pure functions on caller memory.
#ifndef FIRKIN_CORE_UTIL_CODING_H_
#define FIRKIN_CORE_UTIL_CODING_H_

#include <cstdint>
#include <cstring>
#include <string>

namespace firkin {

// The on-disk format is little-endian; this build supports little-endian
// hosts only (checked at compile time), so encoding is a memcpy.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "little-endian hosts only");

inline void EncodeU16(char* p, uint16_t v) { std::memcpy(p, &v, 2); }
inline void EncodeU32(char* p, uint32_t v) { std::memcpy(p, &v, 4); }
inline void EncodeU64(char* p, uint64_t v) { std::memcpy(p, &v, 8); }
inline uint16_t DecodeU16(const char* p) { uint16_t v; std::memcpy(&v, p, 2); return v; }
inline uint32_t DecodeU32(const char* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
inline uint64_t DecodeU64(const char* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }

inline void PutU32(std::string* s, uint32_t v) { char b[4]; EncodeU32(b, v); s->append(b, 4); }
inline void PutU64(std::string* s, uint64_t v) { char b[8]; EncodeU64(b, v); s->append(b, 8); }

}  // namespace firkin

#endif  // FIRKIN_CORE_UTIL_CODING_H_
