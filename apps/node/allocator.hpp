// Which malloc the running process uses, for logs and benchmark reports.
//
// The server executables (profilestore-node, profilestore-bench) link
// jemalloc when the build has PROFILESTORE_JEMALLOC on (the default; see
// cmake/ProfilestoreAllocator.cmake): a node allocates and frees a message,
// a response promise and often a record for every storage call from several
// threads, and glibc's per-thread arenas hand freed memory back to the kernel
// and fault it in again between bursts.
#pragma once

#include <string>

namespace profilestore::node_app {

// "jemalloc <version>" when jemalloc is the process's malloc, otherwise
// "glibc malloc" (also under the sanitizers, which bring their own).
std::string allocator_name();

} // namespace profilestore::node_app
