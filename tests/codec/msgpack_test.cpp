// Tests for MessagePack encoding and decoding of well-formed data: round
// trips of every kind, integer and size-class boundaries, determinism,
// interoperability with msgpack-c, and the reader's individual reads.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "profilestore/codec/msgpack.hpp"
#include "profilestore/codec/typed.hpp"
#include "profilestore/codec/value.hpp"

using profilestore::binary;
using profilestore::decode_limits;
using profilestore::decode_msgpack;
using profilestore::encode_msgpack;
using profilestore::errc;
using profilestore::msgpack_reader;
using profilestore::validate_msgpack;
using profilestore::value;
using profilestore::value_array;
using profilestore::value_map;
using profilestore::wire_type;

namespace {

constexpr auto int64_min = std::numeric_limits<std::int64_t>::min();
constexpr auto int64_max = std::numeric_limits<std::int64_t>::max();
constexpr auto uint32_max = std::numeric_limits<std::uint32_t>::max();
constexpr auto uint64_max = std::numeric_limits<std::uint64_t>::max();

value round_trip(const value& v) {
  std::string bytes = encode_msgpack(v);
  REQUIRE(validate_msgpack(bytes).ok());
  auto decoded = decode_msgpack(bytes);
  REQUIRE_MESSAGE(decoded.ok(), decoded.err().to_string());
  return *decoded;
}

std::uint8_t first_byte(const std::string& bytes) {
  return static_cast<std::uint8_t>(bytes.at(0));
}

std::string bytes_of(std::initializer_list<int> list) {
  std::string out;
  for (int b : list)
    out += static_cast<char>(b);
  return out;
}

value nested_tree() {
  return value::object(
    {{"name", "player-one"},
     {"coins", 1234567},
     {"ratio", 0.125},
     {"flags", value::array({true, false, value()})},
     {"avatar", binary{0, 1, 2, 254, 255}},
     {"inventory",
      value::object(
        {{"sword",
          value::object(
            {{"count", 2}, {"tags", value::array({"rare", "bound"})}})},
         {"empty", value(value_map{})},
         {"none", value(value_array{})}})},
     {"big", uint64_max},
     {"negative", int64_min}});
}

} // namespace

TEST_CASE("every kind round-trips through MessagePack") {
  std::vector<value> samples = {value(),
                                value(true),
                                value(false),
                                value(0),
                                value(-1),
                                value(uint64_max),
                                value(1.5),
                                value(-0.0),
                                value(std::numeric_limits<double>::infinity()),
                                value(""),
                                value("text"),
                                value(binary{}),
                                value(binary{1, 2, 3}),
                                value(value_array{}),
                                value::array({1, "two"}),
                                value(value_map{}),
                                value::object({{"k", "v"}})};
  for (const auto& sample : samples) {
    CAPTURE(sample.debug_string());
    value back = round_trip(sample);
    CHECK(back == sample);
    CHECK(back.type() == sample.type());
  }
}

TEST_CASE("NaN round-trips as a NaN double") {
  value back = round_trip(value(std::numeric_limits<double>::quiet_NaN()));
  REQUIRE(back.is_double());
  CHECK(std::isnan(*back.if_double()));
}

TEST_CASE("a nested tree round-trips through MessagePack") {
  value tree = nested_tree();
  CHECK(round_trip(tree) == tree);
}

TEST_CASE("integer boundary values round-trip in their smallest encoding") {
  struct sample {
    value v;
    std::size_t encoded_size;
  };
  std::vector<sample> samples = {
    {value(int64_min), 9},
    {value(std::int64_t{std::numeric_limits<std::int32_t>::min()} - 1), 9},
    {value(std::numeric_limits<std::int32_t>::min()), 5},
    {value(-32769), 5},
    {value(-32768), 3},
    {value(-129), 3},
    {value(-128), 2},
    {value(-33), 2},
    {value(-32), 1},
    {value(-1), 1},
    {value(0), 1},
    {value(127), 1},
    {value(128), 2},
    {value(255), 2},
    {value(256), 3},
    {value(65535), 3},
    {value(65536), 5},
    {value(std::uint64_t{uint32_max}), 5},
    {value(std::uint64_t{uint32_max} + 1), 9},
    {value(int64_max), 9},
    {value(std::uint64_t{int64_max} + 1), 9},
    {value(uint64_max), 9},
  };
  for (const auto& s : samples) {
    CAPTURE(s.v.debug_string());
    std::string bytes = encode_msgpack(s.v);
    CHECK(bytes.size() == s.encoded_size);
    value back = round_trip(s.v);
    CHECK(back == s.v);
  }
}

