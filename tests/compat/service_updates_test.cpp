// ProfileService's GlobalUpdates and MetaTagsLatest scenarios, ported from
// its own harness, on the shared runtime: the update lifecycle (active,
// changed, locked, cleared), calls in the wrong state, and updates and
// ProfileStore messages on one key.
#include <doctest/doctest.h>

#include <vector>

#include "service_harness.hpp"

using namespace profilestore;
using namespace profilestore::testing;
using namespace std::chrono_literals;

namespace {

struct seen_update {
  std::uint64_t id;
  value data;
};

using update_log = std::shared_ptr<std::vector<seen_update>>;

compat::update_listener recorder(update_log log) {
  return [log](compat::service_profile_view&, std::uint64_t id,
               const value& data) { log->push_back(seen_update{id, data}); };
}

std::vector<std::uint64_t> ids_of(const std::vector<compat::global_update>& us) {
  std::vector<std::uint64_t> out;
  for (const auto& u : us)
    out.push_back(u.id);
  return out;
}

} // namespace

TEST_CASE("global updates go from active to locked to cleared through listeners and saves") {
  service_runtime rt;
  auto players = rt.open();
  // Sent before the profile exists (GlobalUpdateProfileAsync works then).
  auto sent = rt.global_update(players, "user-1", [](compat::global_updates& g) {
    INNER_OK(g.add_active_update(value::object({{"gift", 100}})));
  });
  REQUIRE_OK(sent);
  REQUIRE(sent->get_active_updates().size() == 1);
  auto first_id = sent->get_active_updates()[0].id;

  auto actives = std::make_shared<std::vector<seen_update>>();
  auto locks = std::make_shared<std::vector<seen_update>>();
  compat::load_options o;
  // The original's recipe: lock every new active update; apply and clear
  // every new locked one.
  o.listeners.on_new_active_update.push_back(
    [actives](compat::service_profile_view& p, std::uint64_t id,
              const value& data) {
      actives->push_back(seen_update{id, data});
      INNER_OK(p.global_updates().lock_active_update(id));
    });
  o.listeners.on_new_locked_update.push_back(
    [locks](compat::service_profile_view& p, std::uint64_t id,
            const value& data) {
      locks->push_back(seen_update{id, data});
      auto& coins = p.data()["coins"];
      coins = *coins.to_int64() + *data.get("gift")->to_int64();
      INNER_OK(p.global_updates().clear_locked_update(id));
    });
  auto p = rt.load(players, "user-1", std::move(o));

  // Present at the load: found with get_active_updates, not by listeners.
  std::vector<std::uint64_t> at_load;
  REQUIRE_OK(rt.with(p, [&](compat::service_profile_view& v) {
    at_load = ids_of(v.global_updates().get_active_updates());
    INNER_OK(v.global_updates().lock_active_update(first_id));
    // Waiting for the save to lock it: no longer listed as active.
    CHECK(v.global_updates().get_active_updates().empty());
    CHECK(v.global_updates().get_locked_updates().empty());
  }));
  CHECK(at_load == std::vector<std::uint64_t>{first_id});
  CHECK(actives->empty());

  // A new update reaches the owner at once; its listener locks it.
  REQUIRE_OK(rt.global_update(players, "user-1", [](compat::global_updates& g) {
    INNER_OK(g.add_active_update(value::object({{"gift", 5}})));
  }));
  REQUIRE(actives->size() == 1);
  CHECK(*actives->at(0).data.get("gift") == value(5));
  CHECK(locks->empty()); // locked only by the next save

  // The save marks both locked; the locked listener applies and clears them.
  REQUIRE_OK(rt.save(p.handle()));
  rt.run();
  REQUIRE(locks->size() == 2);
  auto rec = rt.stored("players", "user-1");
  REQUIRE(rec);
  REQUIRE(rec->updates.size() == 2);
  CHECK(rec->updates[0].locked);
  CHECK(rec->updates[1].locked);

  // The next save deletes the cleared updates, with the coins they gave.
  REQUIRE_OK(rt.save(p.handle()));
  rec = rt.stored("players", "user-1");
  CHECK(rec->updates.empty());
  CHECK(stored_coins(*rec) == 105);
  REQUIRE_OK(rt.end(p.handle()));
}

