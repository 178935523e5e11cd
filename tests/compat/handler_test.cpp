// ProfileHandler's scenarios (paths, reconcile, update_profile, the cache,
// destroy and delete, the session lock) through the compat layer's blocking
// facade, on a threaded actor system over LMDB in a temporary folder. No
// timing is involved: every wait is for an answer, bounded by the facade.
#include <doctest/doctest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <memory>
#include <stdexcept>

#include "profilestore/compat/profile_handler.hpp"
#include "profilestore/compat/profile_service.hpp"
#include "profilestore/store/lmdb_backend.hpp"
#include "temp_dir.hpp"

using namespace profilestore;

namespace {

template <class T>
std::string describe(const result<T>& r) {
  return r.ok() ? std::string("ok") : r.err().to_string();
}

#define H_REQUIRE_OK(expr)                                                     \
  do {                                                                         \
    auto&& r_ = (expr);                                                        \
    REQUIRE_MESSAGE(r_.ok(), describe(r_));                                    \
  } while (false)

struct live_env {
  testing::temp_dir dir{"compat-handler"};
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  store_actors storage;

  live_env() {
    lmdb_options lo;
    lo.path = dir.path();
    lo.initial_map_size = std::size_t{4} << 20;
    auto b = lmdb_backend::open(lo);
    REQUIRE_MESSAGE(b.ok(), describe(b));
    sys = std::make_unique<caf::actor_system>(cfg);
    storage = spawn_store_actors(*sys, std::shared_ptr<backend>(std::move(*b)));
  }
  live_env(const live_env&) = delete;
  live_env& operator=(const live_env&) = delete;
  ~live_env() {
    caf::anon_send_exit(storage.writer, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(storage.reader, caf::exit_reason::user_shutdown);
    storage = store_actors{};
    sys.reset();
  }

  node_config config(std::string name) const {
    node_config c;
    c.name = std::move(name);
    c.incarnation = 1;
    return c;
  }
};

value player_template() {
  return value::object({{"level", 1},
                        {"stats", value::object({{"hp", 10}, {"mp", 3}})},
                        {"inventory", value(value_map{})}});
}

} // namespace

TEST_CASE("get_data and set_data take dot paths that walk into nested maps") {
  live_env env;
  node n(*env.sys, env.storage, env.config("handler-1"));
  compat::profile_handler handler(n);
  auto p = handler.new_profile("player_data", "42", true, player_template());
  H_REQUIRE_OK(p);
  CHECK((*p)->is_data_loaded());

  H_REQUIRE_OK((*p)->set_data("stats.hp", 20));
  H_REQUIRE_OK((*p)->set_data("stats.skills.fire", 3)); // creates "skills"
  H_REQUIRE_OK((*p)->set_data("inventory.sword", true));
  auto hp = (*p)->get_data("stats.hp");
  H_REQUIRE_OK(hp);
  CHECK(*hp == value(20));
  auto fire = (*p)->get_data("stats.skills.fire");
  H_REQUIRE_OK(fire);
  CHECK(*fire == value(3));
  auto all = (*p)->get_data();
  H_REQUIRE_OK(all);
  CHECK(*all->find("level") == value(1));

  auto missing = (*p)->get_data("stats.nothing.here");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.err().code() == errc::not_found);
  auto into_number = (*p)->set_data("level.x", 1);
  CHECK_FALSE(into_number.ok());
  auto whole = (*p)->set_data("", value(5));
  CHECK(whole.err().code() == errc::invalid_argument);
  CHECK(*(*p)->get_data("level") == value(1)); // nothing changed

  // The final save; the stored record is what ProfileStore's API reads.
  H_REQUIRE_OK((*p)->save(true));
  CHECK((*p)->is_destroyed());
  CHECK_FALSE((*p)->is_data_loaded());
  auto players = n.open("player_data", value(value_map{}));
  H_REQUIRE_OK(players);
  auto copy = players->get("42");
  H_REQUIRE_OK(copy);
  REQUIRE(copy->has_value());
  CHECK(*(*copy)->data.find("stats.skills.fire") == value(3));
  CHECK(*(*copy)->data.find("stats.hp") == value(20));
  H_REQUIRE_OK(n.shutdown());
}

