// Uses the installed headers and libraries: a session on a memory backend,
// a save, and a read back, first through the storage layer, then through the
// actor runtime. Exits 0 when the data came back both times.
#include <iostream>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <profilestore/actors/node.hpp>
#include <profilestore/codec.hpp>
#include <profilestore/store.hpp>

namespace {

int through_actors() {
  using namespace profilestore;
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto storage = spawn_store_actors(sys, std::make_shared<memory_backend>());
  int rc = 0;
  {
    node n(sys, storage, {"consumer"});
    auto players = n.open("players", value::object({{"coins", 0}}));
    auto p = players ? players->start_session("p2")
                     : result<profile<value>>(players.err());
    if (!p.ok())
      rc = 5;
    else if (!p->update([](value& v) { v["coins"] = 9; }).ok()
             || !p->end_session().ok())
      rc = 6;
    else {
      auto got = players->get("p2");
      if (!got.ok() || !*got || (*got)->data != value::object({{"coins", 9}}))
        rc = 7;
      else
        std::cout << "consumer's node read " << to_json((*got)->data) << "\n";
    }
    (void)n.shutdown();
  }
  storage.stop();
  return rc;
}

} // namespace

int main() {
  using namespace profilestore;
  memory_backend backend;
  storage store(backend);
  session_ref me{"consumer", 1, 1};
  start_session_op start{"players", "p1", {}, nullptr};
  start.request.requester = me;
  if (!store.apply(start, 1).ok())
    return 1;
  save_request save;
  save.session = me;
  save.data = encode_msgpack(value::object({{"coins", 7}}));
  if (!store.apply(save_op{"players", "p1", save}, 2).ok())
    return 2;
  auto got = store.get("players", "p1");
  if (!got.ok() || !*got)
    return 3;
  auto data = decode_msgpack((*got)->rec.data);
  if (!data.ok() || *data != value::object({{"coins", 7}}))
    return 4;
  std::cout << "consumer read " << to_json(*data) << "\n";
  return through_actors();
}
