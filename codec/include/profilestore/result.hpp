// result<T>: a value or an error, never both (an `expected` for C++17).
//
// Construct from a T (success) or from an `error` (failure). Reading the value
// of a failed result, or the error of a successful one, is a programming error
// checked with assert in debug builds. `result<void>` carries only an error.
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

#include "profilestore/error.hpp"

namespace profilestore {

template <class T>
class [[nodiscard]] result {
public:
  static_assert(!std::is_same_v<std::decay_t<T>, error>,
                "result<error> is ambiguous");

  // By reference, not by value: a by-value parameter costs one more move of
  // T, and results carry large records through every storage call.
  result(const T& value) : state_(std::in_place_index<0>, value) {}
  result(T&& value) : state_(std::in_place_index<0>, std::move(value)) {}
  result(error err) : state_(std::in_place_index<1>, std::move(err)) {
    assert(std::get<1>(state_) && "a failed result needs a real error");
  }
  template <class U, class = std::enable_if_t<
                       std::is_constructible_v<T, U&&>
                       && !std::is_same_v<std::decay_t<U>, T>
                       && !std::is_same_v<std::decay_t<U>, error>
                       && !std::is_same_v<std::decay_t<U>, result>>>
  result(U&& value) : state_(std::in_place_index<0>, std::forward<U>(value)) {}

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const error& err() const& {
    assert(!ok());
    return std::get<1>(state_);
  }
  error&& err() && {
    assert(!ok());
    return std::get<1>(std::move(state_));
  }

private:
  std::variant<T, error> state_;
};

template <>
class [[nodiscard]] result<void> {
public:
  result() = default;
  result(error err) : err_(std::move(err)) {}

  bool ok() const noexcept { return !err_; }
  explicit operator bool() const noexcept { return ok(); }

  const error& err() const& { return err_; }
  error&& err() && { return std::move(err_); }

private:
  error err_;
};

// Returns the error of `expr` from the enclosing function if it failed.
#define PROFILESTORE_TRY(expr)                                                 \
  do {                                                                         \
    auto&& profilestore_try_result_ = (expr);                                  \
    if (!profilestore_try_result_.ok())                                        \
      return std::move(profilestore_try_result_).err();                        \
  } while (false)

} // namespace profilestore