TEST_CASE("non-negative integers decode as int64 and larger ones as uint64") {
  value fits = round_trip(value(std::uint64_t{int64_max}));
  CHECK(fits.type() == value::kind::int64);
  value beyond = round_trip(value(std::uint64_t{int64_max} + 1));
  CHECK(beyond.type() == value::kind::uint64);
  // A non-negative number in a signed encoding (int 8) is still an int64.
  auto signed_form = decode_msgpack(bytes_of({0xd0, 0x05}));
  REQUIRE(signed_form.ok());
  CHECK(signed_form->type() == value::kind::int64);
  CHECK(*signed_form == value(5));
  // uint 64 holding a small number decodes as int64 too.
  auto wide_form = decode_msgpack(bytes_of({0xcf, 0, 0, 0, 0, 0, 0, 0, 7}));
  REQUIRE(wide_form.ok());
  CHECK(wide_form->type() == value::kind::int64);
}

TEST_CASE("float32 input decodes as a double") {
  // 0xca 3f c0 00 00 is 1.5f.
  auto decoded = decode_msgpack(bytes_of({0xca, 0x3f, 0xc0, 0x00, 0x00}));
  REQUIRE(decoded.ok());
  REQUIRE(decoded->is_double());
  CHECK(*decoded->if_double() == 1.5);
}

TEST_CASE("doubles are always encoded as float64 even when whole") {
  for (double d : {2.0, 0.0, -1.0, 1e300}) {
    std::string bytes = encode_msgpack(value(d));
    CHECK(bytes.size() == 9);
    CHECK(first_byte(bytes) == 0xcb);
    CHECK(round_trip(value(d)).is_double());
  }
}

TEST_CASE("strings round-trip at every size class boundary") {
  struct boundary {
    std::size_t size;
    std::uint8_t type_byte;
  };
  for (auto b : {boundary{0, 0xa0}, boundary{31, 0xbf}, boundary{32, 0xd9},
                 boundary{255, 0xd9}, boundary{256, 0xda},
                 boundary{65535, 0xda}, boundary{65536, 0xdb}}) {
    CAPTURE(b.size);
    value text(std::string(b.size, 'x'));
    std::string bytes = encode_msgpack(text);
    CHECK(first_byte(bytes) == b.type_byte);
    CHECK(round_trip(text) == text);
  }
}

TEST_CASE("binaries round-trip at every size class boundary") {
  struct boundary {
    std::size_t size;
    std::uint8_t type_byte;
  };
  for (auto b : {boundary{0, 0xc4}, boundary{31, 0xc4}, boundary{32, 0xc4},
                 boundary{255, 0xc4}, boundary{256, 0xc5},
                 boundary{65535, 0xc5}, boundary{65536, 0xc6}}) {
    CAPTURE(b.size);
    binary bytes_in(b.size);
    for (std::size_t i = 0; i < b.size; ++i)
      bytes_in[i] = static_cast<std::uint8_t>(i * 7);
    value blob(bytes_in);
    std::string bytes = encode_msgpack(blob);
    CHECK(first_byte(bytes) == b.type_byte);
    CHECK(round_trip(blob) == blob);
  }
}

TEST_CASE("arrays and maps round-trip at their size class boundaries") {
  for (std::size_t n : {15u, 16u, 65535u, 65536u}) {
    CAPTURE(n);
    value_array items(n, value(1));
    value list(items);
    std::string list_bytes = encode_msgpack(list);
    CHECK(first_byte(list_bytes) == (n < 16 ? 0x9f : n < 65536 ? 0xdc : 0xdd));
    CHECK(round_trip(list) == list);

    value_map entries;
    for (std::size_t i = 0; i < n; ++i)
      entries.append_unsorted("k" + std::to_string(i), value(i));
    REQUIRE(entries.finish_unsorted());
    value map(entries);
    std::string map_bytes = encode_msgpack(map);
    CHECK(first_byte(map_bytes) == (n < 16 ? 0x8f : n < 65536 ? 0xde : 0xdf));
    CHECK(round_trip(map) == map);
  }
}

TEST_CASE("encoding is deterministic whatever the insertion order") {
  value_map forward;
  forward["alpha"] = 1;
  forward["beta"] = 2;
  forward["gamma"] = 3;
  value_map backward;
  backward["gamma"] = 3;
  backward["beta"] = 2;
  backward["alpha"] = 1;
  CHECK(encode_msgpack(value(forward)) == encode_msgpack(value(backward)));
  CHECK(encode_msgpack(nested_tree()) == encode_msgpack(nested_tree()));
}

TEST_CASE("maps with unsorted keys from other encoders decode sorted") {
  std::string bytes;
  profilestore::string_sink sink(bytes);
  msgpack::packer<profilestore::string_sink> packer(sink);
  packer.pack_map(3);
  packer.pack(std::string("c"));
  packer.pack(3);
  packer.pack(std::string("a"));
  packer.pack(1);
  packer.pack(std::string("b"));
  packer.pack(2);
  sink.flush();
  REQUIRE(validate_msgpack(bytes).ok());
  auto decoded = decode_msgpack(bytes);
  REQUIRE(decoded.ok());
  CHECK(*decoded == value::object({{"a", 1}, {"b", 2}, {"c", 3}}));
  CHECK(encode_msgpack(*decoded) != bytes);
}

