// Standalone: cost of the in-place update's steps on 1000-byte values (2026-11-29).
// Build: g++ -O3 -std=c++17 -I. -o /tmp/encbench THIS.cc build/core/libfirkin_core.a \
//   -lxxhash -lpthread -lcrypto -llz4 -lzstd -largon2
#include "core/log/format.h"
#include "core/util/hash.h"
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>
using namespace firkin;
int main() {
  alignas(64) static char img[4096], rec[64][4096];
  std::string key = "user000000012345", val(1000, 'x');
  for (size_t i = 0; i < val.size(); i++) val[i] = char(i * 7);
  const int N = 2000000;
  auto t = [&](const char* name, auto&& f) {
    for (int i = 0; i < N / 10; i++) f(i);
    double best = 1e9;
    for (int rep = 0; rep < 5; rep++) {
      auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < N; i++) f(i);
      double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / N;
      if (ns < best) best = ns;
    }
    printf("%-40s %6.1f ns\n", name, best);
  };
  size_t size = 0;
  t("EncodeRecordCached (encode+XXH3)", [&](int i) { size = EncodeRecordCached(RecordFields{uint64_t(i), 5, 1, RecordType::kPut, 0, key, val, 1700000000000ull, 0, 2}, img); asm volatile("" ::: "memory"); });
  t("memcpy value into image only", [&](int i) { std::memcpy(img + 44 + key.size(), val.data(), val.size()); asm volatile("" ::: "memory"); });
  t("Checksum over record", [&](int i) { volatile uint64_t c = Checksum(img + 4, size - 4); (void)c; });
  t("copy image over record (L1/L2 hot, 64 records)", [&](int i) { std::memcpy(rec[i & 63], img, size); asm volatile("" ::: "memory"); });
  t("encode without checksum (hand copy)", [&](int i) {
    char* h = img; {uint64_t q = i; memcpy(h + 8, &q, 8); memcpy(h + 40, &q, 8);}; memcpy(h + 16, &size, 8); h[34] = 1; h[35] = 3; memcpy(h+36, &i, 4);
    memcpy(h + 48, key.data(), key.size()); memcpy(h + 48 + key.size(), val.data(), val.size());
    memset(h + 48 + key.size() + val.size(), 0, size - 48 - key.size() - val.size()); asm volatile("" ::: "memory"); });
  t("hand encode then Checksum", [&](int i) {
    char* h = img; {uint64_t q = i; memcpy(h + 8, &q, 8); memcpy(h + 40, &q, 8);}; memcpy(h + 16, &size, 8); h[34] = 1; h[35] = 3; memcpy(h+36, &i, 4);
    memcpy(h + 48, key.data(), key.size()); memcpy(h + 48 + key.size(), val.data(), val.size());
    memset(h + 48 + key.size() + val.size(), 0, size - 48 - key.size() - val.size());
    volatile uint64_t c = Checksum(img + 4, size - 4); (void)c; });
  for (int shift : {0, 4, 8, 16, 32, 60}) {
    char name[64]; snprintf(name, sizeof name, "hand encode+sum, value at +%d mod 64", (64 + shift) % 64);
    t(name, [&](int i) {
      char* h = img + shift; uint64_t q = i; memcpy(h + 8, &q, 8); memcpy(h + 16, &size, 8); h[34] = 1; h[35] = 3; memcpy(h+36, &q, 8);
      memcpy(h + 44, key.data(), key.size()); memcpy(h + 60, val.data(), val.size());
      memset(h + 60 + val.size(), 0, 4);
      volatile uint64_t c = Checksum(h + 4, 1060); (void)c; });
  }
  t("hand, all header fields, value at +60", [&](int i) {
      char* h = img; uint64_t q = i; memcpy(h + 8, &q, 8); memcpy(h + 16, &size, 8);
      uint32_t ns = 1, vl = 1000; uint16_t kl = 16; uint32_t ctr = 2;
      memcpy(h + 24, &ns, 4); memcpy(h + 28, &vl, 4); memcpy(h + 32, &kl, 2); h[34] = 1; h[35] = 3;
      memcpy(h + 4, &ctr, 4); memcpy(h+36, &q, 8);
      memcpy(h + 44, key.data(), key.size()); memcpy(h + 60, val.data(), val.size());
      memset(h + 60 + val.size(), 0, 4);
      uint64_t c = Checksum(h + 4, 1056); memcpy(h, &c, 4); asm volatile("" ::: "memory"); });
  t("hand, header built in a local 64B then copied", [&](int i) {
      alignas(64) char hb[64]; uint64_t q = i; memcpy(hb + 8, &q, 8); memcpy(hb + 16, &size, 8);
      uint32_t ns = 1, vl = 1000; uint16_t kl = 16; uint32_t ctr = 2;
      memcpy(hb + 24, &ns, 4); memcpy(hb + 28, &vl, 4); memcpy(hb + 32, &kl, 2); hb[34] = 1; hb[35] = 3;
      memcpy(hb + 4, &ctr, 4); memcpy(hb+36, &q, 8); memcpy(hb + 44, key.data(), 16); memcpy(hb + 60, val.data(), 4);
      char* h = img; memcpy(h, hb, 64);
      memcpy(h + 64, val.data() + 4, val.size() - 4);
      memset(h + 60 + val.size(), 0, 4);
      uint64_t c = Checksum(h + 4, 1056); memcpy(h, &c, 4); asm volatile("" ::: "memory"); });
  printf("record size %zu\n", size);
}
