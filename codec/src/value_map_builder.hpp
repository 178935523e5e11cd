// value_map_builder.hpp (private to codec): builds a value_map entry in
// place, key and value constructed where they will live.
//
// The public append_unsorted takes a finished key and value and moves both
// into the map; for a decoder that is a copy of every short key and a move
// and destruction of every value more than needed, about a tenth of the time
// of decoding a typical profile. The same contract applies: entries go in
// unordered, and finish_unsorted() (or proof that keys arrived in strictly
// increasing order) must follow.
#pragma once

#include <string_view>
#include <tuple>
#include <utility>

#include "profilestore/codec/value.hpp"

namespace profilestore::detail {

struct value_map_builder {
  // Appends {key, value(item)} and returns the new value.
  template <class T>
  static value& emplace_unsorted(value_map& map, std::string_view key,
                                 T&& item) {
    return map.entries_
      .emplace_back(std::piecewise_construct, std::forward_as_tuple(key),
                    std::forward_as_tuple(std::forward<T>(item)))
      .second;
  }
};

} // namespace profilestore::detail
