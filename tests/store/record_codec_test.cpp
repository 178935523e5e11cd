// The record format, version 1: golden bytes, round trips, strictness.
#include "store_harness.hpp"

#include <random>

using namespace profilestore;
using namespace profilestore::testing;

namespace {

std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string unhex(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i, 2)),
                                              nullptr, 16)));
  return out;
}

record sample_record() {
  record rec;
  rec.data = encode_msgpack(value::object({{"c", 1}}));
  rec.meta.profile_create_time = 2;
  rec.meta.session_load_count = 3;
  rec.meta.active_session = session_ref{"n", 4, 5};
  rec.meta.last_update = 6;
  rec.last_update_id = 7;
  rec.updates.push_back(queued_update{7, 1, false, encode_msgpack(value(8))});
  rec.user_ids = {9};
  return rec;
}

} // namespace

TEST_CASE("a profile record has fixed golden bytes") {
  // {FormatVersion: 1, Data: {c: 1},
  //  MetaData: {ProfileCreateTime: 2, SessionLoadCount: 3,
  //             ActiveSession: ["n", 4, 5], ForceLoadSession: nil,
  //             LastUpdate: 6, MetaTags: {}},
  //  GlobalUpdates: [7, [[7, 1, false, 8]]], UserIds: [9], KeyMetaData: {},
  //  WasOverwritten: false}
  std::string expected = unhex(
    "87"
    "ad" "466f726d617456657273696f6e" "01"
    "a4" "44617461" "81a16301"
    "a8" "4d65746144617461" "86"
    "b1" "50726f66696c6543726561746554696d65" "02"
    "b0" "53657373696f6e4c6f6164436f756e74" "03"
    "ad" "41637469766553657373696f6e" "93a16e0405"
    "b0" "466f7263654c6f616453657373696f6e" "c0"
    "aa" "4c617374557064617465" "06"
    "a8" "4d65746154616773" "80"
    "ad" "476c6f62616c55706461746573" "9207919407" "01c208"
    "a7" "55736572496473" "9109"
    "ab" "4b65794d65746144617461" "80"
    "ae" "5761734f7665727772697474656e" "c2");
  CHECK(hex(encode_record(sample_record())) == hex(expected));
}

TEST_CASE("a messages-only record has fixed golden bytes") {
  record rec;
  rec.has_profile = false;
  rec.last_update_id = 1;
  rec.updates.push_back(queued_update{1, 1, false, encode_msgpack(value(2))});
  std::string expected = unhex("82"
                               "ad" "466f726d617456657273696f6e" "01"
                               "ad" "476c6f62616c55706461746573"
                               "920191940101c202");
  CHECK(hex(encode_record(rec)) == hex(expected));
}

TEST_CASE("a record decoded from its encoding equals the original") {
  record rec = sample_record();
  rec.meta.force_load_session = session_ref{"other", 1, 2};
  rec.meta.meta_tags = encode_msgpack(value::object({{"t", true}}));
  rec.key_metadata = encode_msgpack(value::object({{"k", "v"}}));
  rec.was_overwritten = true;
  rec.updates.push_back(queued_update{6, 3, true, encode_msgpack(value("x"))});
  auto back = decode_record(encode_record(rec));
  REQUIRE_MESSAGE(back.ok(), back.err().to_string());
  CHECK(encode_record(*back) == encode_record(rec));
  CHECK(back->meta.force_load_session == rec.meta.force_load_session);
  CHECK(back->updates == rec.updates);
  CHECK(back->was_overwritten);
}

TEST_CASE("a record decoded without its Data equals the full decode but for Data") {
  record rec = sample_record();
  rec.meta.force_load_session = session_ref{"other", 1, 2};
  rec.key_metadata = encode_msgpack(value::object({{"k", "v"}}));
  rec.updates.push_back(queued_update{6, 3, true, encode_msgpack(value("x"))});
  auto bytes = encode_record(rec);
  auto full = decode_record(bytes);
  auto lean = decode_record_without_data(bytes);
  REQUIRE_MESSAGE(full.ok(), full.err().to_string());
  REQUIRE_MESSAGE(lean.ok(), lean.err().to_string());
  CHECK(lean->data.empty());
  CHECK(lean->has_profile);
  lean->data = full->data;
  CHECK(encode_record(*lean) == bytes);
}

