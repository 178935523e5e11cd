// Checks on result<T> for tests: must() unwraps a success or fails the test
// with the error's own text; code_of() gives the errc of a result (ok when it
// succeeded), for CHECK(code_of(r) == errc::...); describe() is "ok" or the
// error's text, for failure messages; REQUIRE_OK / CHECK_OK check a result
// and print its error when it failed.
#pragma once

#include <doctest/doctest.h>

#include <string>
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

template <class T>
std::string describe(const result<T>& r) {
  return r.ok() ? std::string("ok") : r.err().to_string();
}

} // namespace profilestore::testing

#define REQUIRE_OK(expr)                                                       \
  do {                                                                         \
    auto&& ps_result_ = (expr);                                                \
    REQUIRE_MESSAGE(ps_result_.ok(),                                           \
                    ::profilestore::testing::describe(ps_result_));            \
  } while (false)
#define CHECK_OK(expr)                                                         \
  do {                                                                         \
    auto&& ps_result_ = (expr);                                                \
    CHECK_MESSAGE(ps_result_.ok(),                                             \
                  ::profilestore::testing::describe(ps_result_));              \
  } while (false)
