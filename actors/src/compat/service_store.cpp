// service_store: ViewProfileAsync and GlobalUpdateProfileAsync, and the
// module (ServiceLocked, the signals, GetProfileStore).
#include <exception>
#include <mutex>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>

#include "async_call.hpp"
#include "profilestore/actors/messages.hpp"
#include "profilestore/compat/profile_service.hpp"

namespace profilestore::compat {
namespace {

duration request_bound(const constants& c) {
  return c.store_request_timeout + std::chrono::seconds(1);
}

profile_view to_view(profile_copy& copy) {
  profile_view v;
  v.key = copy.key;
  v.data = std::move(copy.data);
  v.meta_data.profile_create_time = copy.meta.profile_create_time;
  v.meta_data.session_load_count = copy.meta.session_load_count;
  v.meta_data.active_session = copy.meta.active_session;
  v.meta_data.meta_tags = copy.meta_tags;
  v.meta_data.meta_tags_latest = std::move(copy.meta_tags); // as stored
  v.global_updates = global_updates::make_view(std::move(copy.messages));
  v.info = copy.info;
  return v;
}

// Runs the sender's handler; an exception is the call's error.
result<void> run_handler(const update_handler& handler, global_updates& g) {
  try {
    handler(g);
  } catch (const std::exception& e) {
    return make_error(errc::internal,
                      std::string("the global update handler threw: ")
                        + e.what());
  } catch (...) {
    return make_error(errc::internal, "the global update handler threw a "
                                      "non-standard exception");
  }
  return {};
}

} // namespace

void service_store::view_profile_async(
  const std::string& key, std::optional<std::uint64_t> version,
  done_fn<std::optional<profile_view>> done) const {
  auto c = node_->current_constants();
  detail::ask_async<std::optional<profile_copy>>(
    *sys_, node_->actor(), request_bound(c),
    [done = std::move(done)](result<std::optional<profile_copy>> r) {
      if (!r) {
        done(r.err());
        return;
      }
      if (!*r) {
        done(std::optional<profile_view>{});
        return;
      }
      done(std::optional<profile_view>(to_view(**r)));
    },
    get_atom::value, spec_, key, version);
}

void service_store::global_update_profile_async(
  const std::string& key, update_handler handler,
  done_fn<global_updates> done) const {
  if (!handler) {
    done(make_error(errc::invalid_argument, "an empty global update handler"));
    return;
  }
  auto c = node_->current_constants();
  auto* sys = sys_;
  auto node_actor = node_->actor();
  auto spec = spec_;
  detail::ask_async<std::optional<profile_copy>>(
    *sys_, node_actor, request_bound(c),
    [=](result<std::optional<profile_copy>> read) {
      if (!read) {
        done(read.err());
        return;
      }
      auto queue = *read ? (*read)->messages : std::vector<queued_update>{};
      auto sender = global_updates::make_sender(queue);
      auto ran = run_handler(handler, sender);
      sender.close_sender();
      if (!ran) {
        done(ran.err());
        return;
      }
      if (sender.edits().empty()) {
        done(global_updates::make_view(std::move(queue)));
        return;
      }
      edit_updates_request req;
      req.edits = sender.edits();
      detail::ask_async<edit_updates_reply>(
        *sys, node_actor, request_bound(c),
        [done](result<edit_updates_reply> written) {
          if (!written) {
            done(written.err());
            return;
          }
          done(global_updates::make_view(std::move(written->updates)));
        },
        global_update_atom::value, spec, key, std::move(req));
    },
    get_atom::value, spec_, key, std::optional<std::uint64_t>{});
}

result<std::optional<profile_view>>
service_store::view_profile(const std::string& key,
                            std::optional<std::uint64_t> version) const {
  return detail::wait_for<std::optional<profile_view>>(
    [&](detail::callback<std::optional<profile_view>> done) {
      view_profile_async(key, version, std::move(done));
    },
    request_bound(node_->current_constants()) * 2);
}

result<global_updates>
service_store::global_update_profile(const std::string& key,
                                     update_handler handler) const {
  return detail::wait_for<global_updates>(
    [&](detail::callback<global_updates> done) {
      global_update_profile_async(key, std::move(handler), std::move(done));
    },
    request_bound(node_->current_constants()) * 3);
}

// ---- the module -------------------------------------------------------------------

struct profile_service::signals {
  std::mutex mtx;
  std::vector<std::function<void(const std::string&)>> issue;
  std::vector<std::function<void(const std::string&, const std::string&)>>
    corruption;
  std::vector<std::function<void(bool)>> critical;

  template <class List, class... Ts>
  void fire(List& list, const Ts&... xs) {
    std::vector<typename List::value_type> copy;
    {
      std::lock_guard<std::mutex> guard(mtx);
      copy = list;
    }
    for (auto& f : copy)
      f(xs...);
  }
};

profile_service::profile_service(caf::actor_system& sys, node& n)
  : sys_(&sys), node_(&n), signals_(std::make_shared<signals>()) {
  // The node keeps these callbacks; they hold the signals, not the module.
  auto s = signals_;
  n.on_error([s](const error& e, const std::string& store,
                 const std::string& key) {
    s->fire(s->issue, e.to_string() + " (store " + store + ", key " + key
                        + ")");
  });
  n.on_overwrite([s](const std::string& store, const std::string& key) {
    s->fire(s->corruption, store, key);
  });
  n.on_critical_toggle([s](bool critical) { s->fire(s->critical, critical); });
}

void profile_service::issue_signal(
  std::function<void(const std::string&)> fn) {
  std::lock_guard<std::mutex> guard(signals_->mtx);
  signals_->issue.push_back(std::move(fn));
}

void profile_service::corruption_signal(
  std::function<void(const std::string&, const std::string&)> fn) {
  std::lock_guard<std::mutex> guard(signals_->mtx);
  signals_->corruption.push_back(std::move(fn));
}

void profile_service::critical_state_signal(std::function<void(bool)> fn) {
  std::lock_guard<std::mutex> guard(signals_->mtx);
  signals_->critical.push_back(std::move(fn));
}

result<service_store>
profile_service::get_profile_store(const std::string& name,
                                   const value& tmpl) {
  if (!tmpl.is_map())
    return make_error(errc::invalid_argument,
                      "get_profile_store: the template of " + name
                        + " must be a map");
  auto opened = node_->open(name, tmpl);
  if (!opened)
    return opened.err();
  return service_store(*sys_, *node_, opened->spec());
}

} // namespace profilestore::compat
