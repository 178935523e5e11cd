// async_call: the two ways every compat call runs.
//  - ask_async: one request from a short-lived helper actor, its answer (or
//    error) handed to a callback in that actor. Works on any scheduler,
//    CAF's test coordinator included.
//  - wait_for: the blocking form; waits for a callback-style call at most
//    `bound`, then answers errc::timeout (the call itself goes on and its
//    late answer is dropped).
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include "profilestore/actors/constants.hpp"
#include "profilestore/actors/errors.hpp"
#include "profilestore/result.hpp"

namespace profilestore::compat::detail {

template <class T>
using callback = std::function<void(result<T>)>;

// Sends (xs...) to `to` from a helper actor; `done` gets T or the error.
// The callback goes in as a spawn argument (CAF 0.17 binds a null argument
// tuple for functions that take only `self`).
template <class T, class... Ts>
void ask_async(caf::actor_system& sys, const caf::actor& to, duration timeout,
               callback<T> done, Ts... xs) {
  auto slot = std::make_shared<callback<T>>(std::move(done));
  sys.spawn(
    [to, timeout, xs...](caf::event_based_actor* self,
                         std::shared_ptr<callback<T>> cb) {
      self->request(to, timeout, xs...)
        .then(
          [self, cb](T& v) {
            (*cb)(result<T>(std::move(v)));
            self->quit();
          },
          [self, cb](caf::error& e) {
            (*cb)(result<T>(from_caf_error(e)));
            self->quit();
          });
    },
    slot);
}

// Runs `start(done)` and waits at most `bound` for `done` to be called.
template <class T, class Start>
result<T> wait_for(Start&& start, duration bound) {
  auto promise = std::make_shared<std::promise<result<T>>>();
  auto once = std::make_shared<std::once_flag>();
  auto future = promise->get_future();
  start(callback<T>([promise, once](result<T> r) {
    std::call_once(*once, [&] { promise->set_value(std::move(r)); });
  }));
  if (future.wait_for(bound) != std::future_status::ready)
    return make_error(errc::timeout,
                      "no answer within "
                        + std::to_string(bound.count()) + " ms");
  return future.get();
}

} // namespace profilestore::compat::detail
