// Sessions on one node: start, end, the lock rules as a node sees them, the
// retry loop in virtual time.
#include <doctest/doctest.h>

#include "runtime_harness.hpp"

using namespace profilestore;
using namespace profilestore::testing;
using namespace std::chrono_literals;

TEST_CASE("a started session loads the template and its final save releases the lock") {
  runtime rt;
  auto players = rt.open_value("players");
  auto p = rt.start(players, "user-1");
  REQUIRE(p.ok());
  auto rec = rt.stored("players", "user-1");
  REQUIRE(rec);
  CHECK(rec->meta.active_session == p->session);
  CHECK(rec->meta.session_load_count == 1);

  REQUIRE_OK(rt.update(*p, add_coins(25)));
  REQUIRE_OK(rt.end(*p));
  rec = rt.stored("players", "user-1");
  CHECK_FALSE(rec->meta.active_session.has_value());
  CHECK(stored_coins(*rec) == 25);
}

TEST_CASE("starting a key that is already active on this node is an error") {
  runtime rt;
  auto players = rt.open_value("players");
  auto first = rt.start(players, "user-1");
  REQUIRE(first.ok());
  auto second = rt.start(players, "user-1");
  REQUIRE_FALSE(second.ok());
  CHECK(second.err().code() == errc::session_active);
}
