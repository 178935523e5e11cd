// Golden bytes: the exact MessagePack encoding of small values. Stored
// profiles depend on these bytes, so any change to the encoder that alters
// them must fail here first (and then needs a format version, not a fix to
// this file).
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "profilestore/codec/msgpack.hpp"
#include "profilestore/codec/value.hpp"

using profilestore::binary;
using profilestore::decode_msgpack;
using profilestore::encode_msgpack;
using profilestore::value;
using profilestore::value_array;
using profilestore::value_map;

namespace {

std::string hex(const std::string& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    auto b = static_cast<unsigned char>(c);
    if (!out.empty())
      out += ' ';
    out += digits[b >> 4];
    out += digits[b & 0x0f];
  }
  return out;
}

// Checks the encoding and that the bytes decode back to the same value.
void check_golden(const value& v, const char* expected_hex) {
  CAPTURE(v.debug_string());
  std::string bytes = encode_msgpack(v);
  CHECK(hex(bytes) == expected_hex);
  auto decoded = decode_msgpack(bytes);
  REQUIRE(decoded.ok());
  CHECK(*decoded == v);
}

} // namespace

TEST_CASE("a small map with an array encodes to exact golden bytes") {
  check_golden(value::object({{"a", 1}, {"b", value::array({true, value()})}}),
               "82 a1 61 01 a1 62 92 c3 c0");
}

TEST_CASE("map keys are written in sorted order in golden bytes") {
  value_map map;
  map["b"] = 2;
  map["a"] = 1;
  map["aa"] = 3;
  check_golden(value(map), "83 a1 61 01 a2 61 61 03 a1 62 02");
}

TEST_CASE("nil and booleans have golden bytes") {
  check_golden(value(), "c0");
  check_golden(value(false), "c2");
  check_golden(value(true), "c3");
}

TEST_CASE("integers have golden bytes in their smallest form") {
  check_golden(value(0), "00");
  check_golden(value(127), "7f");
  check_golden(value(128), "cc 80");
  check_golden(value(256), "cd 01 00");
  check_golden(value(65536), "ce 00 01 00 00");
  check_golden(value(std::uint64_t{1} << 32), "cf 00 00 00 01 00 00 00 00");
  check_golden(value(-1), "ff");
  check_golden(value(-32), "e0");
  check_golden(value(-33), "d0 df");
  check_golden(value(-129), "d1 ff 7f");
  check_golden(value(-32769), "d2 ff ff 7f ff");
  check_golden(value(std::numeric_limits<std::int64_t>::min()),
               "d3 80 00 00 00 00 00 00 00");
  check_golden(value(std::numeric_limits<std::uint64_t>::max()),
               "cf ff ff ff ff ff ff ff ff");
}

TEST_CASE("doubles have golden bytes as float64") {
  check_golden(value(1.5), "cb 3f f8 00 00 00 00 00 00");
  check_golden(value(2.0), "cb 40 00 00 00 00 00 00 00");
  check_golden(value(-0.0), "cb 80 00 00 00 00 00 00 00");
}

TEST_CASE("strings have golden bytes") {
  check_golden(value(""), "a0");
  check_golden(value("hi"), "a2 68 69");
  std::string expected = "d9 20";
  for (int i = 0; i < 32; ++i)
    expected += " 7a";
  check_golden(value(std::string(32, 'z')), expected.c_str());
}

TEST_CASE("binaries have golden bytes") {
  check_golden(value(binary{}), "c4 00");
  check_golden(value(binary{1, 2, 255}), "c4 03 01 02 ff");
}

TEST_CASE("empty and nested containers have golden bytes") {
  check_golden(value(value_array{}), "90");
  check_golden(value(value_map{}), "80");
  check_golden(value::array({value::array({}), value::object({})}), "92 90 80");
  check_golden(value::object({{"x", value::object({{"y", -1}})}}),
               "81 a1 78 81 a1 79 ff");
}
