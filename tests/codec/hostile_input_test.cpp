// Hostile MessagePack: announced sizes that the input cannot hold, extreme
// nesting, truncation at every length, random and mutated bytes, and every
// decode limit. Each input must give an error or a valid value, never a
// crash, a hang or a huge allocation; decode_msgpack and validate_msgpack
// must agree on every input.
#include <doctest/doctest.h>

#include <cstdint>
#include <functional>
#include <map>
#include <random>
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
using profilestore::validate_msgpack;
using profilestore::value;
using profilestore::value_array;

namespace {

std::string bytes_of(std::initializer_list<int> list) {
  std::string out;
  for (int b : list)
    out += static_cast<char>(b);
  return out;
}

std::string repeat(const std::string& unit, std::size_t times) {
  std::string out;
  out.reserve(unit.size() * times);
  for (std::size_t i = 0; i < times; ++i)
    out += unit;
  return out;
}

// What decoding `bytes` gives: errc::ok or the error code. Also checks that
// validate_msgpack gives the same answer.
errc outcome(const std::string& bytes, const decode_limits& limits = {}) {
  auto decoded = decode_msgpack(bytes, limits);
  auto validated = validate_msgpack(bytes, limits);
  errc decoded_code = decoded.ok() ? errc::ok : decoded.err().code();
  errc validated_code = validated.ok() ? errc::ok : validated.err().code();
  CHECK(decoded_code == validated_code);
  return decoded_code;
}

std::string error_message(const std::string& bytes,
                          const decode_limits& limits = {}) {
  auto decoded = decode_msgpack(bytes, limits);
  return decoded.ok() ? std::string() : decoded.err().message();
}

// A profile-like document of about 1 KiB.
value sample_document() {
  value doc = value::object({{"name", "hostile-input-sample"},
                             {"level", 17},
                             {"balance", -123456789},
                             {"ratio", 0.875},
                             {"avatar", binary{1, 2, 3, 4, 5, 6, 7, 8}}});
  for (int i = 0; i < 24; ++i) {
    doc["inventory"]["item" + std::to_string(i)] = value::object(
      {{"count", i * 31}, {"tags", value::array({"rare", i % 2 == 0, 1.5})}});
  }
  return doc;
}

struct small_profile {
  std::int64_t coins = 0;
  std::string name;
  std::vector<int> items;
  MSGPACK_DEFINE_MAP(coins, name, items)
};

// Runs one input through every entry point; returns whether decoding
// succeeded. A success must re-encode to something that decodes again to
// the same bytes (the canonical form is stable).
bool exercise(const std::string& bytes, std::string& disagreement) {
  auto decoded = decode_msgpack(bytes);
  auto validated = validate_msgpack(bytes);
  if (decoded.ok() != validated.ok()) {
    disagreement = decoded.ok() ? validated.err().to_string()
                                : decoded.err().to_string();
    return false;
  }
  if (!decoded.ok() && decoded.err().code() != validated.err().code())
    disagreement = decoded.err().to_string() + " vs "
                   + validated.err().to_string();
  small_profile typed;
  (void)profilestore::decode_typed(bytes, typed);
  profilestore::msgpack_reader reader(bytes);
  (void)reader.skip();
  if (!decoded.ok())
    return false;
  std::string canonical = encode_msgpack(*decoded);
  auto again = decode_msgpack(canonical);
  if (!again.ok() || encode_msgpack(*again) != canonical)
    disagreement = "canonical re-encoding is unstable";
  return true;
}

} // namespace

TEST_CASE("an array32 header announcing 4294967295 elements in 5 bytes is "
          "malformed") {
  std::string bytes = bytes_of({0xdd, 0xff, 0xff, 0xff, 0xff});
  CHECK(outcome(bytes) == errc::malformed_input);
  CHECK(error_message(bytes)
        == "array of 4294967295 elements at offset 0 exceeds the remaining "
           "0 bytes");
}

