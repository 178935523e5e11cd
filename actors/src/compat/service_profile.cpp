// service_profile: ProfileService's Profile inside the profile actor (the
// view), the hooks that drive its listeners, and the handle for outside code.
#include "profilestore/compat/service_profile.hpp"

#include <exception>
#include <string>
#include <utility>

#include "profilestore/actors/errors.hpp"
#include "profilestore/actors/messages.hpp"
#include "profilestore/actors/node.hpp"
#include "profilestore/codec/msgpack.hpp"
#include "service_state.hpp"

namespace profilestore::compat {

// ---- the view ------------------------------------------------------------------

service_profile_view::service_profile_view(
  profile_context& ctx, std::shared_ptr<service_session_state> state)
  : ctx_(&ctx), state_(std::move(state)) {}

bool service_profile_view::is_active() const noexcept {
  return service_active(*ctx_, *state_);
}

value& service_profile_view::data() {
  // get_profile_store always opens its stores with a value template.
  return *ctx_->data_value();
}

service_meta_data service_profile_view::meta_data() const {
  const auto& m = ctx_->metadata();
  service_meta_data out;
  out.profile_create_time = m.profile_create_time;
  out.session_load_count = m.session_load_count;
  // The metadata is as of the last save; while active, this session owns it.
  out.active_session = is_active()
                         ? std::optional<session_ref>(ctx_->session())
                         : std::nullopt;
  out.meta_tags = ctx_->meta_tags();
  out.meta_tags_latest = state_->meta_tags_latest;
  return out;
}

value service_profile_view::get_meta_tag(std::string_view name) const {
  const auto* v = ctx_->meta_tags().get(name);
  return v ? *v : value{};
}

result<void> service_profile_view::set_meta_tag(const std::string& name,
                                                value v) {
  if (!is_active())
    return make_error(errc::session_ended, "set_meta_tag: the profile "
                                             + ctx_->key()
                                             + " has been released");
  if (name.empty())
    return make_error(errc::invalid_argument,
                      "set_meta_tag: the tag name is empty");
  auto& tags = ctx_->meta_tags();
  if (!tags.is_map())
    tags = value(value_map{});
  tags.if_map()->insert_or_assign(name, std::move(v));
  return {};
}

void service_profile_view::listen_to_release(release_listener listener) {
  if (listener)
    state_->listeners.on_release.push_back(std::move(listener));
}

result<void> service_profile_view::release() {
  if (!is_active())
    return make_error(errc::session_ended, "release: the profile "
                                             + ctx_->key()
                                             + " has already been released");
  state_->release_asked = true;
  ctx_->end_session();
  return {};
}

result<void> service_profile_view::save() {
  if (!is_active())
    return make_error(errc::session_ended, "save: the profile " + ctx_->key()
                                             + " has been released");
  ctx_->save();
  return {};
}

global_updates service_profile_view::global_updates() {
  return compat::global_updates(*ctx_, state_);
}

// ---- listeners -------------------------------------------------------------------

namespace {

// Runs every listener of a list even when one throws; the first exception
// is thrown again afterwards, so that the profile actor reports it (it
// guards every hook and handler) and the other listeners still ran.
template <class List, class... Ts>
void call_all(const List& listeners, Ts&... xs) {
  std::exception_ptr first;
  auto copy = listeners; // a listener may add listeners
  for (auto& l : copy) {
    try {
      l(xs...);
    } catch (...) {
      if (!first)
        first = std::current_exception();
    }
  }
  if (first)
    std::rethrow_exception(first);
}

value decoded(const queued_update& u) {
  auto v = decode_msgpack(u.data);
  return v ? std::move(*v) : value{};
}

void seed(profile_context& ctx, service_session_state& st) {
  st.seeded = true;
  for (const auto& u : ctx.stored_updates()) {
    if (u.locked)
      st.seen_locked.insert(u.id);
    else
      st.seen_active[u.id] = u.version;
  }
  st.meta_tags_latest = ctx.meta_tags(); // as loaded = as last saved
}

} // namespace

void process_updates(profile_context& ctx,
                     const std::shared_ptr<service_session_state>& state) {
  auto& st = *state;
  if (!st.seeded)
    seed(ctx, st);
  if (!service_active(ctx, st))
    return;
  // Copy: a listener may lock or clear, which changes nothing here, but the
  // queue may be replaced by a later save while listeners run no further.
  auto queue = ctx.stored_updates();
  service_profile_view view(ctx, state);
  for (const auto& u : queue) {
    if (!u.locked) {
      if (ctx.updates_to_lock().count(u.id) > 0)
        continue;
      auto seen = st.seen_active.find(u.id);
      if (seen != st.seen_active.end() && seen->second >= u.version)
        continue;
      st.seen_active[u.id] = u.version;
      auto data = decoded(u);
      auto id = u.id;
      call_all(st.listeners.on_new_active_update, view, id, data);
    } else if (st.seen_locked.insert(u.id).second) {
      if (ctx.updates_to_clear().count(u.id) > 0)
        continue;
      auto data = decoded(u);
      auto id = u.id;
      call_all(st.listeners.on_new_locked_update, view, id, data);
    }
  }
}

std::shared_ptr<service_session_state>
make_service_state(service_listeners listeners) {
  auto st = std::make_shared<service_session_state>();
  st->listeners = std::move(listeners);
  return st;
}

profile_hooks make_service_hooks(std::shared_ptr<service_session_state> state) {
  profile_hooks h;
  // A new active update arrives as a message: tell the listeners at once.
  // It is never marked processed: the owner locks and clears it instead.
  h.message_handlers.push_back(
    [state](profile_context& ctx, const incoming_message&,
            const std::function<void()>&) { process_updates(ctx, state); });
  h.on_save.push_back([state](profile_context& ctx) {
    if (!state->seeded)
      seed(ctx, *state);
    state->meta_tags_in_flight = ctx.meta_tags();
  });
  h.on_after_save.push_back([state](profile_context& ctx) {
    state->meta_tags_latest = state->meta_tags_in_flight;
    process_updates(ctx, state);
  });
  h.on_session_end.push_back([state](profile_context& ctx) {
    if (state->released)
      return;
    state->released = true;
    service_profile_view view(ctx, state);
    call_all(state->listeners.on_release, view);
  });
  return h;
}

// ---- the handle ------------------------------------------------------------------

service_profile::service_profile(caf::actor_system& sys, profile_handle handle,
                                 std::shared_ptr<service_session_state> state,
                                 duration timeout)
  : sys_(&sys), handle_(std::move(handle)), state_(std::move(state)),
    timeout_(timeout) {}

context_fn service_profile::in_profile(view_fn fn) const {
  return [state = state_, fn = std::move(fn)](profile_context& ctx) {
    if (!state->seeded)
      process_updates(ctx, state); // seeds; nothing is new yet
    service_profile_view view(ctx, state);
    fn(view);
  };
}

result<void> service_profile::with(view_fn fn) const {
  return detail::ask_unit(*sys_, handle_.actor, timeout_, update_atom::value,
                          in_profile(std::move(fn)));
}

result<value> service_profile::data() const {
  auto out = std::make_shared<value>();
  auto r = with([out](service_profile_view& p) { *out = p.data(); });
  if (!r)
    return r.err();
  return std::move(*out);
}

result<void> service_profile::release() const {
  return detail::ask_unit(*sys_, handle_.actor, timeout_, end_atom::value);
}

result<void> service_profile::save() const {
  return detail::ask_unit(*sys_, handle_.actor, timeout_, save_atom::value);
}

bool service_profile::is_active() const {
  auto s = detail::ask<profile_snapshot>(*sys_, handle_.actor, timeout_,
                                         info_atom::value);
  return s && s->active;
}

} // namespace profilestore::compat
