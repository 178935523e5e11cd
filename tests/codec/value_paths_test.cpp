// Tests for dotted paths (find, set, erase) and reconcile: set either
// succeeds or leaves the value exactly as it was, and reconcile only ever
// adds what is missing.
#include <doctest/doctest.h>

#include <string>

#include "profilestore/codec/value.hpp"

using profilestore::binary;
using profilestore::errc;
using profilestore::value;
using profilestore::value_array;
using profilestore::value_map;

namespace {

value sample_profile() {
  return value::object(
    {{"name", "ann"},
     {"inventory", value::object({{"sword", value::object({{"count", 2}})}})},
     {"quests", value::array({value::object({{"name", "first"}}),
                              value::object({{"name", "second"}})})}});
}

} // namespace

TEST_CASE("find walks through maps and arrays") {
  value v = sample_profile();
  REQUIRE(v.find("inventory.sword.count") != nullptr);
  CHECK(*v.find("inventory.sword.count") == value(2));
  REQUIRE(v.find("quests.1.name") != nullptr);
  CHECK(*v.find("quests.1.name") == value("second"));
  CHECK(v.find("quests.1")->is_map());
  const value& constant = v;
  CHECK(constant.find("name") == v.find("name"));
}

TEST_CASE("find returns null for missing steps and malformed paths") {
  value v = sample_profile();
  CHECK(v.find("inventory.shield") == nullptr);
  CHECK(v.find("quests.2.name") == nullptr);
  CHECK(v.find("quests.x") == nullptr);
  CHECK(v.find("quests.-1") == nullptr);
  CHECK(v.find("name.first") == nullptr);
  CHECK(v.find("inventory..sword") == nullptr);
  CHECK(v.find(".name") == nullptr);
  CHECK(v.find("name.") == nullptr);
}

TEST_CASE("a numeric segment is a key when the container is a map") {
  value v = value::object({{"levels", value::object({{"0", "start"}})}});
  REQUIRE(v.find("levels.0") != nullptr);
  CHECK(*v.find("levels.0") == value("start"));
}

TEST_CASE("an empty path addresses the value itself") {
  value v = sample_profile();
  CHECK(v.find("") == &v);
  REQUIRE(v.set("", 5).ok());
  CHECK(v == value(5));
}

TEST_CASE("set creates missing maps along the path") {
  value v = sample_profile();
  REQUIRE(v.set("stats.combat.kills", 7).ok());
  REQUIRE(v.find("stats.combat.kills") != nullptr);
  CHECK(*v.find("stats.combat.kills") == value(7));
  REQUIRE(v.set("inventory.shield", "wood").ok());
  CHECK(*v.find("inventory.shield") == value("wood"));
  CHECK(*v.find("inventory.sword.count") == value(2));
}

TEST_CASE("set turns nil values into maps") {
  value root;
  REQUIRE(root.set("a.b", true).ok());
  CHECK(root == value::object({{"a", value::object({{"b", true}})}}));
  value with_nil = value::object({{"slot", value()}});
  REQUIRE(with_nil.set("slot.item", 1).ok());
  CHECK(*with_nil.find("slot.item") == value(1));
}

TEST_CASE("set replaces existing values including array elements") {
  value v = sample_profile();
  REQUIRE(v.set("quests.0.name", "renamed").ok());
  CHECK(*v.find("quests.0.name") == value("renamed"));
  REQUIRE(v.set("quests.1", 3).ok());
  CHECK(*v.find("quests.1") == value(3));
  REQUIRE(v.set("name", value::array({1, 2})).ok());
  CHECK(v.find("name")->is_array());
}

TEST_CASE("set through a string fails and changes nothing") {
  value v = sample_profile();
  const value before = v;
  auto r = v.set("name.first.letter", "a");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code() == errc::type_mismatch);
  CHECK(r.err().message().find("name.first.letter") != std::string::npos);
  CHECK(v == before);
}

TEST_CASE("set with an out of range index fails and changes nothing") {
  value v = sample_profile();
  const value before = v;
  auto past_end = v.set("quests.2.name", "third");
  REQUIRE_FALSE(past_end.ok());
  CHECK(past_end.err().code() == errc::invalid_argument);
  auto not_a_number = v.set("quests.first", 1);
  REQUIRE_FALSE(not_a_number.ok());
  CHECK(not_a_number.err().code() == errc::invalid_argument);
  auto appending = v.set("quests.2", 1);
  REQUIRE_FALSE(appending.ok());
  CHECK(v == before);
}