TEST_CASE("huge container and payload headers without payload are malformed") {
  std::vector<std::string> inputs = {
    bytes_of({0xdc, 0xff, 0xff}),             // array16
    bytes_of({0xde, 0xff, 0xff}),             // map16
    bytes_of({0xdf, 0xff, 0xff, 0xff, 0xff}), // map32
    bytes_of({0xdb, 0xff, 0xff, 0xff, 0xff}), // str32
    bytes_of({0xc6, 0xff, 0xff, 0xff, 0xff}), // bin32
    bytes_of({0xd9, 0x05, 'a'}),              // str8, short payload
    bytes_of({0x92, 0x01}),                   // fixarray missing an element
    bytes_of({0x82, 0xa1, 'a', 0x01}),        // fixmap missing an entry
  };
  for (const auto& bytes : inputs) {
    CAPTURE(bytes.size());
    CHECK(outcome(bytes) == errc::malformed_input);
  }
}

TEST_CASE("a map header is checked against two bytes per entry") {
  // Three bytes remain after the header; two entries need at least four.
  std::string bytes = bytes_of({0x82, 0xa1, 'a', 0x01});
  CHECK(error_message(bytes).find("exceeds the remaining 3 bytes")
        != std::string::npos);
}

TEST_CASE("nested headers announcing more elements than the input holds are "
          "malformed") {
  // Each array32 header alone fits the bytes after it; together they
  // announce far more elements than the input has bytes. Caught at the
  // second header, before anything is reserved for it.
  std::string header = bytes_of({0xdd, 0x00, 0x0f, 0x42, 0x40}); // 1000000
  std::string bytes = repeat(header, 50) + std::string(1000000, '\xc0');
  CHECK(outcome(bytes) == errc::malformed_input);
  CHECK(error_message(bytes).find("at offset 5 brings the elements announced "
                                  "so far to 2000000")
        != std::string::npos);
}

TEST_CASE("truncated headers and empty input are malformed") {
  for (const auto& bytes :
       {std::string(), bytes_of({0xdd, 0xff}), bytes_of({0xcd, 0x01}),
        bytes_of({0xcb, 0, 0, 0}), bytes_of({0xd9})}) {
    CAPTURE(bytes.size());
    CHECK(outcome(bytes) == errc::malformed_input);
  }
}

TEST_CASE("the reserved byte 0xc1 and ext types are malformed") {
  for (const auto& bytes :
       {bytes_of({0xc1}), bytes_of({0x91, 0xc1}), bytes_of({0xd4, 0x01, 0x02}),
        bytes_of({0xc7, 0x01, 0x05, 0x00}), bytes_of({0xd8, 0x01}),
        bytes_of({0x81, 0xa1, 'k', 0xd5, 0x01, 0x00, 0x00})}) {
    CAPTURE(bytes.size());
    CHECK(outcome(bytes) == errc::malformed_input);
  }
  CHECK(*profilestore::msgpack_reader(bytes_of({0xd4, 0x01, 0x02})).peek()
        == profilestore::wire_type::ext);
}

TEST_CASE("trailing bytes after the object are malformed") {
  CHECK(outcome(bytes_of({0xc0, 0xc0})) == errc::malformed_input);
  std::string bytes = encode_msgpack(sample_document()) + "x";
  CHECK(outcome(bytes) == errc::malformed_input);
  CHECK(error_message(bytes).find("trailing") != std::string::npos);
}

TEST_CASE("a map key that is not a string is a type mismatch") {
  std::string bytes = bytes_of({0x81, 0x01, 0x02});
  CHECK(outcome(bytes) == errc::type_mismatch);
  CHECK(error_message(bytes) == "map key at offset 1 is not a string");
  CHECK(outcome(bytes_of({0x81, 0xc4, 0x01, 'k', 0x02}))
        == errc::type_mismatch);
}

TEST_CASE("duplicate map keys are malformed whether adjacent or not") {
  std::string adjacent = bytes_of({0x82, 0xa1, 'a', 0x01, 0xa1, 'a', 0x02});
  CHECK(outcome(adjacent) == errc::malformed_input);
  std::string apart = bytes_of(
    {0x83, 0xa1, 'b', 0x01, 0xa1, 'c', 0x02, 0xa1, 'b', 0x03});
  CHECK(outcome(apart) == errc::malformed_input);
  std::string unsorted_unique = bytes_of(
    {0x83, 0xa1, 'c', 0x01, 0xa1, 'a', 0x02, 0xa1, 'b', 0x03});
  CHECK(outcome(unsorted_unique) == errc::ok);
}

