// Crash safety: a child process commits batches in a loop and reports each
// acknowledged batch through a pipe; the parent kills it with SIGKILL at a
// random point, reopens the environment and checks that every acknowledged
// write is there. Twenty rounds on one environment; the seed is logged.
#include "store_harness.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>

using namespace profilestore;
using namespace profilestore::testing;

namespace {

constexpr int keys_per_batch = 8;

std::string key_for(std::uint64_t batch, int i) {
  return "b" + std::to_string(batch) + "-" + std::to_string(i);
}

std::unique_ptr<lmdb_backend> open_env(const std::string& path) {
  lmdb_options lo;
  lo.path = path;
  lo.initial_map_size = std::size_t{1} << 20; // growth happens under fire too
  auto b = lmdb_backend::open(lo);
  if (!b.ok())
    return nullptr;
  return std::move(*b);
}

// The child: commits batch after batch, forever, starting at `first`; writes
// each batch number to `fd` only after its commit returned.
[[noreturn]] void run_writer(const std::string& path, std::uint64_t first,
                             int fd) {
  auto env = open_env(path);
  if (!env)
    _exit(2);
  storage s(*env);
  for (std::uint64_t batch = first;; ++batch) {
    std::vector<operation> ops;
    for (int i = 0; i < keys_per_batch; ++i) {
      set_request req;
      req.data = encode_msgpack(value::object(
        {{"batch", static_cast<std::int64_t>(batch)},
         {"pad", std::string(200 + 50 * i, 'x')}}));
      ops.push_back(set_op{"crash", key_for(batch, i), std::move(req)});
    }
    set_request latest;
    latest.data = encode_msgpack(
      value::object({{"batch", static_cast<std::int64_t>(batch)}}));
    ops.push_back(set_op{"crash", "latest", std::move(latest)});
    auto results = s.apply_batch(ops, static_cast<std::int64_t>(batch));
    for (auto& r : results)
      if (!r.ok())
        _exit(3);
    if (::write(fd, &batch, sizeof batch) != sizeof batch)
      _exit(4);
  }
}

// Reads acknowledgements until `want` arrived or the child died; returns the
// highest one (0 if none). Every wait is bounded.
std::uint64_t read_acks(int fd, std::size_t want, std::uint64_t highest) {
  std::size_t got = 0;
  while (want == 0 || got < want) {
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, 20'000);
    REQUIRE_MESSAGE(ready >= 0, std::strerror(errno));
    if (ready == 0) {
      REQUIRE_MESSAGE(want == 0, "the writer stopped acknowledging");
      break;
    }
    std::uint64_t batch = 0;
    auto n = ::read(fd, &batch, sizeof batch);
    if (n <= 0)
      break; // writer gone and pipe drained
    REQUIRE(n == sizeof batch);
    highest = std::max(highest, batch);
    ++got;
  }
  return highest;
}

void check_acknowledged(const std::string& path, std::uint64_t highest) {
  auto env = open_env(path);
  REQUIRE(env);
  storage s(*env);
  for (std::uint64_t batch = 1; batch <= highest; ++batch)
    for (int i = 0; i < keys_per_batch; ++i) {
      auto got = s.get("crash", key_for(batch, i));
      REQUIRE_MESSAGE(got.ok(), got.err().to_string());
      REQUIRE_MESSAGE(got->has_value(),
                      "acknowledged batch " << batch << " lost key " << i);
      auto v = value_of((*got)->rec.data);
      CHECK(*v.get("batch")->to_int64() == static_cast<std::int64_t>(batch));
    }
  auto latest = s.get("crash", "latest");
  REQUIRE(latest.ok());
  if (highest > 0) {
    REQUIRE(latest->has_value());
    CHECK(*value_of((*latest)->rec.data).get("batch")->to_int64()
          >= static_cast<std::int64_t>(highest));
  }
}

// The first batch the next writer should write: one past the newest present.
std::uint64_t next_batch(const std::string& path) {
  auto env = open_env(path);
  REQUIRE(env);
  storage s(*env);
  auto latest = s.get("crash", "latest");
  REQUIRE(latest.ok());
  if (!latest->has_value())
    return 1;
  return static_cast<std::uint64_t>(
           *value_of((*latest)->rec.data).get("batch")->to_int64())
         + 1;
}

} // namespace

TEST_CASE("every acknowledged batch survives SIGKILL of the writer at random "
          "points") {
  temp_dir dir("crash");
  // PROFILESTORE_TEST_SEED=<n> replays a logged run.
  const char* fixed = std::getenv("PROFILESTORE_TEST_SEED");
  auto seed = fixed ? static_cast<unsigned>(std::strtoul(fixed, nullptr, 10))
                    : std::random_device{}();
  MESSAGE("crash safety seed: " << seed);
  std::mt19937 rng(seed);
  std::uint64_t highest = 0;
  for (int round = 0; round < 20; ++round) {
    std::uint64_t first = next_batch(dir.path());
    CHECK(first > highest); // nothing acknowledged went missing
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::close(fds[0]);
      run_writer(dir.path(), first, fds[1]);
    }
    ::close(fds[1]);
    std::size_t acks_before_kill
      = std::uniform_int_distribution<std::size_t>(1, 40)(rng);
    highest = read_acks(fds[0], acks_before_kill, highest);
    // Kill mid-flight: often during a commit, sometimes between two.
    ::usleep(std::uniform_int_distribution<useconds_t>(0, 1500)(rng));
    ::kill(child, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status));
    highest = read_acks(fds[0], 0, highest); // acks already in the pipe
    ::close(fds[0]);
    check_acknowledged(dir.path(), highest);
  }
  CHECK(highest >= 20);
}