TEST_CASE("set with an empty segment fails and changes nothing") {
  value v = sample_profile();
  const value before = v;
  for (const char* path : {"a..b", ".a", "a.", ".", "new.map..x",
                           "inventory.sword.", "stats.x..y"}) {
    CAPTURE(path);
    auto r = v.set(path, 1);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code() == errc::invalid_argument);
    CHECK(v == before);
  }
}

TEST_CASE("a failed set deep below missing maps creates none of them") {
  value v = value::object({{"leaf", 1}});
  const value before = v;
  CHECK_FALSE(v.set("a.b.c.leaf..x", 2).ok());
  CHECK_FALSE(v.set("leaf.x.y", 2).ok());
  CHECK(v == before);
}

TEST_CASE("erase removes map keys and array elements") {
  value v = sample_profile();
  CHECK(v.erase("inventory.sword.count"));
  CHECK(v.find("inventory.sword")->if_map()->empty());
  CHECK(v.erase("quests.0"));
  REQUIRE(v.find("quests")->if_array()->size() == 1);
  CHECK(*v.find("quests.0.name") == value("second"));
  CHECK(v.erase("name"));
  CHECK(v.get("name") == nullptr);
}

TEST_CASE("erase reports false when there is nothing to remove") {
  value v = sample_profile();
  const value before = v;
  CHECK_FALSE(v.erase("missing"));
  CHECK_FALSE(v.erase("inventory.shield"));
  CHECK_FALSE(v.erase("quests.5"));
  CHECK_FALSE(v.erase("quests.x"));
  CHECK_FALSE(v.erase("name.first"));
  CHECK_FALSE(v.erase(""));
  CHECK_FALSE(v.erase("inventory..sword"));
  CHECK_FALSE(v.erase(".name"));
  CHECK_FALSE(v.erase("name."));
  CHECK(v == before);
}

TEST_CASE("reconcile fills missing keys deeply") {
  value profile = value::object(
    {{"coins", 5}, {"settings", value::object({{"sound", false}})}});
  value tmpl = value::object(
    {{"coins", 0},
     {"gems", 0},
     {"settings", value::object({{"sound", true}, {"music", true}})},
     {"inventory", value::object({{"slots", 10}})}});
  profile.reconcile(tmpl);
  CHECK(profile
        == value::object(
          {{"coins", 5},
           {"gems", 0},
           {"settings", value::object({{"sound", false}, {"music", true}})},
           {"inventory", value::object({{"slots", 10}})}}));
}

TEST_CASE("reconcile never overwrites an existing value even of another kind") {
  value profile = value::object({{"settings", "custom"},
                                 {"level", value()},
                                 {"coins", 2.5},
                                 {"avatar", binary{1}}});
  const value before = profile;
  value tmpl = value::object({{"settings", value::object({{"sound", true}})},
                              {"level", 1},
                              {"coins", 0},
                              {"avatar", "default"}});
  profile.reconcile(tmpl);
  CHECK(profile == before);
}

TEST_CASE("reconcile does not merge arrays") {
  value profile = value::object({{"items", value::array({"sword"})}});
  value tmpl = value::object(
    {{"items", value::array({"stick", "stone"})}, {"pets", value::array({})}});
  profile.reconcile(tmpl);
  CHECK(*profile.get("items") == value::array({"sword"}));
  CHECK(*profile.get("pets") == value(value_array{}));
}

TEST_CASE("reconcile turns nil into a copy of the template") {
  value profile;
  value tmpl = value::object({{"coins", 0}, {"items", value::array({1})}});
  profile.reconcile(tmpl);
  CHECK(profile == tmpl);
  tmpl["coins"] = 9;
  CHECK(*profile.get("coins") == value(0));
}

TEST_CASE("reconcile leaves a non-map value alone") {
  value scalar(3);
  scalar.reconcile(value::object({{"a", 1}}));
  CHECK(scalar == value(3));
  value map = value::object({{"a", 1}});
  map.reconcile(value(4));
  CHECK(map == value::object({{"a", 1}}));
}

TEST_CASE("reconciled maps stay sorted and searchable") {
  value profile = value::object({{"m", 1}, {"c", 1}});
  profile.reconcile(value::object({{"z", 0}, {"a", 0}, {"n", 0}, {"c", 0}}));
  const value_map* map = profile.if_map();
  REQUIRE(map != nullptr);
  std::string order;
  for (const auto& entry : *map)
    order += entry.first;
  CHECK(order == "acmnz");
  CHECK(profile.get("n") != nullptr);
}
