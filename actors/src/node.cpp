#include "profilestore/actors/node.hpp"

#include <chrono>
#include <unistd.h>

#include "node_actor.hpp"
#include "profilestore/store/names.hpp"
#include "shared_node_state.hpp"

namespace profilestore {

namespace {

std::uint64_t fresh_incarnation() {
  using namespace std::chrono;
  auto us = duration_cast<microseconds>(system_clock::now().time_since_epoch());
  return static_cast<std::uint64_t>(us.count()) ^ (static_cast<std::uint64_t>(::getpid()) << 48);
}

} // namespace

duration facade_request_timeout(const shared_node_state& shared) {
  // A little more than the runtime's own bound, so that its answer (even a
  // timeout error) arrives before the facade gives up.
  return shared.current_constants().store_request_timeout
         + std::chrono::seconds(1);
}

duration facade_transact_timeout(const shared_node_state& shared,
                                 std::size_t profiles) {
  // A little more than the node's own bound for this transact, so that its
  // answer (even a timeout error) arrives before the facade gives up, never
  // while the transaction may still commit.
  auto t = shared.current_constants().store_request_timeout;
  return transact_timeout(t, profiles) + std::chrono::seconds(1);
}

duration facade_start_timeout(const shared_node_state& shared) {
  auto c = shared.current_constants();
  return c.start_session_timeout + c.store_request_timeout
         + std::chrono::seconds(1);
}

node::node(caf::actor_system& sys, store_actors storage, node_config config)
  : sys_(&sys), name_(config.name),
    shared_(std::make_shared<shared_node_state>()), storage_(storage) {
  shared_->consts = config.consts;
  node_actor_args args;
  args.name = config.name;
  args.incarnation = config.incarnation != 0 ? config.incarnation
                                             : fresh_incarnation();
  args.live = std::move(storage);
  args.mock_options = std::move(config.mock_storage);
  args.shared = shared_;
  actor_ = spawn_node_actor(sys, std::move(args));
}

node::~node() {
  caf::anon_send_exit(actor_, caf::exit_reason::user_shutdown);
}

bool node::is_closing() const noexcept { return shared_->closing; }

bool node::is_critical_state() const noexcept { return shared_->critical; }

datastore_state node::state() const noexcept {
  return static_cast<datastore_state>(shared_->store_state.load());
}

void node::on_error(std::function<void(const error&, const std::string&,
                                       const std::string&)> fn) {
  std::lock_guard<std::mutex> guard(shared_->mutex);
  shared_->on_error.push_back(std::move(fn));
}

void node::on_overwrite(
  std::function<void(const std::string&, const std::string&)> fn) {
  std::lock_guard<std::mutex> guard(shared_->mutex);
  shared_->on_overwrite.push_back(std::move(fn));
}

void node::on_critical_toggle(std::function<void(bool)> fn) {
  std::lock_guard<std::mutex> guard(shared_->mutex);
  shared_->on_critical_toggle.push_back(std::move(fn));
}

result<void> node::set_constant(std::string_view name, double v) {
  std::lock_guard<std::mutex> guard(shared_->mutex);
  return shared_->consts.set(name, v);
}

constants node::current_constants() const {
  return shared_->current_constants();
}

result<store_spec_ptr>
node::make_spec(const std::string& name,
                std::shared_ptr<const std::string> tmpl,
                std::shared_ptr<const data_factory> factory) {
  if (auto ok = check_store_name(name); !ok)
    return ok.err();
  auto kind = decode_msgpack(*tmpl);
  if (!kind || !(kind->is_map() || kind->is_array()))
    return make_error(errc::invalid_argument,
                      "the template of store " + name
                        + " must encode as a map or an array");
  auto spec = std::make_shared<store_spec>();
  spec->name = name;
  spec->template_bytes = std::move(tmpl);
  spec->factory = std::move(factory);
  return store_spec_ptr(std::move(spec));
}

result<store<value>> node::open(const std::string& name, const value& tmpl) {
  auto spec = make_spec(name,
                        std::make_shared<const std::string>(encode_msgpack(tmpl)),
                        std::make_shared<value_data_factory>(tmpl));
  if (!spec)
    return spec.err();
  return store<value>(*sys_, actor_, std::move(*spec), shared_);
}

result<void> node::transact(std::vector<profile_handle> profiles,
                            transact_fn fn) {
  auto timeout = facade_transact_timeout(*shared_, profiles.size());
  return detail::ask_unit(*sys_, actor_, timeout, transact_atom::value,
                          std::move(profiles), std::move(fn));
}

result<void> node::shutdown(duration timeout) {
  return detail::ask_unit(*sys_, actor_, timeout + std::chrono::seconds(1),
                          shutdown_atom::value, timeout);
}

result<std::optional<profile_copy>> version_cursor::next() {
  while (true) {
    if (at_ < page_.size()) {
      auto version = page_[at_++].version;
      auto copy = detail::ask<std::optional<profile_copy>>(
        *sys_, node_, timeout_, get_atom::value, spec_, key_,
        std::optional<std::uint64_t>(version));
      if (!copy)
        return copy.err();
      if (*copy)
        return copy;
      continue; // pruned or a tombstone meanwhile: skip it
    }
    if (done_)
      return std::optional<profile_copy>{};
    auto page = detail::ask<version_page>(*sys_, node_, timeout_,
                                          versions_atom::value, spec_, key_,
                                          query_);
    if (!page)
      return page.err();
    page_ = std::move(page->versions);
    at_ = 0;
    if (page->next_after)
      query_.after_version = page->next_after;
    else
      done_ = true;
    if (page_.empty() && done_)
      return std::optional<profile_copy>{};
  }
}

} // namespace profilestore
