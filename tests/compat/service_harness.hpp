// The ProfileService layer on the actor runtime's test harness: CAF's test
// coordinator, virtual time, a faulty backend over memory storage. The
// *_async calls are used (the blocking ones would wait for a scheduler that
// only runs when the test calls it); their answers land in slots.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "profilestore/compat/profile_service.hpp"
#include "runtime_harness.hpp"

namespace profilestore::testing {

template <class T>
struct answer_slot {
  std::shared_ptr<std::optional<result<T>>> value
    = std::make_shared<std::optional<result<T>>>();

  compat::done_fn<T> fn() const {
    auto v = value;
    return [v](result<T> r) { v->emplace(std::move(r)); };
  }
  bool ready() const { return value->has_value(); }
  result<T>& get() const {
    REQUIRE_MESSAGE(ready(), "the call was not answered");
    return **value;
  }
};

inline value coins_template() {
  return value::object({{"coins", 0}});
}

struct service_runtime : runtime {
  compat::profile_service service{sys, *n};

  explicit service_runtime(runtime_options o = {}) : runtime(std::move(o)) {}

  compat::service_store open(const std::string& name = "players") {
    auto s = service.get_profile_store(name, coins_template());
    REQUIRE_MESSAGE(s.ok(), describe(s));
    return *s;
  }

  answer_slot<std::optional<compat::service_profile>>
  load_later(const compat::service_store& s, const std::string& key,
             compat::load_options o = {}) {
    answer_slot<std::optional<compat::service_profile>> slot;
    s.load_profile_async(key, std::move(o), slot.fn());
    return slot;
  }

  // A load that must succeed at once (no time passes).
  compat::service_profile load(const compat::service_store& s,
                               const std::string& key,
                               compat::load_options o = {}) {
    auto slot = load_later(s, key, std::move(o));
    run();
    auto& r = slot.get();
    REQUIRE_MESSAGE(r.ok(), describe(r));
    REQUIRE(r->has_value());
    return **r;
  }

  result<compat::global_updates>
  global_update(const compat::service_store& s, const std::string& key,
                compat::update_handler h) {
    answer_slot<compat::global_updates> slot;
    s.global_update_profile_async(key, std::move(h), slot.fn());
    run();
    return std::move(slot.get());
  }

  result<std::optional<compat::profile_view>>
  view(const compat::service_store& s, const std::string& key,
       std::optional<std::uint64_t> version = std::nullopt) {
    answer_slot<std::optional<compat::profile_view>> slot;
    s.view_profile_async(key, version, slot.fn());
    run();
    return std::move(slot.get());
  }

  // Asks for a save without running the actors (it is queued).
  void save_later(const profile_handle& h) { ask_unit_later(h.actor, save_atom::value); }

  // Runs fn on the profile's view inside its actor.
  result<void> with(const compat::service_profile& p, compat::view_fn fn) {
    return update(p.handle(), p.in_profile(std::move(fn)));
  }
};

} // namespace profilestore::testing

// REQUIRE_OK for calls inside callbacks that are themselves inside a
// REQUIRE_OK (a distinct variable name; CHECK, since a REQUIRE would throw
// through the profile actor).
#define INNER_OK(expr)                                                         \
  do {                                                                         \
    auto&& inner_result_ = (expr);                                             \
    CHECK_MESSAGE(inner_result_.ok(),                                          \
                  ::profilestore::testing::describe(inner_result_));           \
  } while (false)
