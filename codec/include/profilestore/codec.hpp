// Start here: the codec module (profilestore::codec).
//
//   value      a dynamic tree with paths and reconcile     codec/value.hpp
//   msgpack    encode/decode/validate under limits         codec/msgpack.hpp
//   typed      MSGPACK_DEFINE_MAP structs as profiles      codec/typed.hpp
//   json       a JSON view for tools and humans            codec/json.hpp
//   errors     error codes and result<T>                   error.hpp, result.hpp
#pragma once

#include "profilestore/codec/json.hpp"
#include "profilestore/codec/limits.hpp"
#include "profilestore/codec/msgpack.hpp"
#include "profilestore/codec/typed.hpp"
#include "profilestore/codec/value.hpp"
#include "profilestore/error.hpp"
#include "profilestore/result.hpp"
