// Checks on result<T> for tests: must() unwraps a success or fails the test
// with the error's own text; code_of() gives the errc of a result (ok when it
// succeeded), for CHECK(code_of(r) == errc::...).
#pragma once

#include <doctest/doctest.h>

#include <utility>

#include "profilestore/result.hpp"

namespace profilestore::testing {

template <class T>
T must(result<T> r) {
  if (!r.ok())
    FAIL(r.err().to_string());
  return std::move(r).value();
}

inline void must(result<void> r) {
  if (!r.ok())
    FAIL(r.err().to_string());
}

template <class T>
errc code_of(const result<T>& r) {
  return r.ok() ? errc::ok : r.err().code();
}

} // namespace profilestore::testing
