// ProfileService's global updates across nodes (cluster_harness.hpp: actor
// systems talking over TCP on 127.0.0.1, storage remote to both game nodes):
// the edit_updates operation and its reply cross the wire, the owner is told
// at once, and storage's refusals come back as the same errors.
#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <memory>
#include <mutex>

#include "cluster_harness.hpp"
#include "profilestore/compat/profile_service.hpp"
#include "result_checks.hpp"

using namespace profilestore;
using namespace profilestore::testing;
using namespace std::chrono_literals;

TEST_CASE("global updates sent from one game node reach the owner on another at once and storage refusals cross the wire") {
  temp_dir dir{"compat-cluster"};
  storage_node s(dir.path());
  s.start();
  game_node a({"game-a", 1, {s.where()}});
  game_node b({"game-b", 1, {s.where()}});
  compat::profile_service service_a(a.system(), a.get());
  compat::profile_service service_b(b.system(), b.get());
  auto tmpl = value::object({{"coins", 0}});
  auto on_a = must(service_a.get_profile_store("players", tmpl));
  auto on_b = must(service_b.get_profile_store("players", tmpl));

  // The listener runs in the owner's actor; the test waits for it (bounded).
  auto told = std::make_shared<std::promise<std::uint64_t>>();
  auto once = std::make_shared<std::once_flag>();
  compat::load_options o;
  o.listeners.on_new_active_update.push_back(
    [told, once](compat::service_profile_view& v, std::uint64_t id,
                 const value&) {
      std::call_once(*once, [&] { told->set_value(id); });
      (void) v.global_updates().lock_active_update(id);
    });
  auto loaded = must(on_a.load_profile("user-1", std::move(o)));
  REQUIRE(loaded.has_value());
  auto& owner = *loaded;

  auto sent = must(on_b.global_update_profile(
    "user-1", [](compat::global_updates& g) {
      CHECK(g.add_active_update(value::object({{"gift", 7}})).ok());
    }));
  REQUIRE(sent.get_active_updates().size() == 1);
  auto id = sent.get_active_updates()[0].id;
  // AUTO_SAVE_PERIOD is 300 s: only storage's notice can tell the owner now.
  auto future = told->get_future();
  REQUIRE_MESSAGE(future.wait_for(20s) == std::future_status::ready,
                  "the owner was not told of the update");
  CHECK(future.get() == id);

  must(owner.save()); // locks it
  auto locked = on_b.global_update_profile(
    "user-1", [id = id](compat::global_updates& g) {
      CHECK(g.get_locked_updates().size() == 1);
      CHECK(code_of(g.clear_active_update(id)) == errc::invalid_argument);
    });
  CHECK(locked.ok());
  // An id the sender cannot check itself: storage's not_found comes back.
  auto missing = on_b.global_update_profile(
    "user-1", [](compat::global_updates& g) {
      CHECK(g.clear_active_update(999).ok());
    });
  CHECK(code_of(missing) == errc::not_found);
  must(owner.release());
}
