// Tests for value and value_map: kinds, equality, copies, ordering, map
// access and checked numeric access; also the error names every layer uses.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "profilestore/codec/value.hpp"
#include "profilestore/error.hpp"

using profilestore::binary;
using profilestore::errc;
using profilestore::value;
using profilestore::value_array;
using profilestore::value_map;

namespace {

constexpr auto int64_min = std::numeric_limits<std::int64_t>::min();
constexpr auto int64_max = std::numeric_limits<std::int64_t>::max();
constexpr auto uint64_max = std::numeric_limits<std::uint64_t>::max();

std::string key_order(const value_map& map) {
  std::string keys;
  for (const auto& entry : map)
    keys += entry.first + " ";
  return keys;
}

} // namespace

TEST_CASE("each constructor yields the expected kind") {
  CHECK(value().type() == value::kind::nil);
  CHECK(value(profilestore::nil).is_nil());
  CHECK(value(true).type() == value::kind::boolean);
  CHECK(value(7).type() == value::kind::int64);
  CHECK(value(7L).type() == value::kind::int64);
  CHECK(value(7LL).type() == value::kind::int64);
  CHECK(value(7U).type() == value::kind::int64);
  CHECK(value(7UL).type() == value::kind::int64);
  CHECK(value(std::uint64_t{int64_max}).type() == value::kind::int64);
  CHECK(value(std::uint64_t{int64_max} + 1).type() == value::kind::uint64);
  CHECK(value(uint64_max).type() == value::kind::uint64);
  CHECK(value(1.5).type() == value::kind::float64);
  CHECK(value("text").type() == value::kind::string);
  CHECK(value(std::string("text")).type() == value::kind::string);
  CHECK(value(std::string_view("text")).type() == value::kind::string);
  CHECK(value(binary{1, 2}).type() == value::kind::binary);
  CHECK(value(value_array{}).type() == value::kind::array);
  CHECK(value(value_map{}).type() == value::kind::map);
  CHECK(value(7).is_integer());
  CHECK(value(uint64_max).is_integer());
  CHECK_FALSE(value(7.0).is_integer());
}

TEST_CASE("kind names are the enumerator names") {
  CHECK(to_string(value::kind::nil) == "nil");
  CHECK(to_string(value::kind::boolean) == "boolean");
  CHECK(to_string(value::kind::int64) == "int64");
  CHECK(to_string(value::kind::uint64) == "uint64");
  CHECK(to_string(value::kind::float64) == "float64");
  CHECK(to_string(value::kind::string) == "string");
  CHECK(to_string(value::kind::binary) == "binary");
  CHECK(to_string(value::kind::array) == "array");
  CHECK(to_string(value::kind::map) == "map");
}

TEST_CASE("typed access returns null for other kinds") {
  value number(5);
  REQUIRE(number.if_int64() != nullptr);
  CHECK(*number.if_int64() == 5);
  CHECK(number.if_uint64() == nullptr);
  CHECK(number.if_string() == nullptr);
  CHECK(number.if_map() == nullptr);
  value text("abc");
  REQUIRE(text.if_string() != nullptr);
  CHECK(*text.if_string() == "abc");
}

TEST_CASE("int64 and uint64 holding the same number compare equal") {
  CHECK(value(std::int64_t{5}) == value(std::uint64_t{5}));
  value big_unsigned(uint64_max);
  CHECK(big_unsigned == value(uint64_max));
  CHECK(big_unsigned != value(std::int64_t{-1}));
  CHECK(value(std::int64_t{-1}) != value(uint64_max));
  CHECK(value(int64_max) == value(std::uint64_t{int64_max}));
  CHECK(value(0) == value(0U));
}

TEST_CASE("a double never equals an integer of the same number") {
  CHECK(value(2.0) != value(2));
  CHECK(value(2) != value(2.0));
  CHECK(value(2.0) == value(2.0));
  double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(value(nan) != value(nan));
}

TEST_CASE("values of different kinds never compare equal") {
  CHECK(value() != value(false));
  CHECK(value(0) != value(false));
  CHECK(value("") != value(binary{}));
  CHECK(value(value_array{}) != value(value_map{}));
  CHECK(value("1") != value(1));
}

