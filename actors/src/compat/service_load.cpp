// load_profile: ProfileService's LoadProfileAsync with its not_released
// handler (profile_service.hpp), as a short-lived loader actor.
//
// With a handler function the loader first reads the key: while another
// node holds it, the handler decides before anything is written, so that
// repeat and cancel never ask the owner to release (a start_session would
// write ForceLoadSession and notify the owner at once). force_load and steal
// then start a session through the node like any start; the node's own rules
// (retries, SESSION_STEAL, START_SESSION_TIMEOUT) apply from there.
#include <chrono>
#include <exception>
#include <string>

#include <caf/event_based_actor.hpp>

#include "async_call.hpp"
#include "profilestore/actors/messages.hpp"
#include "profilestore/compat/profile_service.hpp"
#include "service_state.hpp"

namespace profilestore::compat {
namespace {

using load_retry_atom = caf::atom_constant<caf::atom("psc_retry")>;

struct load_job {
  caf::actor_system* sys = nullptr;
  caf::actor node_actor;
  std::string node_name;
  constants consts;
  store_spec_ptr spec;
  std::string key;
  load_options options;
  detail::callback<std::optional<service_profile>> done;
  caf::actor_clock::time_point first{};
  bool force = false; // the handler said force_load (or it is the default)
};

using job_ptr = std::shared_ptr<load_job>;

duration request_bound(const constants& c) {
  return c.store_request_timeout + std::chrono::seconds(1);
}

void finish(caf::event_based_actor* self, const job_ptr& job,
            result<std::optional<service_profile>> r) {
  if (job->done) {
    auto done = std::move(job->done);
    job->done = nullptr;
    done(std::move(r));
  }
  self->quit();
}

// Before the profile is handed out, the listeners' baseline is set inside
// its actor: updates queued by then are found with get_*_updates() (as in
// the original), later ones reach the listeners.
void seed_then_finish(caf::event_based_actor* self, const job_ptr& job,
                      std::shared_ptr<service_session_state> state,
                      profile_handle h) {
  context_fn seed = [state](profile_context& ctx) {
    if (!state->seeded)
      process_updates(ctx, state);
  };
  auto deliver = [self, job, state, h] {
    finish(self, job,
           std::optional<service_profile>(service_profile(
             *job->sys, h, state, request_bound(job->consts))));
  };
  // A session that ended meanwhile is still handed out (inactive), as the
  // original hands out a profile that is released at once.
  self->request(h.actor, request_bound(job->consts), update_atom::value,
                std::move(seed))
    .then([deliver]() { deliver(); }, [deliver](caf::error&) { deliver(); });
}

void start(caf::event_based_actor* self, const job_ptr& job, bool steal) {
  auto state = make_service_state(job->options.listeners);
  start_options o;
  o.steal = steal;
  o.hooks = make_service_hooks(state);
  auto bound = job->consts.start_session_timeout + request_bound(job->consts);
  self->request(job->node_actor, bound, start_atom::value, job->spec,
                job->key, std::move(o))
    .then(
      [self, job, state](profile_handle& h) {
        seed_then_finish(self, job, state, std::move(h));
      },
      [self, job](caf::error& err) {
        auto e = from_caf_error(err);
        // Superseded by a newer load (here or elsewhere): the original's nil.
        if (e.code() == errc::conflict) {
          finish(self, job, std::optional<service_profile>{});
          return;
        }
        finish(self, job, e);
      });
}

result<not_released_action> ask_handler(const load_job& job,
                                        const session_ref& owner) {
  try {
    auto a = job.options.not_released.fn(owner.node, owner.incarnation);
    switch (a) {
      case not_released_action::repeat:
      case not_released_action::cancel:
      case not_released_action::force_load:
      case not_released_action::steal:
        return a;
    }
    return make_error(errc::invalid_argument,
                      "the not_released handler returned an unknown action");
  } catch (const std::exception& e) {
    return make_error(errc::internal,
                      std::string("the not_released handler threw: ")
                        + e.what());
  } catch (...) {
    return make_error(errc::internal,
                      "the not_released handler threw a non-standard "
                      "exception");
  }
}

void decide(caf::event_based_actor* self, const job_ptr& job,
            const session_ref& owner) {
  auto action = ask_handler(*job, owner);
  if (!action) {
    finish(self, job, action.err());
    return;
  }
  switch (*action) {
    case not_released_action::cancel:
      finish(self, job, std::optional<service_profile>{});
      return;
    case not_released_action::steal:
      start(self, job, true);
      return;
    case not_released_action::force_load:
      job->force = true;
      start(self, job, false);
      return;
    case not_released_action::repeat:
      break;
  }
  if (self->clock().now() - job->first >= job->consts.start_session_timeout) {
    finish(self, job,
           make_error(errc::timeout,
                      "load_profile of " + job->key
                        + " gave up after START_SESSION_TIMEOUT: the "
                          "not_released handler kept answering repeat while "
                          "session "
                        + to_string(owner) + " holds the key"));
    return;
  }
  self->delayed_send(self, job->consts.load_repeat_period,
                     load_retry_atom::value);
}

// Reads the key; a foreign owner goes to the handler, anything else starts.
void step(caf::event_based_actor* self, const job_ptr& job) {
  if (job->force) {
    start(self, job, false);
    return;
  }
  self
    ->request(job->node_actor, request_bound(job->consts), get_atom::value,
              job->spec, job->key, std::optional<std::uint64_t>{})
    .then(
      [self, job](std::optional<profile_copy>& copy) {
        const auto* owner = copy && copy->meta.active_session
                              ? &*copy->meta.active_session
                              : nullptr;
        if (owner && owner->node != job->node_name)
          decide(self, job, *owner);
        else
          start(self, job, false);
      },
      [self, job](caf::error& err) { finish(self, job, from_caf_error(err)); });
}

caf::behavior loader(caf::event_based_actor* self, job_ptr job) {
  job->first = self->clock().now();
  step(self, job);
  return {
    [self, job](load_retry_atom) { step(self, job); },
  };
}

} // namespace

void service_store::load_profile_async(
  const std::string& key, load_options options,
  done_fn<std::optional<service_profile>> done) const {
  auto job = std::make_shared<load_job>();
  job->sys = sys_;
  job->node_actor = node_->actor();
  job->node_name = node_->name();
  job->consts = node_->current_constants();
  job->spec = spec_;
  job->key = key;
  job->force = options.not_released.is_force_load();
  job->options = std::move(options);
  job->done = std::move(done);
  if (node_->is_closing()) {
    job->done(make_error(errc::closing,
                         "the service is locked (the node is shutting down)"));
    return;
  }
  sys_->spawn(loader, std::move(job));
}

result<std::optional<service_profile>>
service_store::load_profile(const std::string& key,
                            load_options options) const {
  auto c = node_->current_constants();
  // Repeats may use up START_SESSION_TIMEOUT before the start itself may
  // use it again, plus a read and a start request.
  auto bound = c.start_session_timeout * 2 + request_bound(c) * 3;
  return detail::wait_for<std::optional<service_profile>>(
    [&](detail::callback<std::optional<service_profile>> done) {
      load_profile_async(key, std::move(options), std::move(done));
    },
    bound);
}

} // namespace profilestore::compat