// Validation compares every pair of keys in a small unsorted map and sorts
// a larger one (more than 16 keys): both must find a duplicate however far
// apart, and accept unique keys in any order.
TEST_CASE("duplicates in unsorted maps of every size are malformed") {
  for (int n : {2, 3, 15, 16, 17, 40}) {
    CAPTURE(n);
    // Keys "k<n-1>" .. "k0" (descending, so unsorted), each with value 0.
    auto map_of = [](const std::vector<std::string>& keys) {
      std::string bytes = bytes_of({0xde, 0x00, static_cast<int>(keys.size())});
      for (const auto& k : keys) {
        bytes += static_cast<char>(0xa0 + k.size());
        bytes += k;
        bytes += '\0';
      }
      return bytes;
    };
    std::vector<std::string> keys;
    for (int i = n - 1; i >= 0; --i)
      keys.push_back("k" + std::to_string(i));
    CHECK(outcome(map_of(keys)) == errc::ok);
    // The last key repeats the first: the two are as far apart as can be.
    auto far = keys;
    far.back() = far.front();
    CHECK(outcome(map_of(far)) == errc::malformed_input);
    // Two neighbours equal.
    auto near = keys;
    near[near.size() / 2] = near[near.size() / 2 + (n > 2 ? 1 : -1)];
    CHECK(outcome(map_of(near)) == errc::malformed_input);
  }
}

TEST_CASE("nesting 100000 arrays deep fails cleanly at max_depth") {
  std::string bytes = repeat("\x91", 100000) + "\xc0";
  CHECK(outcome(bytes) == errc::limit_exceeded);
  std::string unterminated = repeat("\x91", 100000);
  CHECK(outcome(unterminated) == errc::limit_exceeded);
}

TEST_CASE("nesting 100000 maps deep fails cleanly at max_depth") {
  std::string bytes = repeat("\x81\xa1" "a", 100000) + "\xc0";
  CHECK(outcome(bytes) == errc::limit_exceeded);
  CHECK(error_message(bytes).find("max_depth") != std::string::npos);
}

TEST_CASE("validation walks nesting far beyond its inline stack") {
  decode_limits limits;
  limits.max_depth = 200000;
  std::string arrays = repeat("\x91", 100000) + "\xc0";
  CHECK(validate_msgpack(arrays, limits).ok());
  std::string maps = repeat("\x81\xa1" "a", 100000) + "\xc0";
  CHECK(validate_msgpack(maps, limits).ok());
  std::string truncated = repeat("\x92", 1000) + "\xc0";
  CHECK(validate_msgpack(truncated, limits).err().code()
        == errc::malformed_input);
}

TEST_CASE("truncated input at every prefix length is malformed") {
  std::string bytes = encode_msgpack(sample_document());
  MESSAGE("document of " << bytes.size() << " bytes");
  REQUIRE(bytes.size() >= 900);
  REQUIRE(outcome(bytes) == errc::ok);
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    CAPTURE(length);
    CHECK(outcome(bytes.substr(0, length)) == errc::malformed_input);
  }
}

TEST_CASE("random bytes never crash and validation agrees with decoding") {
  constexpr std::uint32_t seed = 0x5eed2024;
  MESSAGE("std::mt19937 seed " << seed);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> length(0, 64);
  std::uniform_int_distribution<int> byte(0, 255);
  int decoded_ok = 0;
  int disagreements = 0;
  for (int i = 0; i < 10000; ++i) {
    std::string bytes(static_cast<std::size_t>(length(rng)), '\0');
    for (auto& c : bytes)
      c = static_cast<char>(byte(rng));
    std::string disagreement;
    decoded_ok += exercise(bytes, disagreement) ? 1 : 0;
    if (!disagreement.empty() && disagreements++ < 5)
      FAIL_CHECK("input " << i << ": " << disagreement);
  }
  MESSAGE(decoded_ok << " of 10000 random inputs decoded");
  CHECK(disagreements == 0);
}