TEST_CASE("senders change an active update with version plus one but can neither change nor clear a locked one") {
  service_runtime rt;
  auto players = rt.open();
  auto p = rt.load(players, "user-1");
  auto added = rt.global_update(players, "user-1", [](compat::global_updates& g) {
    INNER_OK(g.add_active_update(value("a")));
    INNER_OK(g.add_active_update(value("b")));
  });
  REQUIRE_OK(added);
  auto ids = ids_of(added->get_active_updates());
  REQUIRE(ids.size() == 2);

  auto changed = rt.global_update(players, "user-1", [&](compat::global_updates& g) {
    INNER_OK(g.change_active_update(ids[0], value("a2")));
  });
  REQUIRE_OK(changed);
  auto active = changed->get_active_updates();
  REQUIRE(active.size() == 2);
  CHECK(active[0].version == 2);
  CHECK(active[0].data == value("a2"));

  // A sender that read the queue before the owner's save locked update 1
  // (the save lands while its handler runs): storage refuses the whole
  // write, so the handler's other edit is not applied either.
  REQUIRE_OK(rt.with(p, [&](compat::service_profile_view& v) {
    INNER_OK(v.global_updates().lock_active_update(ids[0]));
  }));
  answer_slot<compat::global_updates> late;
  players.global_update_profile_async(
    "user-1",
    [&](compat::global_updates& g) {
      CHECK(g.get_locked_updates().empty()); // as read: still active
      rt.save_later(p.handle());             // the owner's save, queued first
      INNER_OK(g.clear_active_update(ids[1]));
      INNER_OK(g.clear_active_update(ids[0]));
    },
    late.fn());
  rt.run();
  REQUIRE(late.ready());
  REQUIRE_FALSE(late.get().ok());
  CHECK(late.get().err().code() == errc::invalid_argument);
  auto rec = rt.stored("players", "user-1");
  REQUIRE(rec->updates.size() == 2);
  CHECK(rec->updates[0].locked);

  // A sender that reads the queue now sees it locked: refused before
  // anything is written.
  auto refused = rt.global_update(players, "user-1", [&](compat::global_updates& g) {
    auto r = g.change_active_update(ids[0], value("a3"));
    CHECK_FALSE(r.ok());
    CHECK(r.err().code() == errc::invalid_argument);
    auto c = g.clear_active_update(ids[0]);
    CHECK_FALSE(c.ok());
    CHECK(ids_of(g.get_locked_updates()) == std::vector<std::uint64_t>{ids[0]});
  });
  REQUIRE_OK(refused);

  // Clearing an active update works.
  REQUIRE_OK(rt.global_update(players, "user-1", [&](compat::global_updates& g) {
    INNER_OK(g.clear_active_update(ids[1]));
  }));
  rec = rt.stored("players", "user-1");
  REQUIRE(rec->updates.size() == 1);
  CHECK(rec->updates[0].id == ids[0]);
  REQUIRE_OK(rt.end(p.handle()));
}

TEST_CASE("a changed active update is told to the new-active listeners again after the next save") {
  service_runtime rt;
  auto players = rt.open();
  auto log = std::make_shared<std::vector<seen_update>>();
  compat::load_options o;
  o.listeners.on_new_active_update.push_back(recorder(log));
  auto p = rt.load(players, "user-1", std::move(o));
  auto added = rt.global_update(players, "user-1", [](compat::global_updates& g) {
    INNER_OK(g.add_active_update(value(1)));
  });
  REQUIRE_OK(added);
  auto id = added->get_active_updates()[0].id;
  REQUIRE(log->size() == 1);
  REQUIRE_OK(rt.global_update(players, "user-1", [&](compat::global_updates& g) {
    INNER_OK(g.change_active_update(id, value(2)));
  }));
  REQUIRE_OK(rt.save(p.handle()));
  REQUIRE(log->size() == 2);
  CHECK(log->at(1).id == id);
  CHECK(log->at(1).data == value(2));
  REQUIRE_OK(rt.save(p.handle())); // nothing new: no third call
  CHECK(log->size() == 2);
  REQUIRE_OK(rt.end(p.handle()));
}

TEST_CASE("global update calls in the wrong place or state are clear errors") {
  service_runtime rt;
  auto players = rt.open();
  auto p = rt.load(players, "user-1");
  auto added = rt.global_update(players, "user-1", [](compat::global_updates& g) {
    INNER_OK(g.add_active_update(value(1)));
  });
  REQUIRE_OK(added);
  auto id = added->get_active_updates()[0].id;

  REQUIRE_OK(rt.with(p, [&](compat::service_profile_view& v) {
    auto g = v.global_updates();
    auto sender_call = g.add_active_update(value(2));
    CHECK(sender_call.err().code() == errc::not_supported);
    CHECK(g.lock_active_update(999).err().code() == errc::not_found);
    auto clear_active = g.clear_locked_update(id);
    CHECK(clear_active.err().code() == errc::invalid_argument);
    CHECK(clear_active.err().message().find("active") != std::string::npos);
    INNER_OK(g.lock_active_update(id));
    CHECK(g.lock_active_update(id).err().code() == errc::invalid_argument);
  }));
  REQUIRE_OK(rt.save(p.handle()));
  REQUIRE_OK(rt.with(p, [&](compat::service_profile_view& v) {
    auto g = v.global_updates();
    INNER_OK(g.clear_locked_update(id));
    CHECK(g.clear_locked_update(id).err().code() == errc::invalid_argument);
  }));

  // The view a sender gets back reads only; a kept sender object is closed.
  std::optional<compat::global_updates> kept;
  auto view = rt.global_update(players, "user-1", [&](compat::global_updates& g) {
    kept = g;
    CHECK(g.lock_active_update(id).err().code() == errc::not_supported);
  });
  REQUIRE_OK(view);
  CHECK(view->add_active_update(value(3)).err().code() == errc::not_supported);
  REQUIRE(kept);
  CHECK(kept->add_active_update(value(3)).err().code()
        == errc::invalid_argument);

  // After the release: every owner call is session_ended.
  REQUIRE_OK(rt.with(p, [&](compat::service_profile_view& v) {
    INNER_OK(v.release());
    CHECK_FALSE(v.is_active());
    CHECK(v.global_updates().clear_locked_update(id).err().code()
          == errc::session_ended);
    CHECK(v.set_meta_tag("x", value(1)).err().code() == errc::session_ended);
    CHECK(v.save().err().code() == errc::session_ended);
    CHECK(v.release().err().code() == errc::session_ended);
  }));
  rt.run();
}

