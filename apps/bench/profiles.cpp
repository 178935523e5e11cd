// Sample player profiles for the benchmarks (profiles.hpp).
#include "profiles.hpp"

#include <cstdlib>
#include <iostream>
#include <random>

namespace profilestore::bench {

sample_profile make_typed_profile(std::size_t bytes, std::uint32_t seed) {
  std::mt19937 rng(seed);
  sample_profile p;
  p.name = "player-" + std::to_string(seed);
  p.coins = 12345;
  p.level = 42;
  p.xp = 9876.5;
  p.settings = {{"music", "on"}, {"language", "en"}, {"camera", "third"}};
  for (int q = 0; q < 4; ++q)
    p.quests["quest-" + std::to_string(q)] = {q * 10, q % 2 == 0};
  for (int i = 0; encode_typed(p).size() < bytes; ++i) {
    sample_item item;
    item.id = "item-" + std::to_string(rng() % 100000);
    item.count = static_cast<std::int64_t>(rng() % 1000);
    item.durability = static_cast<double>(rng() % 1000) / 1000.0;
    item.equipped = i % 7 == 0;
    p.inventory.push_back(std::move(item));
  }
  return p;
}

value make_value_profile(std::size_t bytes, std::uint32_t seed) {
  auto v = to_value(make_typed_profile(bytes, seed));
  if (!v.ok()) {
    std::cerr << "error: sample profile: " << v.err().to_string() << "\n";
    std::exit(1);
  }
  return std::move(*v);
}

} // namespace profilestore::bench
