// Unit tests of the compaction's key filters (core/compact/key_filters).
#include "core/compact/key_filters.h"
#include "core/util/hash.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace firkin {
namespace {

// Keys as a database names them (similar strings, one namespace): no false
// negative ever, and about 1% false positives at 10 bits a key.
TEST(KeyFilter, NoFalseNegativesFewFalsePositives) {
  for (size_t n : {size_t{1}, size_t{10}, size_t{992}, size_t{20000}}) {
    std::vector<uint64_t> in;
    for (size_t i = 0; i < n; i++) in.push_back(KeyHash(77, 0, "cold" + std::to_string(i)));
    const KeyFilter f(in);
    for (uint64_t h : in) ASSERT_TRUE(f.MayContain(h)) << n;
    size_t fp = 0;
    const size_t probes = 100000;
    for (size_t i = 0; i < probes; i++) fp += f.MayContain(KeyHash(77, 0, "job" + std::to_string(i)));
    EXPECT_LT(fp, probes * 3 / 100) << "false positives among " << probes << " with " << n << " keys";
  }
}

TEST(KeyFilter, EmptyHoldsNothing) {
  const KeyFilter f(std::vector<uint64_t>{});
  EXPECT_FALSE(f.MayContain(KeyHash(1, 0, "k")));
}

}  // namespace
}  // namespace firkin