TEST_CASE("MetaTagsLatest follows MetaTags only once a save confirmed them") {
  service_runtime rt;
  auto players = rt.open();
  auto p = rt.load(players, "user-1");
  REQUIRE_OK(rt.with(p, [](compat::service_profile_view& v) {
    INNER_OK(v.set_meta_tag("purchase", value("receipt-1")));
    CHECK(v.get_meta_tag("purchase") == value("receipt-1"));
    CHECK(v.get_meta_tag("absent").is_nil());
    auto meta = v.meta_data();
    CHECK(meta.meta_tags.get("purchase") != nullptr);
    CHECK(meta.meta_tags_latest.get("purchase") == nullptr);
    CHECK(meta.session_load_count == 1);
    REQUIRE(meta.active_session.has_value());
  }));
  // An auto-save confirms it (AUTO_SAVE_PERIOD, spread: within 300 s).
  rt.advance(301s);
  REQUIRE_OK(rt.with(p, [](compat::service_profile_view& v) {
    auto latest = v.meta_data().meta_tags_latest;
    REQUIRE(latest.get("purchase") != nullptr);
    CHECK(*latest.get("purchase") == value("receipt-1"));
    // A tag set now is not confirmed by the save already done.
    INNER_OK(v.set_meta_tag("purchase", value("receipt-2")));
    INNER_OK(v.save());
  }));
  rt.run();
  REQUIRE_OK(rt.with(p, [](compat::service_profile_view& v) {
    CHECK(*v.meta_data().meta_tags_latest.get("purchase") == value("receipt-2"));
  }));
  REQUIRE_OK(rt.end(p.handle()));
  auto seen = rt.view(players, "user-1");
  REQUIRE_OK(seen);
  REQUIRE(seen->has_value());
  CHECK(*(*seen)->meta_data.meta_tags.get("purchase") == value("receipt-2"));
  CHECK_FALSE((*seen)->meta_data.active_session.has_value());
}

TEST_CASE("ProfileStore messages and ProfileService updates on one key meet on both sides") {
  service_runtime rt;
  auto players = rt.open();
  auto value_store = rt.open_value("players", coins_template());
  // A ProfileStore message is an active update to a ProfileService owner.
  auto p = rt.load(players, "user-1");
  auto msg_id = rt.message(value_store, "user-1", value::object({{"gift", 3}}));
  REQUIRE_OK(msg_id);
  std::vector<std::uint64_t> active;
  REQUIRE_OK(rt.with(p, [&](compat::service_profile_view& v) {
    active = ids_of(v.global_updates().get_active_updates());
    v.data()["coins"] = 40;
  }));
  CHECK(active == std::vector<std::uint64_t>{*msg_id});
  REQUIRE_OK(rt.end(p.handle()));

  // A ProfileService update is a message to a ProfileStore session, which
  // reads the data ProfileService saved.
  REQUIRE_OK(rt.global_update(players, "user-1", [](compat::global_updates& g) {
    INNER_OK(g.add_active_update(value::object({{"gift", 2}})));
  }));
  auto handled = std::make_shared<std::vector<std::uint64_t>>();
  start_options o;
  o.hooks.message_handlers.push_back(
    [handled](profile_context& c, const incoming_message& m,
              const std::function<void()>& processed) {
      handled->push_back(m.id);
      add_coins(*m.data.get("gift")->to_int64())(c);
      processed();
    });
  auto h = rt.start(value_store, "user-1", std::move(o));
  REQUIRE_OK(h);
  rt.run();
  CHECK(handled->size() == 2);
  REQUIRE_OK(rt.end(*h));
  auto rec = rt.stored("players", "user-1");
  CHECK(stored_coins(*rec) == 45);
  CHECK(rec->updates.empty());
}