TEST_CASE("unknown fields survive a decode and encode") {
  record rec = sample_record();
  std::string bytes = encode_record(rec);
  // Rebuild the map with two extra fields, one at the top, one in MetaData.
  auto tree = decode_msgpack(bytes);
  REQUIRE(tree.ok());
  (*tree)["Zeta"] = value::array({1, 2});
  (*tree)["MetaData"]["Future"] = value("later");
  auto back = decode_record(encode_msgpack(*tree));
  REQUIRE_MESSAGE(back.ok(), back.err().to_string());
  auto again = decode_msgpack(encode_record(*back));
  REQUIRE(again.ok());
  CHECK(*again->find("Zeta") == value::array({1, 2}));
  CHECK(*again->find("MetaData.Future") == value("later"));
}

TEST_CASE("a newer format version is unsupported rather than corrupt") {
  auto tree = decode_msgpack(encode_record(sample_record()));
  REQUIRE(tree.ok());
  (*tree)["FormatVersion"] = value(2);
  (*tree)["Data"] = value("a newer writer may change Data's type");
  auto r = decode_record(encode_msgpack(*tree));
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code() == errc::unsupported_format);
}

TEST_CASE("records with missing or mistyped fields are corrupt") {
  auto base = decode_msgpack(encode_record(sample_record()));
  REQUIRE(base.ok());
  auto expect_corrupt = [](const value& v, const char* why) {
    auto r = decode_record(encode_msgpack(v));
    REQUIRE_MESSAGE(!r.ok(), why);
    CHECK_MESSAGE(r.err().code() == errc::corrupt_record, why);
    auto lean = decode_record_without_data(encode_msgpack(v));
    REQUIRE_MESSAGE(!lean.ok(), why);
    CHECK_MESSAGE(lean.err().code() == errc::corrupt_record, why);
  };
  {
    auto v = *base;
    v.erase("FormatVersion");
    expect_corrupt(v, "no FormatVersion");
  }
  {
    auto v = *base;
    v.erase("MetaData");
    expect_corrupt(v, "Data without MetaData");
  }
  {
    auto v = *base;
    v.erase("GlobalUpdates");
    expect_corrupt(v, "no GlobalUpdates");
  }
  {
    auto v = *base;
    v["Data"] = value(5);
    expect_corrupt(v, "Data not a table");
  }
  {
    auto v = *base;
    v["MetaData"]["ActiveSession"] = value::array({"n", 1});
    expect_corrupt(v, "short session");
  }
  {
    auto v = *base;
    v["MetaData"]["SessionLoadCount"] = value("three");
    expect_corrupt(v, "count as a string");
  }
  {
    auto v = *base;
    v["MetaData"].erase("LastUpdate");
    expect_corrupt(v, "no LastUpdate");
  }
  {
    auto v = *base;
    v["GlobalUpdates"] = value::array({1, value::array({value::array(
                                              {2, 1, false, 0})})});
    expect_corrupt(v, "update id beyond the last id");
  }
  {
    auto v = *base;
    v["UserIds"] = value::array({"x"});
    expect_corrupt(v, "user id as a string");
  }
  expect_corrupt(value::array({1, 2}), "not a map");
  auto trailing = encode_record(sample_record()) + "\xc0";
  CHECK(decode_record(trailing).err().code() == errc::corrupt_record);
}

TEST_CASE("random damage to a record never crashes the decoder") {
  const char* fixed = std::getenv("PROFILESTORE_TEST_SEED");
  auto seed = fixed ? static_cast<unsigned>(std::strtoul(fixed, nullptr, 10))
                    : std::random_device{}();
  MESSAGE("record damage seed: " << seed);
  std::mt19937 rng(seed);
  std::string good = encode_record(sample_record());
  int decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = good;
    int flips = std::uniform_int_distribution<int>(1, 4)(rng);
    for (int f = 0; f < flips; ++f)
      bytes[std::uniform_int_distribution<std::size_t>(0, bytes.size() - 1)(
        rng)] = static_cast<char>(rng());
    bytes.resize(std::uniform_int_distribution<std::size_t>(0, bytes.size())(
      rng));
    auto r = decode_record(bytes);
    // Leaving Data out changes no verdict.
    auto lean = decode_record_without_data(bytes);
    REQUIRE(lean.ok() == r.ok());
    if (!r.ok())
      CHECK(lean.err().code() == r.err().code());
    if (r.ok())
      ++decoded;
    else
      CHECK((r.err().code() == errc::corrupt_record
             || r.err().code() == errc::unsupported_format));
  }
  MESSAGE(decoded << " of 20000 damaged records still decoded");
}
