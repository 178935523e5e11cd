// Typed profiles: any struct adapted with MSGPACK_DEFINE_MAP.
//
//   struct player {
//     std::int64_t coins = 0;
//     std::vector<std::string> items;
//     MSGPACK_DEFINE_MAP(coins, items)  // no ';': -Wpedantic flags it
//   };
//
// encode_typed packs straight with msgpack-c (no intermediate tree).
// decode_typed first validates the bytes under decode_limits (no tree built),
// then unpacks with msgpack-c's own limits and converts. A field missing in the
// stored data keeps the value it had in `out` (its default), which is what
// reconciling a profile with its template means for typed data. A field of
// the wrong type is a type_mismatch error and leaves `out` unspecified.
#pragma once

#include <algorithm>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>

#ifndef MSGPACK_NO_BOOST
#define MSGPACK_NO_BOOST
#endif
#include <msgpack.hpp>

#include "profilestore/codec/limits.hpp"
#include "profilestore/codec/msgpack.hpp"
#include "profilestore/codec/value.hpp"
#include "profilestore/result.hpp"

namespace profilestore {

// A msgpack-c output stream that appends to a std::string. Small writes
// (msgpack-c writes a few bytes at a time) gather in an inline buffer and
// reach the string in chunks: std::string::append is an out-of-line call, and
// one per write made record encoding measurably slower. Everything written is
// in the string after flush() or destruction; call flush() before touching
// the string directly.
class string_sink {
public:
  explicit string_sink(std::string& out) : out_(&out) {}
  ~string_sink() { flush(); }
  string_sink(const string_sink&) = delete;
  string_sink& operator=(const string_sink&) = delete;

  void write(const char* data, std::size_t size) {
    if (size > sizeof buffer_ - used_) {
      flush();
      if (size > sizeof buffer_ / 2) {
        out_->append(data, size);
        return;
      }
    }
    std::memcpy(buffer_ + used_, data, size);
    used_ += size;
  }

  void flush() {
    if (used_ > 0) {
      out_->append(buffer_, used_);
      used_ = 0;
    }
  }

private:
  std::string* out_;
  std::size_t used_ = 0;
  char buffer_[512];
};

namespace detail {
msgpack::unpack_limit to_unpack_limit(const decode_limits& limits);
error describe_unpack_failure(const std::exception& e);
} // namespace detail

namespace detail {
// msgpack-c's packer writes through any type with write(const char*, size).
// This one writes straight into the caller's std::string, grown ahead and
// trimmed at the end: encoding then allocates no separate buffer
// (msgpack::sbuffer starts at 8 KiB) and copies nothing afterwards, and each
// write is a bounds check and a memcpy, inline (std::string::append is a
// call per write, which profiling showed slower than sbuffer).
class string_sink {
public:
  string_sink(std::string& out, std::size_t size_hint)
    : out_(out), used_(out.size()) {
    out_.resize(used_ + (size_hint > 0 ? size_hint : 256));
  }
  ~string_sink() { out_.resize(used_); } // also when packing throws
  string_sink(const string_sink&) = delete;
  string_sink& operator=(const string_sink&) = delete;

  void write(const char* bytes, std::size_t size) {
    if (out_.size() - used_ < size)
      grow(size);
    std::memcpy(&out_[used_], bytes, size);
    used_ += size;
  }

private:
  void grow(std::size_t size) {
    out_.resize(std::max(out_.size() * 2, used_ + size));
  }

  std::string& out_;
  std::size_t used_;
};
} // namespace detail

// Appends v's encoding to `out`. `size_hint`, when not 0, is how much room
// to make first: the caller's guess of the encoded size (a profile passes
// its last one), which spares the string its step-by-step growth.
template <class T>
void encode_typed(const T& v, std::string& out, std::size_t size_hint = 0) {
  detail::string_sink sink(out, size_hint);
  msgpack::pack(sink, v);
}

template <class T>
std::string encode_typed(const T& v) {
  std::string out;
  encode_typed(v, out);
  return out;
}

template <class T>
result<void> decode_typed(std::string_view bytes, T& out,
                          const decode_limits& limits = {}) {
  PROFILESTORE_TRY(validate_msgpack(bytes, limits));
  try {
    auto handle = msgpack::unpack(bytes.data(), bytes.size(), nullptr,
                                  nullptr, detail::to_unpack_limit(limits));
    handle.get().convert(out);
  } catch (const std::exception& e) {
    return detail::describe_unpack_failure(e);
  }
  return {};
}

// Conversions between typed profiles and the dynamic view (for JSON, tools,
// path access): through MessagePack, so both see the same data.
template <class T>
result<value> to_value(const T& v, const decode_limits& limits = {}) {
  return decode_msgpack(encode_typed(v), limits);
}

template <class T>
result<void> from_value(const value& v, T& out,
                        const decode_limits& limits = {}) {
  return decode_typed(encode_msgpack(v), out, limits);
}

} // namespace profilestore
