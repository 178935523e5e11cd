// Tests for typed profiles (MSGPACK_DEFINE_MAP structs): round trips,
// defaults for missing fields, unknown fields ignored, wrong types reported
// as type_mismatch, and agreement with the dynamic value and JSON views.
#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "profilestore/codec/json.hpp"
#include "profilestore/codec/msgpack.hpp"
#include "profilestore/codec/typed.hpp"
#include "profilestore/codec/value.hpp"

using profilestore::decode_limits;
using profilestore::decode_typed;
using profilestore::encode_msgpack;
using profilestore::encode_typed;
using profilestore::errc;
using profilestore::value;

namespace {

struct weapon {
  std::string kind = "stick";
  int damage = 1;
  MSGPACK_DEFINE_MAP(kind, damage)

  friend bool operator==(const weapon& a, const weapon& b) {
    return a.kind == b.kind && a.damage == b.damage;
  }
};

struct player {
  std::int64_t coins = 0;
  std::uint32_t level = 1;
  std::string name = "new player";
  std::vector<std::string> items;
  weapon hand;
  std::map<std::string, int> stats;
  MSGPACK_DEFINE_MAP(coins, level, name, items, hand, stats)
};

player sample_player() {
  player p;
  p.coins = -42;
  p.level = 7;
  p.name = "ann";
  p.items = {"rope", "lamp"};
  p.hand = weapon{"sword", 12};
  p.stats = {{"strength", 5}, {"luck", 2}};
  return p;
}

void check_same(const player& a, const player& b) {
  CHECK(a.coins == b.coins);
  CHECK(a.level == b.level);
  CHECK(a.name == b.name);
  CHECK(a.items == b.items);
  CHECK(a.hand == b.hand);
  CHECK(a.stats == b.stats);
}

} // namespace

TEST_CASE("a typed profile round-trips through MessagePack") {
  player original = sample_player();
  std::string bytes = encode_typed(original);
  player decoded;
  auto r = decode_typed(bytes, decoded);
  REQUIRE_MESSAGE(r.ok(), r.err().to_string());
  check_same(decoded, original);
}

// encode_typed writes into the caller's string, grown ahead of the packer
// and trimmed after it: whatever the size hint, the bytes are msgpack-c's
// own, appended after what the string held.
TEST_CASE("encode_typed appends msgpack-c's bytes whatever the size hint") {
  player p = sample_player();
  p.items.assign(200, std::string(40, 'x')); // about 8 KiB, many writes
  msgpack::sbuffer reference;
  msgpack::pack(reference, p);
  const std::string expected(reference.data(), reference.size());
  for (std::size_t hint : {std::size_t{0}, std::size_t{1}, std::size_t{100},
                           expected.size(), expected.size() * 3}) {
    CAPTURE(hint);
    std::string out = "prefix";
    encode_typed(p, out, hint);
    CHECK(out.size() == 6 + expected.size());
    CHECK(out.compare(0, 6, "prefix") == 0);
    CHECK(out.compare(6, std::string::npos, expected) == 0);
  }
  CHECK(encode_typed(p) == expected);
}

TEST_CASE("a field missing in stored data keeps its default") {
  std::string bytes =
    encode_msgpack(value::object({{"coins", 99}, {"name", "bob"}}));
  player decoded;
  REQUIRE(decode_typed(bytes, decoded).ok());
  CHECK(decoded.coins == 99);
  CHECK(decoded.name == "bob");
  CHECK(decoded.level == 1);
  CHECK(decoded.items.empty());
  CHECK(decoded.hand == weapon{});
}

TEST_CASE("a nested field missing in stored data keeps its default") {
  std::string bytes = encode_msgpack(
    value::object({{"hand", value::object({{"damage", 30}})}}));
  player decoded;
  REQUIRE(decode_typed(bytes, decoded).ok());
  CHECK(decoded.hand.damage == 30);
  CHECK(decoded.hand.kind == "stick");
}

TEST_CASE("an unknown field in stored data is ignored") {
  std::string bytes = encode_msgpack(value::object(
    {{"coins", 3}, {"retired_field", value::array({1, 2})}, {"zzz", "x"}}));
  player decoded;
  REQUIRE(decode_typed(bytes, decoded).ok());
  CHECK(decoded.coins == 3);
}

