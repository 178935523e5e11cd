// random_ops.hpp: seeded random storage operations on a few keys and
// sessions, and summaries of results and of what is stored, for tests that
// apply the same operations two ways and require the same outcome
// (record_cache_test.cpp: with and without the record cache;
// message_batch_test.cpp: in batches and one batch each).
#pragma once

#include <cstdlib>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "store_harness.hpp"

namespace profilestore::testing {

inline const session_ref alpha = session_of("alpha", 1);
inline const session_ref beta = session_of("beta", 2);

inline save_request coins_save(const session_ref& who, int coins,
                               final_action final = final_action::none) {
  save_request req;
  req.session = who;
  req.data = bytes_of(value::object({{"coins", coins}}));
  req.final = final;
  return req;
}

inline start_session_op start_of(store_harness& h, const std::string& key,
                                 const session_ref& who, bool steal) {
  start_session_op op{test_store, key, {}, h.template_data()};
  op.request.requester = who;
  op.request.steal = steal;
  return op;
}

// The session that owns `key` in `h`, if any.
inline std::optional<session_ref> owner_of(store_harness& h,
                                           const std::string& key) {
  auto r = h.store().get(test_store, key);
  if (!r.ok() || !r->has_value())
    return std::nullopt;
  return (*r)->rec.meta.active_session;
}

// One random operation on a few keys and sessions. Most saves come from the
// key's owner in `h`, so that most of them are applied.
inline operation random_op(std::mt19937& rng, store_harness& h) {
  static const std::vector<session_ref> sessions{
    alpha, beta, session_of("alpha", 3), session_of("gamma", 4, 2)};
  static const std::vector<std::string> keys{"k0", "k1", "k2", "k3"};
  auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  const auto& key = keys[pick(keys.size())];
  const auto& who = sessions[pick(sessions.size())];
  int coins = static_cast<int>(pick(1000));
  switch (pick(20)) {
    case 0:
    case 1:
    case 2:
    case 3:
      return start_of(h, key, who, pick(3) == 0);
    case 4: {
      message_op m{test_store, key, message_request{bytes_of(coins), 6}};
      return m;
    }
    case 5: {
      message_op m{test_store, key, message_request{bytes_of(coins), 6}};
      return m;
    }
    case 6: {
      set_request s;
      s.data = bytes_of(value::object({{"coins", coins}}));
      s.user_ids = {static_cast<std::int64_t>(pick(5))};
      return set_op{test_store, key, std::move(s)};
    }
    case 7:
      return remove_op{test_store, key};
    case 8: {
      edit_updates_request e;
      e.edits.push_back(update_edit{update_edit_kind::add, 0, bytes_of(coins)});
      return edit_updates_op{test_store, key, std::move(e)};
    }
    case 9: {
      save_group_op g{test_store, {}};
      const auto& other = keys[(pick(keys.size() - 1) + 1
                                + static_cast<std::size_t>(&key - &keys[0]))
                               % keys.size()];
      g.saves.push_back({test_store, key, coins_save(who, coins)});
      g.saves.push_back({test_store, other, coins_save(who, coins + 1)});
      return g;
    }
    default: {
      final_action fin = final_action::none;
      auto f = pick(10);
      if (f == 0)
        fin = final_action::release;
      else if (f == 1)
        fin = final_action::handoff;
      auto owner = owner_of(h, key);
      save_request req
        = coins_save(owner && pick(4) != 0 ? *owner : who, coins, fin);
      if (fin == final_action::handoff)
        req.handoff_to = sessions[pick(sessions.size())];
      req.user_ids = {static_cast<std::int64_t>(pick(5))};
      for (std::uint64_t id = 1; id <= 8; ++id)
        if (pick(4) == 0)
          req.processed_update_ids.push_back(id);
      if (pick(6) == 0)
        req.lock_update_ids.push_back(pick(8) + 1);
      return save_op{test_store, key, std::move(req)};
    }
  }
}

// What a result says, for comparing two runs. Without `message_sizes`, a
// message's written version leaves out its size: messages a batch holds
// back are written together, so each reports the size of the record with
// all of them.
inline std::string summary(const result<applied_op>& r,
                           bool message_sizes = true) {
  std::ostringstream out;
  if (!r) {
    out << "error " << to_string(r.err().code());
    return out.str();
  }
  out << "ok reply#" << r->reply.index();
  if (r->written) {
    out << " v" << r->written->version << " t" << r->written->updated_time;
    if (message_sizes || !std::holds_alternative<message_reply>(r->reply))
      out << " size " << r->written->size;
  }
  for (const auto& w : r->group_written)
    out << " g" << w.version;
  if (const auto* s = std::get_if<save_reply>(&r->reply))
    out << " updates " << s->updates.size() << " handed "
        << s->handed_off;
  if (const auto* s = std::get_if<start_session_reply>(&r->reply))
    out << " outcome " << static_cast<int>(s->outcome);
  if (const auto* m = std::get_if<message_reply>(&r->reply))
    out << " id " << m->id << " owned " << m->owner.has_value()
        << " overwritten " << m->overwritten;
  return out.str();
}

// Everything stored under the test keys: each key's versions and latest
// record bytes.
inline std::string stored_state(store_harness& h) {
  std::ostringstream out;
  for (const char* key : {"k0", "k1", "k2", "k3"}) {
    out << key << ":";
    version_query q;
    q.limit = 100000;
    auto page = h.store().list_versions(test_store, key, q);
    REQUIRE(page.ok());
    for (const auto& v : page->versions)
      out << " " << v.version << (v.deleted ? "d" : "") << "@"
          << v.updated_time;
    auto latest = h.store().get(test_store, key);
    REQUIRE(latest.ok());
    if (latest->has_value())
      out << " bytes " << encode_record((*latest)->rec).size() << ":"
          << std::hash<std::string>{}(encode_record((*latest)->rec));
    out << "\n";
  }
  return out.str();
}

// The seed of a seeded test: PROFILESTORE_TEST_SEED, or `fixed`.
inline unsigned test_seed(unsigned fixed) {
  const char* chosen = std::getenv("PROFILESTORE_TEST_SEED");
  return chosen ? static_cast<unsigned>(std::strtoul(chosen, nullptr, 10))
                : fixed;
}

} // namespace profilestore::testing