TEST_CASE("reconcile fills missing keys at every depth and never changes existing values") {
  live_env env;
  node n(*env.sys, env.storage, env.config("handler-1"));
  // A profile saved earlier, through ProfileStore's API, with an older shape.
  {
    auto old_store = n.open("player_data", value(value_map{}));
    H_REQUIRE_OK(old_store);
    auto s = old_store->start_session("42");
    H_REQUIRE_OK(s);
    H_REQUIRE_OK(s->with_context([](profile_context& c) {
      *c.data_value() = value::object({{"stats", value::object({{"hp", 5}})}});
    }));
    H_REQUIRE_OK(s->end_session());
  }
  compat::profile_handler handler(n);
  auto p = handler.new_profile("player_data", "42", true, player_template());
  H_REQUIRE_OK(p);
  CHECK_FALSE((*p)->get_data("level").ok()); // not there before reconcile
  H_REQUIRE_OK((*p)->reconcile(player_template()));
  CHECK(*(*p)->get_data("stats.hp") == value(5)); // kept
  CHECK(*(*p)->get_data("stats.mp") == value(3)); // filled, one level down
  CHECK(*(*p)->get_data("level") == value(1));
  CHECK((*p)->get_data("inventory")->is_map());
  CHECK((*p)->reconcile(value(1)).err().code() == errc::invalid_argument);
  H_REQUIRE_OK((*p)->destroy());
  H_REQUIRE_OK(n.shutdown());
}

TEST_CASE("update_profile transforms a profile not loaded here and returns the new value") {
  live_env env;
  node n(*env.sys, env.storage, env.config("handler-1"));
  compat::profile_handler handler(n);
  auto updated = handler.update_profile("player_data", "7", [](value& d) {
    d["coins"] = 5;
  });
  H_REQUIRE_OK(updated);
  CHECK(*updated->find("coins") == value(5));
  CHECK(handler.get_profile("player_data", "7") == nullptr); // not cached

  auto again = handler.update_profile("player_data", "7", [](value& d) {
    d["coins"] = *d["coins"].to_int64() + 1;
  });
  H_REQUIRE_OK(again);
  CHECK(*again->find("coins") == value(6));

  // A transform that throws changes nothing and says so.
  auto thrown = handler.update_profile("player_data", "7", [](value& d) {
    d["coins"] = 1000;
    throw std::runtime_error("no");
  });
  REQUIRE_FALSE(thrown.ok());
  CHECK(thrown.err().message().find("no") != std::string::npos);
  auto data = handler.get_profile_data("player_data", "7");
  H_REQUIRE_OK(data);
  REQUIRE(data->has_value());
  CHECK(*(*data)->find("coins") == value(6));
  auto absent = handler.get_profile_data("player_data", "nobody");
  H_REQUIRE_OK(absent);
  CHECK_FALSE(absent->has_value());
  H_REQUIRE_OK(n.shutdown());
}

TEST_CASE("update_profile on a cached profile changes it inside its session") {
  live_env env;
  node n(*env.sys, env.storage, env.config("handler-1"));
  compat::profile_handler handler(n);
  auto p = handler.new_profile("player_data", "42", true, player_template());
  H_REQUIRE_OK(p);
  auto updated = handler.update_profile("player_data", "42", [](value& d) {
    d["level"] = 9;
  });
  H_REQUIRE_OK(updated);
  CHECK(*updated->find("level") == value(9));
  CHECK(*(*p)->get_data("level") == value(9));
  auto live = handler.get_profile_data("player_data", "42");
  H_REQUIRE_OK(live);
  CHECK(*(*live)->find("level") == value(9));
  H_REQUIRE_OK((*p)->destroy());
  H_REQUIRE_OK(n.shutdown());
}

TEST_CASE("the cache holds a profile until it is destroyed and remove deletes it from storage") {
  live_env env;
  node n(*env.sys, env.storage, env.config("handler-1"));
  compat::profile_handler handler(n);
  auto p = handler.new_profile("player_data", "42", true, player_template());
  H_REQUIRE_OK(p);
  CHECK(handler.get_profile("player_data", "42") == *p);
  auto twice = handler.new_profile("player_data", "42", true, player_template());
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.err().code() == errc::session_active);

  H_REQUIRE_OK((*p)->destroy());
  CHECK((*p)->is_destroyed());
  CHECK(handler.get_profile("player_data", "42") == nullptr);
  CHECK((*p)->set_data("level", 2).err().code() == errc::session_ended);
  H_REQUIRE_OK((*p)->destroy()); // harmless twice

  auto q = handler.new_profile("player_data", "42", true, player_template());
  H_REQUIRE_OK(q);
  auto removed = (*q)->remove();
  H_REQUIRE_OK(removed);
  CHECK(*removed);
  auto data = handler.get_profile_data("player_data", "42");
  H_REQUIRE_OK(data);
  CHECK_FALSE(data->has_value());
  H_REQUIRE_OK(n.shutdown());
}

