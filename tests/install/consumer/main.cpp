// Uses the installed headers and libraries: a session on a memory backend,
// a save, and a read back. Exits 0 when the data came back.
#include <iostream>

#include <profilestore/codec.hpp>
#include <profilestore/store.hpp>

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
  return 0;
}
