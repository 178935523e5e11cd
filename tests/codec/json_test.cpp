// Tests for the JSON view: round trips of every kind (including binary,
// special doubles and integer extremes), output forms, parse errors with
// positions, limits enforced while parsing, and base64 (RFC 4648).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "profilestore/codec/json.hpp"
#include "profilestore/codec/value.hpp"

using profilestore::base64_decode;
using profilestore::base64_encode;
using profilestore::binary;
using profilestore::decode_limits;
using profilestore::errc;
using profilestore::from_json;
using profilestore::json_options;
using profilestore::to_json;
using profilestore::value;
using profilestore::value_array;
using profilestore::value_map;

namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();

value json_round_trip(const value& v) {
  std::string text = to_json(v);
  auto back = from_json(text);
  REQUIRE_MESSAGE(back.ok(), back.err().to_string() << " for " << text);
  return *back;
}

binary bytes_from(const std::string& text) {
  return binary(text.begin(), text.end());
}

errc json_error(const std::string& text, const decode_limits& limits = {}) {
  auto parsed = from_json(text, limits);
  return parsed.ok() ? errc::ok : parsed.err().code();
}

} // namespace

TEST_CASE("every kind round-trips through JSON") {
  std::vector<value> samples = {
    value(),
    value(true),
    value(false),
    value(0),
    value(-17),
    value(std::numeric_limits<std::int64_t>::min()),
    value(std::numeric_limits<std::int64_t>::max()),
    value(std::numeric_limits<std::uint64_t>::max()),
    value(2.0),
    value(-0.5),
    value(1e300),
    value(5e-324),
    value(0.1),
    value(infinity),
    value(-infinity),
    value("text with \"quotes\" and \n newline"),
    value("\xc3\xa9t\xc3\xa9"),
    value(binary{}),
    value(binary{0, 1, 2, 0xfe, 0xff}),
    value(value_array{}),
    value(value_map{}),
    value::object({{"nested", value::array({1, "two", value::object(
                                                         {{"x", 3.5}})})}}),
  };
  for (const auto& sample : samples) {
    CAPTURE(sample.debug_string());
    value back = json_round_trip(sample);
    CHECK(back == sample);
    CHECK(back.type() == sample.type());
  }
}

TEST_CASE("NaN and infinities are written as tagged objects") {
  CHECK(to_json(value(std::nan(""))) == "{\"$double\":\"NaN\"}");
  CHECK(to_json(value(infinity)) == "{\"$double\":\"Infinity\"}");
  CHECK(to_json(value(-infinity)) == "{\"$double\":\"-Infinity\"}");
  value nan_back = json_round_trip(value(std::nan("")));
  REQUIRE(nan_back.is_double());
  CHECK(std::isnan(*nan_back.if_double()));
}

TEST_CASE("whole doubles keep a fraction so they read back as doubles") {
  CHECK(to_json(value(2.0)) == "2.0");
  CHECK(to_json(value(-0.0)) == "-0.0");
  CHECK(to_json(value(2)) == "2");
  CHECK(json_round_trip(value(2.0)).is_double());
  CHECK(json_round_trip(value(2)).type() == value::kind::int64);
}

TEST_CASE("integer extremes are exact in JSON") {
  CHECK(to_json(value(std::numeric_limits<std::int64_t>::min()))
        == "-9223372036854775808");
  CHECK(to_json(value(std::numeric_limits<std::uint64_t>::max()))
        == "18446744073709551615");
  auto max = from_json("18446744073709551615");
  REQUIRE(max.ok());
  CHECK(max->type() == value::kind::uint64);
  auto min = from_json("-9223372036854775808");
  REQUIRE(min.ok());
  CHECK(*min == value(std::numeric_limits<std::int64_t>::min()));
}