namespace {

// Runs 5,000 copies of `original`, each with 1 to 4 random bytes replaced
// (std::mt19937 with `seed`), through exercise(); fails the test case on
// any disagreement (reporting the first five).
void check_mutations(const std::string& original, std::uint32_t seed) {
  MESSAGE("std::mt19937 seed " << seed);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::size_t> position(0, original.size() - 1);
  std::uniform_int_distribution<int> flips(1, 4);
  std::uniform_int_distribution<int> byte(0, 255);
  int decoded_ok = 0;
  int disagreements = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string bytes = original;
    for (int f = flips(rng); f > 0; --f)
      bytes[position(rng)] = static_cast<char>(byte(rng));
    std::string disagreement;
    decoded_ok += exercise(bytes, disagreement) ? 1 : 0;
    if (!disagreement.empty() && disagreements++ < 5)
      FAIL_CHECK("mutation " << i << ": " << disagreement);
  }
  MESSAGE(decoded_ok << " of 5000 mutated documents decoded");
  CHECK(disagreements == 0);
}

} // namespace

TEST_CASE("mutated documents never crash and validation agrees with decoding") {
  check_mutations(encode_msgpack(sample_document()), 0xf1a5c0de);
}

namespace {

// Maps in field order, as typed profiles encode them (not sorted by key):
// validation then checks their keys for duplicates pair by pair.
struct typed_item {
  std::string id;
  std::int64_t count = 0;
  double durability = 1.0;
  bool equipped = false;
  MSGPACK_DEFINE_MAP(id, count, durability, equipped)
};

struct typed_document {
  std::string name;
  std::int64_t coins = 0;
  std::vector<typed_item> inventory;
  std::map<std::string, std::int64_t> quests;
  MSGPACK_DEFINE_MAP(name, coins, inventory, quests)
};

std::string typed_document_bytes() {
  typed_document doc;
  doc.name = "player-7";
  doc.coins = 12345;
  for (int i = 0; i < 20; ++i)
    doc.inventory.push_back(
      typed_item{"item-" + std::to_string(i * 7919 % 1000), i * 13,
                 i / 20.0, i % 3 == 0});
  for (int q = 0; q < 4; ++q)
    doc.quests["quest-" + std::to_string(q)] = q * 10;
  msgpack::sbuffer out;
  msgpack::pack(out, doc);
  return std::string(out.data(), out.size());
}

using packer = msgpack::packer<msgpack::sbuffer>;

std::string packed(const std::function<void(packer&)>& write) {
  msgpack::sbuffer out;
  packer pk(out);
  write(pk);
  return std::string(out.data(), out.size());
}

void pack_key(packer& pk, const std::string& key) {
  pk.pack_str(static_cast<std::uint32_t>(key.size()));
  pk.pack_str_body(key.data(), static_cast<std::uint32_t>(key.size()));
}

// A map of `n` keys "k<i>" (values nil), in descending order so that
// validation sees them unsorted; `duplicate` repeats the first key last.
std::string unsorted_map(int n, bool duplicate) {
  return packed([&](packer& pk) {
    pk.pack_map(static_cast<std::uint32_t>(n));
    for (int i = n - 1; i >= (duplicate ? 1 : 0); --i) {
      pack_key(pk, "k" + std::to_string(1000 + i));
      pk.pack_nil();
    }
    if (duplicate) {
      pack_key(pk, "k" + std::to_string(1000 + n - 1));
      pk.pack_nil();
    }
  });
}

} // namespace

TEST_CASE("mutated typed documents (maps in field order) never crash and "
          "validation agrees with decoding") {
  const std::string original = typed_document_bytes();
  REQUIRE(outcome(original) == errc::ok);
  check_mutations(original, 0x7e9ed0c5);
}

