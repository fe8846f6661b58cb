// TempDir: a fresh directory under /tmp for one unit test (named after
// `prefix`), removed with everything in it when the object goes. path() is
// empty if it could not be made.
//
// Thread contract: one owner; the directory may be used from any thread
// while the object lives.
#ifndef FIRKIN_TESTS_UNIT_TEMP_DIR_H_
#define FIRKIN_TESTS_UNIT_TEMP_DIR_H_

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace firkin {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "firkin_unit_test") {
    std::string tmpl = "/tmp/" + prefix + "_XXXXXX";
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    if (!path_.empty()) std::filesystem::remove_all(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace firkin

#endif  // FIRKIN_TESTS_UNIT_TEMP_DIR_H_