TEST_CASE("JSON integers beyond uint64 become doubles") {
  auto big = from_json("18446744073709551616");
  REQUIRE(big.ok());
  CHECK(big->is_double());
  auto small = from_json("-9223372036854775809");
  REQUIRE(small.ok());
  CHECK(small->is_double());
}

TEST_CASE("binary is written as base64 in a tagged object") {
  CHECK(to_json(value(bytes_from("foob"))) == "{\"$binary\":\"Zm9vYg==\"}");
  auto back = from_json("{\"$binary\":\"Zm9vYmFy\"}");
  REQUIRE(back.ok());
  CHECK(*back == value(bytes_from("foobar")));
}

TEST_CASE("a tagged binary with invalid base64 is an error") {
  for (const char* text :
       {"{\"$binary\":\"Zm9\"}", "{\"$binary\":\"Zm9v!A==\"}",
        "{\"$binary\":\"Zh==\"}", "[{\"$binary\":\"=\"}]"}) {
    CAPTURE(text);
    auto parsed = from_json(text);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.err().code() == errc::malformed_input);
    CHECK(parsed.err().message().find("$binary") != std::string::npos);
  }
  CHECK(json_error("{\"$double\":\"nan\"}") == errc::malformed_input);
}

TEST_CASE("objects that only look tagged stay maps") {
  auto not_a_string = from_json("{\"$binary\":5}");
  REQUIRE(not_a_string.ok());
  CHECK(*not_a_string == value::object({{"$binary", 5}}));
  auto two_keys = from_json("{\"$binary\":\"AA==\",\"x\":1}");
  REQUIRE(two_keys.ok());
  CHECK(two_keys->is_map());
  CHECK(two_keys->if_map()->size() == 2);
  auto double_tag = from_json("{\"$double\":1.5}");
  REQUIRE(double_tag.ok());
  CHECK(double_tag->is_map());
}

TEST_CASE("compact and pretty output") {
  value v = value::object({{"b", value::array({1, 2})}, {"a", "x"}});
  CHECK(to_json(v) == "{\"a\":\"x\",\"b\":[1,2]}");
  json_options pretty;
  pretty.indent = 2;
  CHECK(to_json(v, pretty)
        == "{\n  \"a\": \"x\",\n  \"b\": [\n    1,\n    2\n  ]\n}");
  auto back = from_json(to_json(v, pretty));
  REQUIRE(back.ok());
  CHECK(*back == v);
}

TEST_CASE("object keys appear in value order") {
  value_map map;
  map["zebra"] = 1;
  map["apple"] = 2;
  map["Mango"] = 3;
  CHECK(to_json(value(map)) == "{\"Mango\":3,\"apple\":2,\"zebra\":1}");
}

TEST_CASE("malformed JSON is malformed_input with a position") {
  for (const char* text : {"", "{", "[1,2", "{\"a\" 1}", "tru", "[1,]",
                           "{\"a\":1}x", "\"unterminated", "01", "nan"}) {
    CAPTURE(text);
    auto parsed = from_json(text);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.err().code() == errc::malformed_input);
    CHECK(parsed.err().message().find("at byte") != std::string::npos);
  }
  auto parsed = from_json("[1, 2, oops]");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.err().message().find("column 8") != std::string::npos);
}

TEST_CASE("JSON nested 100000 deep is refused with limit_exceeded") {
  auto arrays = from_json(std::string(100000, '['));
  REQUIRE_FALSE(arrays.ok());
  CHECK(arrays.err().code() == errc::limit_exceeded);
  std::string objects;
  for (int i = 0; i < 100000; ++i)
    objects += "{\"a\":";
  auto maps = from_json(objects);
  REQUIRE_FALSE(maps.ok());
  CHECK(maps.err().code() == errc::limit_exceeded);
}

TEST_CASE("JSON max_depth accepts the limit and rejects one more") {
  decode_limits limits;
  limits.max_depth = 3;
  CHECK(json_error("[[[1]]]", limits) == errc::ok);
  CHECK(json_error("[[[[1]]]]", limits) == errc::limit_exceeded);
  CHECK(json_error("{\"a\":{\"b\":{\"c\":{}}}}", limits)
        == errc::limit_exceeded);
}