TEST_CASE("validation agrees with decoding at the bounds of its quick walk "
          "(nesting, open keys, unsorted maps)") {
  // Nesting around the quick walk's 32 levels and the default max_depth.
  for (std::size_t levels : {31, 32, 33, 100, 101}) {
    CAPTURE(levels);
    std::string nested = repeat("\x91", levels) + "\xc0";
    CHECK(outcome(nested) == (levels <= 100 ? errc::ok : errc::limit_exceeded));
    std::string keyed = repeat(std::string("\x81\xa1k"), levels) + "\xc0";
    CHECK(outcome(keyed) == (levels <= 100 ? errc::ok : errc::limit_exceeded));
  }
  // A small max_depth, with an empty container at and past the limit.
  decode_limits shallow;
  shallow.max_depth = 2;
  CHECK(outcome(bytes_of({0x91, 0x90}), shallow) == errc::ok);
  CHECK(outcome(bytes_of({0x91, 0x91, 0x90}), shallow)
        == errc::limit_exceeded);
  CHECK(outcome(bytes_of({0x81, 0xa1, 'k', 0x80}), shallow) == errc::ok);
  CHECK(outcome(bytes_of({0x91, 0x81, 0xa1, 'k', 0x80}), shallow)
        == errc::limit_exceeded);
  // Unsorted maps: up to 16 keys checked pair by pair, more are sorted.
  for (int n : {2, 16, 17, 40}) {
    CAPTURE(n);
    CHECK(outcome(unsorted_map(n, false)) == errc::ok);
    CHECK(outcome(unsorted_map(n, true)) == errc::malformed_input);
  }
  // More keys open at once than the quick walk holds (256): a map of 300
  // keys, sorted, and one whose last key repeats its first.
  auto wide = [](bool duplicate) {
    return packed([&](packer& pk) {
      pk.pack_map(300);
      for (int i = 0; i < 300; ++i) {
        pack_key(pk, "k" + std::to_string(1000 + (duplicate && i == 299 ? 0 : i)));
        pk.pack_nil();
      }
    });
  };
  CHECK(outcome(wide(false)) == errc::ok);
  CHECK(outcome(wide(true)) == errc::malformed_input);
  // A duplicate key in a small map in field order, inside an array.
  auto items = [](bool duplicate) {
    return packed([&](packer& pk) {
      pk.pack_array(3);
      for (int i = 0; i < 3; ++i) {
        pk.pack_map(3);
        pack_key(pk, "id");
        pk.pack_int(i);
        pack_key(pk, "count");
        pk.pack_int(i);
        pack_key(pk, duplicate && i == 2 ? "id" : "equipped");
        pk.pack_true();
      }
    });
  };
  CHECK(outcome(items(false)) == errc::ok);
  CHECK(outcome(items(true)) == errc::malformed_input);
}

TEST_CASE("decode_typed on hostile bytes gives an error") {
  std::vector<std::string> inputs = {
    std::string(),
    bytes_of({0xdd, 0xff, 0xff, 0xff, 0xff}),
    bytes_of({0xc1}),
    bytes_of({0xd4, 0x01, 0x02}),
    bytes_of({0x81, 0x01, 0x02}),
    repeat("\x91", 100000) + "\xc0",
    bytes_of({0xc0, 0xc0}),
    bytes_of({0x81, 0xa5, 'c', 'o', 'i', 'n', 's', 0xa1, 'x'}),
  };
  for (const auto& bytes : inputs) {
    CAPTURE(bytes.size());
    small_profile typed;
    CHECK_FALSE(profilestore::decode_typed(bytes, typed).ok());
  }
}

TEST_CASE("max_depth 3 accepts depth 3 and rejects depth 4") {
  decode_limits limits;
  limits.max_depth = 3;
  CHECK(outcome(bytes_of({0x91, 0x91, 0x91, 0xc0}), limits) == errc::ok);
  CHECK(outcome(bytes_of({0x91, 0x91, 0x90}), limits) == errc::ok);
  CHECK(outcome(bytes_of({0x91, 0x91, 0x91, 0x91, 0xc0}), limits)
        == errc::limit_exceeded);
  CHECK(outcome(bytes_of({0x91, 0x91, 0x80}), limits) == errc::ok);
  CHECK(outcome(bytes_of({0x91, 0x91, 0x91, 0x91, 0x90}), limits)
        == errc::limit_exceeded);
  CHECK(outcome(bytes_of({0x81, 0xa1, 'a', 0x81, 0xa1, 'b', 0x81, 0xa1, 'c',
                          0x80}),
                limits)
        == errc::limit_exceeded);
}

TEST_CASE("max_string_bytes is enforced for values and keys") {
  decode_limits limits;
  limits.max_string_bytes = 4;
  CHECK(outcome(encode_msgpack(value("abcd")), limits) == errc::ok);
  CHECK(outcome(encode_msgpack(value("abcde")), limits)
        == errc::limit_exceeded);
  CHECK(outcome(encode_msgpack(value::object({{"long-key", 1}})), limits)
        == errc::limit_exceeded);
}

