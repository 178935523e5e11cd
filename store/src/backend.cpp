// backend: the names of the storage tables, as LMDB knows them and as error
// messages show them. The names are part of the on-disk layout
// (docs/format.md): never rename one.
#include "profilestore/store/backend.hpp"

namespace profilestore {

std::string_view to_string(table t) noexcept {
  switch (t) {
    case table::versions:
      return "versions";
    case table::heads:
      return "heads";
    case table::nodes:
      return "nodes";
    case table::meta:
      return "meta";
  }
  return "unknown table";
}

} // namespace profilestore