TEST_CASE("JSON limits on sizes and counts are enforced while parsing") {
  decode_limits strings;
  strings.max_string_bytes = 3;
  CHECK(json_error("\"abc\"", strings) == errc::ok);
  CHECK(json_error("\"abcd\"", strings) == errc::limit_exceeded);
  CHECK(json_error("{\"long\":1}", strings) == errc::limit_exceeded);

  decode_limits lengths;
  lengths.max_container_length = 2;
  CHECK(json_error("[1,2]", lengths) == errc::ok);
  CHECK(json_error("[1,2,3]", lengths) == errc::limit_exceeded);
  CHECK(json_error("{\"a\":1,\"b\":2,\"c\":3}", lengths)
        == errc::limit_exceeded);

  decode_limits objects;
  objects.max_objects = 3;
  CHECK(json_error("[1,2]", objects) == errc::ok);
  CHECK(json_error("[1,2,3]", objects) == errc::limit_exceeded);
  CHECK(json_error("{\"a\":1,\"b\":2}", objects) == errc::limit_exceeded);

  decode_limits total;
  total.max_total_bytes = 4;
  CHECK(json_error("[1] ", total) == errc::ok);
  CHECK(json_error("[1,2]", total) == errc::limit_exceeded);
}

TEST_CASE("duplicate JSON object keys are malformed") {
  CHECK(json_error("{\"a\":1,\"a\":2}") == errc::malformed_input);
  CHECK(json_error("{\"b\":1,\"a\":2,\"b\":3}") == errc::malformed_input);
  CHECK(json_error("{\"b\":1,\"a\":2}") == errc::ok);
}

TEST_CASE("invalid UTF-8 in strings is replaced and never throws") {
  value v = value::object({{"bad\xff", "x\xc3"}});
  std::string text = to_json(v);
  CHECK(text == "{\"bad\xef\xbf\xbd\":\"x\xef\xbf\xbd\"}");
  auto back = from_json(text);
  REQUIRE(back.ok());
  CHECK(back->get("bad\xef\xbf\xbd") != nullptr);
}

TEST_CASE("invalid UTF-8 in JSON text is malformed") {
  CHECK(json_error("\"\xff\"") == errc::malformed_input);
}

TEST_CASE("base64 matches the RFC 4648 test vectors") {
  struct vector_pair {
    const char* plain;
    const char* encoded;
  };
  for (auto v : {vector_pair{"", ""}, vector_pair{"f", "Zg=="},
                 vector_pair{"fo", "Zm8="}, vector_pair{"foo", "Zm9v"},
                 vector_pair{"foob", "Zm9vYg=="},
                 vector_pair{"fooba", "Zm9vYmE="},
                 vector_pair{"foobar", "Zm9vYmFy"}}) {
    CAPTURE(v.plain);
    CHECK(base64_encode(bytes_from(v.plain)) == v.encoded);
    auto decoded = base64_decode(v.encoded);
    REQUIRE(decoded.ok());
    CHECK(*decoded == bytes_from(v.plain));
  }
}

TEST_CASE("base64 round-trips every byte value") {
  binary all(256);
  for (int i = 0; i < 256; ++i)
    all[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i);
  auto decoded = base64_decode(base64_encode(all));
  REQUIRE(decoded.ok());
  CHECK(*decoded == all);
}

TEST_CASE("base64 decoding rejects malformed text") {
  for (const char* text : {"Zg", "Zg=", "Zg===", "Z===", "====", "Zm9v Yg==",
                           "Zm9vYg=\n", "Zh==", "Zm9=", "Zm-v", "=Zm9"}) {
    CAPTURE(text);
    auto decoded = base64_decode(text);
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.err().code() == errc::malformed_input);
  }
}