TEST_CASE("a profile that outlives its handler can still be saved and destroyed") {
  live_env env;
  node n(*env.sys, env.storage, env.config("handler-1"));
  std::shared_ptr<compat::handler_profile> p;
  {
    compat::profile_handler handler(n);
    auto loaded = handler.new_profile("player_data", "42", true,
                                      player_template());
    H_REQUIRE_OK(loaded);
    p = *loaded;
  }
  H_REQUIRE_OK(p->set_data("level", 3));
  H_REQUIRE_OK(p->save(true));
  CHECK(p->is_destroyed());
  compat::profile_handler later(n);
  auto data = later.get_profile_data("player_data", "42");
  H_REQUIRE_OK(data);
  REQUIRE(data->has_value());
  CHECK(*(*data)->find("level") == value(3));
  H_REQUIRE_OK(n.shutdown());
}

TEST_CASE("respect_session_lock true waits for the owner's last save and false takes the lock at once") {
  live_env env;
  node a(*env.sys, env.storage, env.config("handler-a"));
  node b(*env.sys, env.storage, env.config("handler-b"));
  auto players_a = a.open("player_data", player_template());
  H_REQUIRE_OK(players_a);
  auto owner = players_a->start_session("42");
  H_REQUIRE_OK(owner);
  H_REQUIRE_OK(owner->with_context([](profile_context& c) {
    (*c.data_value())["level"] = 4; // unsaved: handed over by the last save
  }));

  compat::profile_handler handler_b(b);
  auto p = handler_b.new_profile("player_data", "42", true, player_template());
  H_REQUIRE_OK(p);
  CHECK(*(*p)->get_data("level") == value(4));
  CHECK_FALSE(owner->is_active());

  // Node a takes it back without respecting the lock: b's saves are refused.
  compat::profile_handler handler_a(a);
  auto stolen = handler_a.new_profile("player_data", "42", false,
                                      player_template());
  H_REQUIRE_OK(stolen);
  H_REQUIRE_OK((*p)->set_data("level", 100));
  auto refused = (*p)->save(false);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().code() == errc::not_owner);
  CHECK(*(*stolen)->get_data("level") == value(4));
  H_REQUIRE_OK((*stolen)->save(true));
  H_REQUIRE_OK(a.shutdown());
  H_REQUIRE_OK(b.shutdown());
}

TEST_CASE("the blocking ProfileService calls load update send view and release on a threaded system") {
  live_env env;
  node n(*env.sys, env.storage, env.config("service-1"));
  compat::profile_service service(*env.sys, n);
  auto players = service.get_profile_store("players",
                                           value::object({{"coins", 0}}));
  H_REQUIRE_OK(players);
  auto sent = players->global_update_profile("user-1", [](compat::global_updates& g) {
    auto r = g.add_active_update(value::object({{"gift", 4}}));
    CHECK(r.ok());
  });
  H_REQUIRE_OK(sent);
  REQUIRE(sent->get_active_updates().size() == 1);
  auto id = sent->get_active_updates()[0].id;

  auto loaded = players->load_profile("user-1");
  H_REQUIRE_OK(loaded);
  REQUIRE(loaded->has_value());
  auto& p = **loaded;
  CHECK(p.is_active());
  H_REQUIRE_OK(p.with([id](compat::service_profile_view& v) {
    auto active = v.global_updates().get_active_updates();
    REQUIRE(active.size() == 1);
    v.data()["coins"] = *active[0].data.get("gift")->to_int64();
    auto locked = v.global_updates().lock_active_update(id);
    CHECK(locked.ok());
  }));
  H_REQUIRE_OK(p.save());
  H_REQUIRE_OK(p.with([id](compat::service_profile_view& v) {
    auto cleared = v.global_updates().clear_locked_update(id);
    CHECK(cleared.ok());
  }));
  H_REQUIRE_OK(p.release());
  CHECK_FALSE(p.is_active());

  auto seen = players->view_profile("user-1");
  H_REQUIRE_OK(seen);
  REQUIRE(seen->has_value());
  CHECK(*(*seen)->data.get("coins") == value(4));
  CHECK((*seen)->global_updates.get_active_updates().empty());
  CHECK((*seen)->global_updates.get_locked_updates().empty());
  CHECK_FALSE((*seen)->meta_data.active_session.has_value());
  H_REQUIRE_OK(n.shutdown());
  CHECK(service.service_locked());
}
