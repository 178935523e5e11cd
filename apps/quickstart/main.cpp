// profilestore-quickstart: the single-node example the README shows in full.
// Opens a store of typed profiles in an embedded LMDB (a temporary folder
// unless --db DIR is given), starts a session, changes the data, ends the
// session, and reads the saved profile back.
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <msgpack.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "profilestore/actors/node.hpp"
#include "profilestore/codec/json.hpp"
#include "profilestore/store/lmdb_backend.hpp"

namespace ps = profilestore;

// A typed profile: fields missing from stored data keep these defaults.
struct player {
  std::int64_t coins = 0;
  std::vector<std::string> items;
  MSGPACK_DEFINE_MAP(coins, items)
};

int fail(const ps::error& e) {
  std::cerr << "error: " << e.to_string() << "\n";
  return 1;
}

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::string db = argc == 3 && std::string(argv[1]) == "--db"
                     ? argv[2]
                     : (fs::temp_directory_path() / "profilestore-quickstart").string();

  // 1. Storage: an LMDB environment and the store actor that owns it.
  auto lmdb = ps::lmdb_backend::open({db});
  if (!lmdb)
    return fail(lmdb.err());
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto storage = ps::spawn_store_actors(sys, std::move(*lmdb));

  // 2. A node (this process) and a store with its template.
  ps::node node(sys, storage, {"quickstart"});
  auto players = node.open<player>("Players", player{100, {"wooden sword"}});
  if (!players)
    return fail(players.err());

  // 3. A session: this node now owns the profile until it ends.
  auto profile = players->start_session("user_42");
  if (!profile)
    return fail(profile.err());
  auto changed = profile->update([](player& p) {
    p.coins += 50;
    p.items.push_back("iron shield");
  });
  if (!changed)
    return fail(changed.err());

  // 4. The final save: durable when end_session returns.
  if (auto ended = profile->end_session(); !ended)
    return fail(ended.err());

  // 5. Read the stored profile back (a copy; it never saves itself).
  auto copy = players->get("user_42");
  if (!copy || !*copy)
    return fail(copy ? ps::make_error(ps::errc::not_found, "user_42") : copy.err());
  std::cout << "user_42 = " << ps::to_json((*copy)->data) << " (session "
            << (*copy)->meta.session_load_count << ", version "
            << (*copy)->info.version << ", stored in " << db << ")\n";
  if (auto done = node.shutdown(); !done)
    return fail(done.err());
  storage.stop();
  return 0;
}
