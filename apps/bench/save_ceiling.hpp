// The ceiling of save-throughput: the rate at which this machine runs the
// scenario's actors and messages with the typed encode of each save, and
// no storage at all.
//
// The same drivers (save_driver.hpp) as the measured run drive one stand-in
// actor per profile, on the same scheduler (bench_config). A stand-in keeps
// the bench's typed profile and, like a profile actor beside its storage,
// encodes it into a fresh string on each save and asks a detached writer
// actor, which answers the saves it has received in groups, about one a
// millisecond (save_ceiling.cpp says why): no check of the bytes, no
// record, no LMDB, no commit. The update adds 1 to coins directly (the
// driver's context function needs a real profile to run on); its message is
// the same. What the stand-ins leave out is everything profilestore adds to
// CAF and msgpack-c, so the measured rate can only approach this one; its
// ratio to the raw puts is the most the target's ratio can be with an actor
// per profile on this machine's cores.
#pragma once

#include <chrono>
#include <cstddef>

#include "bench.hpp"
#include "profiles.hpp"

namespace profilestore::bench {

struct ceiling_run {
  std::size_t profiles = 0;
  std::size_t drivers = 0;
  bool update = true;
  std::chrono::milliseconds warmup{1000};
  double seconds = 5;
};

// Saves answered per second by the stand-ins over `run.seconds`, after
// `run.warmup`. Dies (bench.hpp) on a driver error or a stand-in that does
// not finish within bounded waits.
double ceiling_saves_rate(const options& opts, const sample_profile& tmpl,
                          const ceiling_run& run);

} // namespace profilestore::bench
