// MemoryFile: a MappedFile over process memory, for unit tests of code that
// works on a segment's bytes (the reservation word, the ordered index's
// record reads) without a file: Sync and Truncate do nothing.
//
// Thread contract: as any MappedFile: data() is shared, the rest is called
// by its owner.
#ifndef FIRKIN_TESTS_UNIT_MEMORY_FILE_H_
#define FIRKIN_TESTS_UNIT_MEMORY_FILE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/env/env.h"

namespace firkin {

class MemoryFile final : public MappedFile {
 public:
  explicit MemoryFile(uint64_t size) : bytes_(size) {}
  char* data() override { return bytes_.data(); }
  uint64_t size() const override { return bytes_.size(); }
  Status Sync(uint64_t, uint64_t) override { return Status::OK(); }
  Status Truncate(uint64_t) override { return Status::OK(); }
  const std::string& path() const override { return path_; }
  void SetPath(const std::string& p) override { path_ = p; }

 private:
  std::vector<char> bytes_;
  std::string path_ = "memory";
};

}  // namespace firkin

#endif  // FIRKIN_TESTS_UNIT_MEMORY_FILE_H_
