// exception_boundary: turns exceptions into errors at the public edge of the
// backends.
//
// Backends report failures as values (result.hpp), but the standard library
// underneath may still throw (std::bad_alloc from a string or a map,
// std::system_error from a mutex). Every public backend, transaction and
// cursor call runs its body through `without_exceptions` so that nothing
// escapes to a caller that does not expect it. The messages are short
// literals so that building them cannot allocate (small-string storage).
#pragma once

#include <exception>
#include <new>

#include "profilestore/result.hpp"

namespace profilestore::detail {

template <class Body>
auto without_exceptions(Body&& body) noexcept -> decltype(body()) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return error{errc::internal, "out of memory"};
  } catch (...) {
    return error{errc::internal, "system error"};
  }
}

} // namespace profilestore::detail
