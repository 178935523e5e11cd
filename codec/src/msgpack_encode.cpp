// msgpack_encode.cpp: the MessagePack encoding of a value.
//
// Hand-written rather than msgpack::packer because the packer writes a whole
// double such as 2.0 as an integer, and the contract here is "doubles always
// as float 64" so that a double decodes as a double. Everything else follows
// the MessagePack spec in its smallest form: non-negative integers in the
// uint family, negative ones in the int family, str for strings, bin for
// binaries, map entries in value_map order (sorted by key). The output
// depends only on the value, never on history or platform.
//
// Lengths and counts must fit 32 bits (the format's own limit); a profile is
// bounded far below that by the data limit.
#include <cassert>
#include <cstring>
#include <limits>

#include "profilestore/codec/msgpack.hpp"

namespace profilestore {

namespace {

class msgpack_writer {
public:
  explicit msgpack_writer(std::string& out) : out_(out) {}

  void write(const value& v) {
    switch (v.type()) {
    case value::kind::nil: put_byte(0xc0); return;
    case value::kind::boolean: put_byte(*v.if_bool() ? 0xc3 : 0xc2); return;
    case value::kind::int64: write_int(*v.if_int64()); return;
    case value::kind::uint64: write_uint(*v.if_uint64()); return;
    case value::kind::float64: write_double(*v.if_double()); return;
    case value::kind::string: write_string(*v.if_string()); return;
    case value::kind::binary: write_binary(*v.if_binary()); return;
    case value::kind::array: write_array(*v.if_array()); return;
    case value::kind::map: write_map(*v.if_map()); return;
    }
  }

private:
  void put_byte(unsigned b) { out_.push_back(static_cast<char>(b)); }

  // A type byte followed by `width` big-endian bytes of `bits`.
  void put_tagged(unsigned type, std::uint64_t bits, unsigned width) {
    char buf[9];
    buf[0] = static_cast<char>(type);
    for (unsigned i = 0; i < width; ++i)
      buf[1 + i] = static_cast<char>(bits >> (8 * (width - 1 - i)));
    out_.append(buf, 1 + width);
  }

  void write_uint(std::uint64_t u) {
    if (u < 0x80)
      put_byte(static_cast<unsigned>(u));
    else if (u <= 0xff)
      put_tagged(0xcc, u, 1);
    else if (u <= 0xffff)
      put_tagged(0xcd, u, 2);
    else if (u <= 0xffffffff)
      put_tagged(0xce, u, 4);
    else
      put_tagged(0xcf, u, 8);
  }

  void write_int(std::int64_t i) {
    if (i >= 0)
      return write_uint(static_cast<std::uint64_t>(i));
    auto bits = static_cast<std::uint64_t>(i);
    if (i >= -32)
      put_byte(static_cast<unsigned>(bits & 0xff));
    else if (i >= std::numeric_limits<std::int8_t>::min())
      put_tagged(0xd0, bits, 1);
    else if (i >= std::numeric_limits<std::int16_t>::min())
      put_tagged(0xd1, bits, 2);
    else if (i >= std::numeric_limits<std::int32_t>::min())
      put_tagged(0xd2, bits, 4);
    else
      put_tagged(0xd3, bits, 8);
  }

  void write_double(double d) {
    std::uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    put_tagged(0xcb, bits, 8);
  }

  // The three size classes of str, bin, array and map headers.
  void put_length(std::size_t n, unsigned type8, unsigned type16,
                  unsigned type32) {
    assert(n <= 0xffffffff && "MessagePack lengths are 32-bit");
    if (n <= 0xff && type8 != 0)
      put_tagged(type8, n, 1);
    else if (n <= 0xffff)
      put_tagged(type16, n, 2);
    else
      put_tagged(type32, n, 4);
  }

  void write_string(const std::string& s) {
    if (s.size() < 32)
      put_byte(0xa0 | static_cast<unsigned>(s.size()));
    else
      put_length(s.size(), 0xd9, 0xda, 0xdb);
    out_.append(s);
  }

  void write_binary(const binary& b) {
    put_length(b.size(), 0xc4, 0xc5, 0xc6);
    if (!b.empty())
      out_.append(reinterpret_cast<const char*>(b.data()), b.size());
  }

  void write_array(const value_array& items) {
    if (items.size() < 16)
      put_byte(0x90 | static_cast<unsigned>(items.size()));
    else
      put_length(items.size(), 0, 0xdc, 0xdd);
    for (const auto& item : items)
      write(item);
  }

  void write_map(const value_map& map) {
    if (map.size() < 16)
      put_byte(0x80 | static_cast<unsigned>(map.size()));
    else
      put_length(map.size(), 0, 0xde, 0xdf);
    for (const auto& [key, child] : map) {
      write_string(key);
      write(child);
    }
  }

  std::string& out_;
};

} // namespace

void encode_msgpack(const value& v, std::string& out) {
  msgpack_writer(out).write(v);
}

std::string encode_msgpack(const value& v) {
  std::string out;
  encode_msgpack(v, out);
  return out;
}

} // namespace profilestore
