// CAF inspect() for every message type that crosses nodes: each becomes one
// MessagePack blob made by wire_codec (see there for the contracts). Must be
// visible wherever such a message is made, so internal_messages.hpp includes
// it; cluster.cpp registers the types with the actor system configuration
// (an unregistered type sent to a remote actor is dropped silently).
#pragma once

#include <string>

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/save_callback.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/none.hpp>

#include "wire_codec.hpp"

namespace profilestore {

namespace detail {

template <class Inspector, class T>
typename Inspector::result_type inspect_as_blob(Inspector& f, T& x,
                                                const char* type_name) {
  std::string bytes;
  return f(caf::meta::type_name(type_name),
           caf::meta::save_callback([&]() -> caf::error {
             bytes = wire::encode(x);
             return caf::none;
           }),
           bytes,
           caf::meta::load_callback(
             [&]() -> caf::error { return wire::decode(bytes, x); }));
}

} // namespace detail

#define PROFILESTORE_WIRE_INSPECT(T)                                           \
  template <class Inspector>                                                   \
  typename Inspector::result_type inspect(Inspector& f, T& x) {                \
    return detail::inspect_as_blob(f, x, "profilestore::" #T);                 \
  }
PROFILESTORE_WIRE_TYPES(PROFILESTORE_WIRE_INSPECT)
#undef PROFILESTORE_WIRE_INSPECT

} // namespace profilestore
