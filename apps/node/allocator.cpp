#include "allocator.hpp"

#include <cstddef>

// jemalloc's control entry point, declared weak: it resolves to null unless
// jemalloc is linked into the process (or preloaded), so this file needs
// neither jemalloc's header nor jemalloc itself.
extern "C" int mallctl(const char* name, void* oldp, std::size_t* oldlenp,
                       void* newp, std::size_t newlen)
  __attribute__((weak));

namespace profilestore::node_app {

std::string allocator_name() {
  if (mallctl == nullptr)
    return "glibc malloc";
  const char* version = nullptr;
  std::size_t len = sizeof version;
  if (mallctl("version", &version, &len, nullptr, 0) != 0 || !version)
    return "jemalloc";
  return std::string("jemalloc ") + version;
}

} // namespace profilestore::node_app