TEST_CASE("a field of the wrong type is a type mismatch") {
  std::string bytes = encode_msgpack(value::object({{"coins", "many"}}));
  player decoded;
  auto r = decode_typed(bytes, decoded);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code() == errc::type_mismatch);
  CHECK(r.err().message().find("typed profile field has the wrong type")
        != std::string::npos);

  std::string not_a_map = encode_msgpack(value::array({1, 2}));
  auto whole = decode_typed(not_a_map, decoded);
  REQUIRE_FALSE(whole.ok());
  CHECK(whole.err().code() == errc::type_mismatch);

  std::string negative_level = encode_msgpack(value::object({{"level", -1}}));
  auto level = decode_typed(negative_level, decoded);
  REQUIRE_FALSE(level.ok());
  CHECK(level.err().code() == errc::type_mismatch);
}

TEST_CASE("decode_typed validates under decode limits first") {
  std::string bytes = encode_typed(sample_player());
  decode_limits limits;
  limits.max_string_bytes = 2;
  player decoded;
  auto r = decode_typed(bytes, decoded, limits);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code() == errc::limit_exceeded);
}

TEST_CASE("to_value and from_value agree with the JSON view") {
  auto dynamic = profilestore::to_value(sample_player());
  REQUIRE(dynamic.ok());
  CHECK(*dynamic->find("hand.kind") == value("sword"));
  CHECK(*dynamic->find("items.1") == value("lamp"));
  CHECK(*dynamic->find("stats.luck") == value(2));
  CHECK(*dynamic->find("coins") == value(-42));

  std::string json = profilestore::to_json(*dynamic);
  CHECK(json
        == "{\"coins\":-42,\"hand\":{\"damage\":12,\"kind\":\"sword\"},"
           "\"items\":[\"rope\",\"lamp\"],\"level\":7,\"name\":\"ann\","
           "\"stats\":{\"luck\":2,\"strength\":5}}");

  auto from_json = profilestore::from_json(json);
  REQUIRE(from_json.ok());
  CHECK(*from_json == *dynamic);
  player back;
  REQUIRE(profilestore::from_value(*from_json, back).ok());
  check_same(back, sample_player());
}

TEST_CASE("editing the dynamic view changes the typed profile") {
  auto dynamic = profilestore::to_value(sample_player());
  REQUIRE(dynamic.ok());
  REQUIRE(dynamic->set("hand.damage", 99).ok());
  REQUIRE(dynamic->set("stats.speed", 4).ok());
  player edited;
  REQUIRE(profilestore::from_value(*dynamic, edited).ok());
  CHECK(edited.hand.damage == 99);
  CHECK(edited.stats.at("speed") == 4);
}

TEST_CASE("to_unpack_limit carries every decode limit") {
  decode_limits limits;
  limits.max_container_length = 11;
  limits.max_string_bytes = 12;
  limits.max_binary_bytes = 13;
  limits.max_depth = 14;
  auto unpack = profilestore::detail::to_unpack_limit(limits);
  CHECK(unpack.array() == 11);
  CHECK(unpack.map() == 11);
  CHECK(unpack.str() == 12);
  CHECK(unpack.bin() == 13);
  CHECK(unpack.ext() == 0);
  CHECK(unpack.depth() == 14);
}

TEST_CASE("msgpack-c failures map to profilestore error codes") {
  using profilestore::detail::describe_unpack_failure;
  CHECK(describe_unpack_failure(msgpack::type_error()).code()
        == errc::type_mismatch);
  CHECK(describe_unpack_failure(msgpack::str_size_overflow("str")).code()
        == errc::limit_exceeded);
  CHECK(describe_unpack_failure(msgpack::depth_size_overflow("depth")).code()
        == errc::limit_exceeded);
  CHECK(describe_unpack_failure(msgpack::parse_error("parse")).code()
        == errc::malformed_input);
  CHECK(describe_unpack_failure(msgpack::insufficient_bytes("short")).code()
        == errc::malformed_input);
  CHECK(describe_unpack_failure(std::runtime_error("other")).code()
        == errc::internal);
}
