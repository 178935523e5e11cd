// temp_dir: a fresh folder under $TMPDIR (or /tmp), removed with its contents
// when the object goes out of scope. Tests never use fixed paths.
#pragma once

#include <string>

namespace profilestore::testing {

class temp_dir {
public:
  // Creates "<tmp>/profilestore-<prefix>-XXXXXX". Aborts the test on failure.
  explicit temp_dir(const std::string& prefix = "test");
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const noexcept { return path_; }
  // path() + "/" + name
  std::string file(const std::string& name) const;

private:
  std::string path_;
};

} // namespace profilestore::testing
