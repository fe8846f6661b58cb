// GoogleTest main for the unit tests: runs every test and ends with the
// project's closing line "N passed, N failed".
#include <gtest/gtest.h>

#include <cstdio>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  int rc = RUN_ALL_TESTS();
  const auto* ut = ::testing::UnitTest::GetInstance();
  std::printf("%d passed, %d failed\n", ut->successful_test_count(), ut->failed_test_count());
  return rc;
}
