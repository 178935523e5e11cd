#include "invariants.hpp"

#include "profilestore/codec/msgpack.hpp"
#include "profilestore/store/lmdb_backend.hpp"
#include "profilestore/store/storage.hpp"

namespace profilestore::demo {

namespace {

// The items a queued gift message carries ({"path": "items", "delta": N}).
std::int64_t gift_items(const queued_update& u) {
  auto v = decode_msgpack(u.data);
  if (!v)
    return 0;
  auto* delta = v->get("delta");
  auto n = delta ? delta->to_int64() : result<std::int64_t>(std::int64_t{0});
  return n ? *n : 0;
}

} // namespace

check_result check_storage(const std::string& db,
                           const std::vector<player>& players,
                           const sim_stats& stats) {
  check_result out;
  lmdb_options lo;
  lo.path = db;
  lo.read_only = true;
  auto env = lmdb_backend::open(lo);
  if (!env) {
    out.all_load = false;
    out.problems.push_back("cannot open the storage: " + env.err().message());
    return out;
  }
  storage st(**env);
  for (const auto& p : players) {
    auto got = st.get("players", p.key);
    if (!got) {
      out.all_load = false;
      out.problems.push_back(p.key + " does not load: " + got.err().message());
      continue;
    }
    std::int64_t items = 0, queued = 0;
    if (*got) {
      const auto& rec = (*got)->rec;
      if ((*got)->overwritten) {
        out.all_load = false;
        out.problems.push_back(p.key + ": its stored record is corrupt");
      }
      if (rec.has_profile) {
        out.profiles++;
        auto data = decode_msgpack(rec.data);
        auto* v = data ? data->get("items") : nullptr;
        auto n = v ? v->to_int64() : result<std::int64_t>(std::int64_t{0});
        if (!data || !v || !n) {
          out.all_load = false;
          out.problems.push_back(p.key + ": Data does not decode to items");
        } else {
          items = *n;
        }
      }
      for (const auto& u : rec.updates)
        queued += gift_items(u);
    }
    out.items_total += items;
    out.queued_gifts += queued;
    if (!p.uncertain) {
      out.checked_players++;
      if (items + queued != p.expected) {
        out.acknowledged_durable = false;
        out.problems.push_back(p.key + ": stored " + std::to_string(items)
                               + " items + " + std::to_string(queued)
                               + " in queued gifts, acknowledged operations "
                                 "promised "
                               + std::to_string(p.expected));
      }
    }
  }
  out.expected_total
    = static_cast<std::int64_t>(out.profiles) * starting_items + stats.gift_items;
  auto found = out.items_total + out.queued_gifts;
  if (found < out.expected_total
      || found > out.expected_total + stats.uncertain_gift_items) {
    out.conserved = false;
    out.problems.push_back(
      "items: " + std::to_string(found) + " found, "
      + std::to_string(out.expected_total) + " expected (+ up to "
      + std::to_string(stats.uncertain_gift_items) + " in unconfirmed gifts)");
  }
  return out;
}

} // namespace profilestore::demo
