// The node directory (store/node_directory.hpp, docs/format.md "Node
// directory entry"): golden bytes, hostile bytes, the lease rule.
#include <doctest/doctest.h>

#include "profilestore/store/node_directory.hpp"

using namespace profilestore;

TEST_CASE("a node directory entry has the documented bytes") {
  node_entry e{1, "", 5, 15};
  CHECK(encode_node_entry(e) == std::string("\x94\x01\xa0\x05\x0f", 5));
  auto back = decode_node_entry(encode_node_entry(node_entry{7, "10.0.0.1:4000", -3, 99}));
  REQUIRE(back.ok());
  CHECK(back->incarnation == 7);
  CHECK(back->address == "10.0.0.1:4000");
  CHECK(back->heartbeat == -3);
  CHECK(back->lease_until == 99);
}

TEST_CASE("a damaged node directory entry is a corrupt_record error") {
  for (std::string bad : {std::string(), std::string("\x93\x01\xa0\x05", 4),
                          std::string("\x94\x01\xa0\x05", 4),
                          std::string("\x94\x01\xa0\x05\x0f\x00", 6),
                          std::string("\xdd\xff\xff\xff\xff", 5)}) {
    auto r = decode_node_entry(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code() == errc::corrupt_record);
  }
}

TEST_CASE("an owner's lease expires by time, by a newer incarnation, never without an entry") {
  session_ref owner{"game-a", 3, 1};
  CHECK_FALSE(owner_lease_expired(std::nullopt, owner, 1'000'000));
  node_entry e{3, "", 0, 100};
  CHECK_FALSE(owner_lease_expired(e, owner, 99));
  CHECK(owner_lease_expired(e, owner, 100));
  e.incarnation = 4;
  CHECK(owner_lease_expired(e, owner, 0));
  e.incarnation = 2; // an older process's entry vouches nothing either way
  CHECK_FALSE(owner_lease_expired(e, owner, 1'000'000));
}