TEST_CASE("max_binary_bytes is enforced") {
  decode_limits limits;
  limits.max_binary_bytes = 2;
  CHECK(outcome(encode_msgpack(value(binary{1, 2})), limits) == errc::ok);
  CHECK(outcome(encode_msgpack(value(binary{1, 2, 3})), limits)
        == errc::limit_exceeded);
}

TEST_CASE("max_objects counts scalars containers and keys") {
  decode_limits limits;
  limits.max_objects = 4;
  CHECK(outcome(encode_msgpack(value::array({1, 2, 3})), limits) == errc::ok);
  CHECK(outcome(encode_msgpack(value::array({1, 2, 3, 4})), limits)
        == errc::limit_exceeded);
  limits.max_objects = 3;
  CHECK(outcome(encode_msgpack(value::object({{"a", 1}})), limits)
        == errc::ok);
  limits.max_objects = 2;
  CHECK(outcome(encode_msgpack(value::object({{"a", 1}})), limits)
        == errc::limit_exceeded);
}

TEST_CASE("max_total_bytes is enforced") {
  std::string bytes = encode_msgpack(sample_document());
  decode_limits limits;
  limits.max_total_bytes = bytes.size();
  CHECK(outcome(bytes, limits) == errc::ok);
  limits.max_total_bytes = bytes.size() - 1;
  CHECK(outcome(bytes, limits) == errc::limit_exceeded);
}

TEST_CASE("max_container_length is enforced for arrays and maps") {
  decode_limits limits;
  limits.max_container_length = 3;
  CHECK(outcome(encode_msgpack(value::array({1, 2, 3})), limits) == errc::ok);
  CHECK(outcome(encode_msgpack(value::array({1, 2, 3, 4})), limits)
        == errc::limit_exceeded);
  CHECK(outcome(encode_msgpack(value::object({{"a", 1}, {"b", 2}, {"c", 3}})),
                limits)
        == errc::ok);
  CHECK(outcome(encode_msgpack(value::object(
                  {{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}})),
                limits)
        == errc::limit_exceeded);
  value_array big(20, value(0));
  CHECK(outcome(encode_msgpack(value(big)), limits) == errc::limit_exceeded);
}

TEST_CASE("an announced size beyond the input is malformed even over a limit") {
  decode_limits limits;
  limits.max_container_length = 10;
  limits.max_string_bytes = 10;
  CHECK(outcome(bytes_of({0xdc, 0x00, 0x20}), limits) == errc::malformed_input);
  CHECK(outcome(bytes_of({0xd9, 0x20, 'a'}), limits) == errc::malformed_input);
}

TEST_CASE("the structural skip stays inside the input on hostile bytes") {
  using profilestore::errc;
  using profilestore::msgpack_reader;
  auto skip = [](const std::string& bytes) {
    msgpack_reader r(bytes);
    return r.skip_structure();
  };
  CHECK(skip(std::string("\xdd\xff\xff\xff\xff", 5)).err().code()
        == errc::malformed_input);
  CHECK(skip(std::string("\xdb\x00\x01\x00\x00", 5)).err().code()
        == errc::malformed_input);
  CHECK(skip(std::string("\xc1", 1)).err().code() == errc::malformed_input);
  CHECK(skip(std::string("\xd4\x01\x02", 3)).err().code()
        == errc::malformed_input);
  CHECK(skip(std::string("\xcb\x00", 2)).err().code()
        == errc::malformed_input);
  // Nesting far beyond any depth limit is walked without recursion.
  std::string deep(200000, '\x91');
  deep.push_back('\xc0');
  msgpack_reader r(deep);
  REQUIRE(r.skip_structure().ok());
  CHECK(r.at_end());
  // Every prefix of a valid document is refused, never read past.
  auto doc = profilestore::encode_msgpack(profilestore::value::object(
    {{"a", profilestore::value::array({1, "two", 3.0})},
     {"b", profilestore::binary(40, 7)}}));
  for (std::size_t n = 0; n < doc.size(); ++n)
    CHECK_FALSE(skip(doc.substr(0, n)).ok());
  msgpack_reader whole(doc);
  auto object = whole.read_object_structure();
  REQUIRE(object.ok());
  CHECK(*object == doc);
}
