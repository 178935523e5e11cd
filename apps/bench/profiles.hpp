// Sample player profiles for the benchmarks: deterministic, shaped like real
// game data (inventory, quests, settings), grown to a target encoded size.
// The same data exists as a typed struct and as a dynamic value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "profilestore/codec/typed.hpp"
#include "profilestore/codec/value.hpp"

namespace profilestore::bench {

struct sample_item {
  std::string id;
  std::int64_t count = 0;
  double durability = 1.0;
  bool equipped = false;
  MSGPACK_DEFINE_MAP(id, count, durability, equipped)
};

struct sample_quest {
  std::int64_t progress = 0;
  bool done = false;
  MSGPACK_DEFINE_MAP(progress, done)
};

struct sample_profile {
  std::string name;
  std::int64_t coins = 0;
  std::int64_t level = 1;
  double xp = 0;
  std::vector<sample_item> inventory;
  std::map<std::string, sample_quest> quests;
  std::map<std::string, std::string> settings;
  MSGPACK_DEFINE_MAP(name, coins, level, xp, inventory, quests, settings)
};

// A profile whose MessagePack encoding is at least `bytes` long (and within
// one item of it).
sample_profile make_typed_profile(std::size_t bytes, std::uint32_t seed = 1);
value make_value_profile(std::size_t bytes, std::uint32_t seed = 1);

} // namespace profilestore::bench
