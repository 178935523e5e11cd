#include "cluster_runner.hpp"

#include <signal.h>

#include <caf/io/middleman.hpp>

namespace profilestore::demo {

using node_app::child_process;

cluster_runner::cluster_runner(caf::actor_system& sys, cluster_options options)
  : sys_(&sys), options_(std::move(options)) {
  for (std::size_t i = 0; i < options_.game_nodes; ++i)
    games_.push_back(game{"game-" + std::to_string(i + 1), nullptr, {}});
}

cluster_runner::~cluster_runner() = default; // children are killed and reaped

result<void> cluster_runner::start() {
  storage_ = std::make_unique<child_process>(std::vector<std::string>{
    options_.node_binary, "--role", "storage", "--name", "storage-1", "--db",
    options_.db});
  auto port = node_app::read_ready_port(*storage_, "the storage node");
  if (!port)
    return port.err();
  storage_address_ = "127.0.0.1:" + std::to_string(*port);
  for (std::size_t i = 0; i < games_.size(); ++i)
    PROFILESTORE_TRY(start_game(i));
  return {};
}

result<void> cluster_runner::start_game(std::size_t i) {
  auto& g = games_[i];
  std::vector<std::string> args{options_.node_binary, "--role", "game",
                                "--name", g.name, "--storage",
                                storage_address_};
  args.insert(args.end(), options_.game_flags.begin(),
              options_.game_flags.end());
  g.process = std::make_unique<child_process>(args);
  auto port = node_app::read_ready_port(*g.process, g.name);
  if (!port) {
    g.process.reset();
    return port.err();
  }
  auto a = sys_->middleman().remote_actor("127.0.0.1", *port);
  if (!a) {
    g.process.reset();
    return make_error(errc::unreachable,
                      g.name + "'s agent: " + sys_->render(a.error()));
  }
  g.agent = *a;
  return {};
}

void cluster_runner::kill_game(std::size_t i) {
  auto& g = games_[i];
  if (!g.process)
    return;
  g.process->signal(SIGKILL);
  (void) g.process->wait(std::chrono::seconds(10));
  g.process.reset();
  g.agent = nullptr;
}

result<void> cluster_runner::restart_game(std::size_t i) {
  return start_game(i);
}

bool cluster_runner::stop_all() {
  bool clean = true;
  for (auto& g : games_)
    if (g.process)
      g.process->signal(SIGTERM);
  for (auto& g : games_) {
    if (!g.process)
      continue;
    auto status = g.process->wait(std::chrono::seconds(60));
    clean = clean && status && *status == 0;
    g.process.reset();
  }
  if (storage_) {
    storage_->signal(SIGTERM);
    auto status = storage_->wait(std::chrono::seconds(60));
    clean = clean && status && *status == 0;
    storage_.reset();
  }
  return clean;
}

} // namespace profilestore::demo