TEST_CASE("nested values compare by content") {
  value a = value::object({{"list", value::array({1, "two", 3.0})},
                           {"inner", value::object({{"x", true}})}});
  value b = value::object({{"inner", value::object({{"x", true}})},
                           {"list", value::array({1U, "two", 3.0})}});
  CHECK(a == b);
  b["inner"]["x"] = false;
  CHECK(a != b);
}

TEST_CASE("copying a value makes an independent deep copy") {
  value original = value::object(
    {{"bag", value::array({value::object({{"n", 1}})})}});
  value copy = original;
  CHECK(copy == original);
  (*copy["bag"].if_array())[0]["n"] = 2;
  copy["extra"] = "added";
  CHECK(original.find("bag.0.n") != nullptr);
  CHECK(*original.find("bag.0.n") == value(1));
  CHECK(original.get("extra") == nullptr);
  CHECK(copy != original);
}

TEST_CASE("map keys are kept in bytewise sorted order") {
  value_map map;
  map["zeta"] = 1;
  map.insert_or_assign("alpha", 2);
  map["Beta"] = 3;
  map["\xc3\xa9t\xc3\xa9"] = 4; // UTF-8 bytes sort after ASCII
  map["al"] = 5;
  CHECK(key_order(map) == "Beta al alpha zeta \xc3\xa9t\xc3\xa9 ");
}

TEST_CASE("value_map insert_or_assign replaces and erase removes") {
  value_map map{{"a", 1}, {"b", 2}};
  map.insert_or_assign("a", "one");
  REQUIRE(map.find("a") != nullptr);
  CHECK(*map.find("a") == value("one"));
  CHECK(map.size() == 2);
  CHECK(map.erase("a"));
  CHECK_FALSE(map.erase("a"));
  CHECK_FALSE(map.contains("a"));
  CHECK(map.contains("b"));
  CHECK(map.size() == 1);
}

TEST_CASE("value_map initializer lists sort and keep the last duplicate") {
  value_map map{{"b", 1}, {"a", 2}, {"b", 3}};
  CHECK(key_order(map) == "a b ");
  CHECK(*map.find("b") == value(3));
}

TEST_CASE("append_unsorted with finish_unsorted sorts and detects duplicates") {
  value_map sorted_input;
  sorted_input.append_unsorted("a", 1);
  sorted_input.append_unsorted("b", 2);
  CHECK(sorted_input.finish_unsorted());
  CHECK(key_order(sorted_input) == "a b ");

  value_map unsorted_input;
  unsorted_input.append_unsorted("c", 1);
  unsorted_input.append_unsorted("a", 2);
  unsorted_input.append_unsorted("b", 3);
  CHECK(unsorted_input.finish_unsorted());
  CHECK(key_order(unsorted_input) == "a b c ");
  CHECK(*unsorted_input.find("a") == value(2));

  value_map adjacent_duplicate;
  adjacent_duplicate.append_unsorted("a", 1);
  adjacent_duplicate.append_unsorted("a", 2);
  CHECK_FALSE(adjacent_duplicate.finish_unsorted());

  value_map distant_duplicate;
  distant_duplicate.append_unsorted("b", 1);
  distant_duplicate.append_unsorted("c", 2);
  distant_duplicate.append_unsorted("b", 3);
  CHECK_FALSE(distant_duplicate.finish_unsorted());
}

TEST_CASE("the subscript operator turns nil into a map and inserts nil for "
          "missing keys") {
  value v;
  value& slot = v["coins"];
  CHECK(v.is_map());
  CHECK(slot.is_nil());
  slot = 10;
  v["name"] = "ann";
  CHECK(*v.get("coins") == value(10));
  CHECK(v.if_map()->size() == 2);
}

TEST_CASE("get returns null for missing keys and for non-maps") {
  value v = value::object({{"a", 1}});
  CHECK(v.get("a") != nullptr);
  CHECK(v.get("b") == nullptr);
  CHECK(value(1).get("a") == nullptr);
  CHECK(value().get("a") == nullptr);
}

TEST_CASE("to_int64 reports kind and range errors") {
  CHECK(*value(-5).to_int64() == -5);
  CHECK(*value(std::uint64_t{int64_max}).to_int64() == int64_max);
  CHECK(*value(int64_min).to_int64() == int64_min);

  auto too_big = value(std::uint64_t{int64_max} + 1).to_int64();
  REQUIRE_FALSE(too_big.ok());
  CHECK(too_big.err().code() == errc::type_mismatch);
  CHECK(too_big.err().message().find("9223372036854775808")
        != std::string::npos);

  auto text = value("12").to_int64();
  REQUIRE_FALSE(text.ok());
  CHECK(text.err().code() == errc::type_mismatch);
  CHECK(text.err().message().find("string") != std::string::npos);

  auto fraction = value(1.5).to_int64();
  REQUIRE_FALSE(fraction.ok());
  CHECK(fraction.err().message().find("float64") != std::string::npos);
}