TEST_CASE("encode_msgpack appends to an existing buffer") {
  std::string buffer = "prefix";
  encode_msgpack(value(1), buffer);
  CHECK(buffer == std::string("prefix") + '\x01');
}

TEST_CASE("msgpack-c reads our encoding") {
  std::string bytes = encode_msgpack(value::object(
    {{"n", -5}, {"s", "str"}, {"b", binary{9}}, {"d", 2.0}}));
  auto handle = msgpack::unpack(bytes.data(), bytes.size());
  msgpack::object root = handle.get();
  REQUIRE(root.type == msgpack::type::MAP);
  std::map<std::string, msgpack::object> fields;
  root.convert(fields);
  CHECK(fields.at("n").as<int>() == -5);
  CHECK(fields.at("s").type == msgpack::type::STR);
  CHECK(fields.at("b").type == msgpack::type::BIN);
  CHECK(fields.at("d").type == msgpack::type::FLOAT64);
}

TEST_CASE("the reader reads each kind in sequence") {
  std::string bytes;
  encode_msgpack(value(), bytes);
  encode_msgpack(value(true), bytes);
  encode_msgpack(value(-7), bytes);
  encode_msgpack(value(uint64_max), bytes);
  encode_msgpack(value(0.5), bytes);
  encode_msgpack(value("hi"), bytes);
  encode_msgpack(value(binary{1, 2}), bytes);
  encode_msgpack(value::array({1, 2}), bytes);
  encode_msgpack(value::object({{"k", 1}}), bytes);

  msgpack_reader reader(bytes);
  CHECK(reader.next_is_nil());
  CHECK(*reader.peek() == wire_type::nil);
  CHECK(reader.read_nil().ok());
  CHECK(*reader.read_bool() == true);
  CHECK(*reader.peek() == wire_type::negative_int);
  CHECK(*reader.read_int64() == -7);
  CHECK(*reader.peek() == wire_type::positive_int);
  CHECK(*reader.read_uint64() == uint64_max);
  CHECK(*reader.read_double() == 0.5);
  CHECK(*reader.read_string() == "hi");
  CHECK(*reader.read_binary() == std::string_view("\x01\x02", 2));
  CHECK(*reader.read_array_header() == 2U);
  CHECK(*reader.read_int64() == 1);
  CHECK(*reader.read_double() == 2.0);
  CHECK(*reader.read_map_header() == 1U);
  CHECK(*reader.read_string() == "k");
  CHECK(*reader.read_uint64() == 1U);
  CHECK(reader.at_end());
  CHECK(reader.remaining() == 0);
}

TEST_CASE("the reader reports type mismatches with the offset") {
  std::string bytes = encode_msgpack(value("text"));
  msgpack_reader reader(bytes);
  auto r = reader.read_int64();
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code() == errc::type_mismatch);
  CHECK(r.err().message() == "expected an integer at offset 0, found a string");
}

TEST_CASE("read_int64 and read_uint64 reject integers that do not fit") {
  std::string too_big = encode_msgpack(value(uint64_max));
  auto as_signed = msgpack_reader(too_big).read_int64();
  REQUIRE_FALSE(as_signed.ok());
  CHECK(as_signed.err().code() == errc::type_mismatch);
  std::string negative = encode_msgpack(value(-1));
  auto as_unsigned = msgpack_reader(negative).read_uint64();
  REQUIRE_FALSE(as_unsigned.ok());
  CHECK(as_unsigned.err().code() == errc::type_mismatch);
}

TEST_CASE("read_object returns the bytes of one whole object") {
  std::string first = encode_msgpack(nested_tree());
  std::string second = encode_msgpack(value("next"));
  std::string bytes = first + second;
  msgpack_reader reader(bytes);
  auto object = reader.read_object();
  REQUIRE(object.ok());
  CHECK(*object == first);
  CHECK(reader.offset() == first.size());
  CHECK(reader.skip().ok());
  CHECK(reader.at_end());
}

TEST_CASE("skip inside containers walked by hand counts the outer depth") {
  decode_limits limits;
  limits.max_depth = 2;
  std::string bytes = encode_msgpack(
    value::array({value::array({1}), value::array({value::array({})})}));
  msgpack_reader reader(bytes, limits);
  REQUIRE(*reader.read_array_header() == 2U);
  REQUIRE(reader.enter().ok());
  CHECK(reader.skip().ok());
  auto too_deep = reader.skip();
  REQUIRE_FALSE(too_deep.ok());
  CHECK(too_deep.err().code() == errc::limit_exceeded);
}

TEST_CASE("decode_msgpack and validate_msgpack agree on well-formed input") {
  std::string bytes = encode_msgpack(nested_tree());
  CHECK(validate_msgpack(bytes).ok());
  CHECK(decode_msgpack(bytes).ok());
}