TEST_CASE("to_uint64 rejects negative integers and other kinds") {
  CHECK(*value(uint64_max).to_uint64() == uint64_max);
  CHECK(*value(5).to_uint64() == 5U);
  auto negative = value(-1).to_uint64();
  REQUIRE_FALSE(negative.ok());
  CHECK(negative.err().code() == errc::type_mismatch);
  auto nil_value = value().to_uint64();
  REQUIRE_FALSE(nil_value.ok());
  CHECK(nil_value.err().message().find("nil") != std::string::npos);
}

TEST_CASE("to_double converts integers and rejects other kinds") {
  CHECK(*value(2).to_double() == 2.0);
  CHECK(*value(uint64_max).to_double() == static_cast<double>(uint64_max));
  CHECK(*value(0.25).to_double() == 0.25);
  auto flag = value(true).to_double();
  REQUIRE_FALSE(flag.ok());
  CHECK(flag.err().code() == errc::type_mismatch);
  CHECK(flag.err().message().find("boolean") != std::string::npos);
}

TEST_CASE("debug_string renders a compact readable form") {
  value sample = value::object({{"list", value::array({1, 2.0, value()})},
                                {"name", "a\"b"},
                                {"raw", binary{0x0a, 0xff}},
                                {"yes", true}});
  CHECK(sample.debug_string()
        == "{\"list\":[1,2.0,null],\"name\":\"a\\\"b\",\"raw\":bin(0aff),"
           "\"yes\":true}");
  CHECK(value(uint64_max).debug_string() == "18446744073709551615");
}

TEST_CASE("error codes have stable lowercase names") {
  using profilestore::to_string;
  CHECK(to_string(errc::ok) == "ok");
  CHECK(to_string(errc::invalid_argument) == "invalid_argument");
  CHECK(to_string(errc::invalid_store_name) == "invalid_store_name");
  CHECK(to_string(errc::invalid_key) == "invalid_key");
  CHECK(to_string(errc::data_too_large) == "data_too_large");
  CHECK(to_string(errc::metadata_too_large) == "metadata_too_large");
  CHECK(to_string(errc::too_many_user_ids) == "too_many_user_ids");
  CHECK(to_string(errc::message_too_large) == "message_too_large");
  CHECK(to_string(errc::message_queue_full) == "message_queue_full");
  CHECK(to_string(errc::record_too_large) == "record_too_large");
  CHECK(to_string(errc::malformed_input) == "malformed_input");
  CHECK(to_string(errc::limit_exceeded) == "limit_exceeded");
  CHECK(to_string(errc::type_mismatch) == "type_mismatch");
  CHECK(to_string(errc::not_found) == "not_found");
  CHECK(to_string(errc::corrupt_record) == "corrupt_record");
  CHECK(to_string(errc::unsupported_format) == "unsupported_format");
  CHECK(to_string(errc::not_owner) == "not_owner");
  CHECK(to_string(errc::storage_full) == "storage_full");
  CHECK(to_string(errc::storage_error) == "storage_error");
  CHECK(to_string(errc::storage_busy) == "storage_busy");
  CHECK(to_string(errc::map_full) == "map_full");
  CHECK(to_string(errc::timeout) == "timeout");
  CHECK(to_string(errc::closing) == "closing");
  CHECK(to_string(errc::session_active) == "session_active");
  CHECK(to_string(errc::session_ended) == "session_ended");
  CHECK(to_string(errc::cancelled) == "cancelled");
  CHECK(to_string(errc::unreachable) == "unreachable");
  CHECK(to_string(errc::not_supported) == "not_supported");
  CHECK(to_string(errc::conflict) == "conflict");
  CHECK(to_string(errc::internal) == "internal");
}

TEST_CASE("an error renders as its code name and message") {
  profilestore::error none;
  CHECK_FALSE(none);
  auto e = profilestore::make_error(errc::invalid_key, "profile key is empty");
  CHECK(e);
  CHECK(e.to_string() == "invalid_key: profile key is empty");
}
