// The profile actor's save state machine.
//
//  active --save()/auto-save--> saving --reply--> active
//  active --end_session/shutdown/force load--> ending: on_last_save, then the
//         final save (release, or handoff to the requester); on success the
//         session ends (on_session_end) and the actor quits.
//  any save refused with not_owner: the lock was lost (stolen, overwritten by
//         set, expired): on_session_end without on_last_save, quit, and no
//         further write is possible (fencing in storage).
//  a save refused for the request itself (data over the limit, ...): the
//         session and the in-memory data stay; the error goes to the caller
//         and to the node's on_error signal; a refused final save turns the
//         profile active again.
//  a storage failure (commit failed, disk full, timeout): reported (critical
//         state counting), retried with backoff 1, 2, 4, 8, 16, 20 s; a final
//         save is retried until it succeeds or the node stops.
//  lent to a transaction: other messages wait in the mailbox and save
//         replies are deferred until the transaction returns the profile.
// At most one save is in flight; requests meanwhile coalesce into the next.
#include "profile_actor.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/skip.hpp>
#include <caf/stateful_actor.hpp>

#include "internal_messages.hpp"
#include "profilestore/actors/errors.hpp"
#include "profilestore/actors/profile_context.hpp"
#include "profilestore/codec/msgpack.hpp"

namespace profilestore {

duration first_auto_save_delay(std::uint64_t spread_index, duration period) {
  constexpr double golden = 0.61803398874989484820;
  double x = static_cast<double>(spread_index + 1) * golden;
  double frac = x - std::floor(x);
  auto ms = static_cast<duration::rep>(frac * static_cast<double>(period.count()));
  return duration(std::max<duration::rep>(ms, 1));
}

namespace {

bool is_request_error(errc code) {
  switch (code) {
    case errc::invalid_argument:
    case errc::invalid_store_name:
    case errc::invalid_key:
    case errc::data_too_large:
    case errc::metadata_too_large:
    case errc::too_many_user_ids:
    case errc::message_too_large:
    case errc::record_too_large:
    case errc::malformed_input:
    case errc::limit_exceeded:
    case errc::type_mismatch:
    case errc::unsupported_format:
      return true;
    default:
      return false;
  }
}

struct pending_message {
  incoming_message msg;
  std::size_t offered_to = 0; // handlers[0, offered_to) have seen it
};

} // namespace

class profile_state : public profile_context {
public:
  caf::stateful_actor<profile_state>* self = nullptr;
  caf::actor node;
  caf::actor writer;
  std::shared_ptr<shared_node_state> shared;
  profile_hooks hooks;

  // Messages: offered but not processed, processed but not yet saved, and
  // processed ids carried by the save in flight.
  std::map<std::uint64_t, pending_message> inbox;
  std::set<std::uint64_t> processed;
  std::vector<std::uint64_t> in_flight_processed;

  bool saving = false;
  bool save_again = false;
  std::vector<caf::response_promise> waiting_current; // the save in flight
  std::vector<caf::response_promise> waiting_next;    // the next save

  bool ending = false;
  last_save_reason end_reason = last_save_reason::manual;
  std::optional<session_ref> handoff_to;
  std::vector<caf::response_promise> waiting_end;

  std::uint64_t timer_generation = 0;
  std::uint64_t retry_generation = 0;
  unsigned failures = 0;

  bool lent = false;
  std::vector<std::function<void()>> deferred;
  bool told_node_ended = false;

  static inline const char* name = "profilestore.profile";

  void init(profile_actor_args& a) {
    spec_ = std::move(a.spec);
    key_ = std::move(a.key);
    session_ = a.session;
    data_ = std::move(a.data);
    last_saved_bytes_ = std::make_shared<const std::string>(a.rec.data);
    meta_ = a.rec.meta;
    info_ = a.info;
    user_ids_ = a.rec.user_ids;
    key_metadata_ = decode_or_empty_map(a.rec.key_metadata);
    meta_tags_ = decode_or_empty_map(a.rec.meta.meta_tags);
    hooks = std::move(a.hooks);
    node = std::move(a.node);
    writer = std::move(a.writer);
    shared = std::move(a.shared);
    stored_updates_ = a.rec.updates;
    merge_updates(a.rec.updates);
  }

  static value decode_or_empty_map(const std::string& bytes) {
    auto v = decode_msgpack(bytes);
    if (v && v->is_map())
      return std::move(*v);
    return value(value_map{});
  }

  constants consts() const { return shared->current_constants(); }

  void report(const error& err) {
    self->send(node, report_atom::value, spec_->name, key_, err);
  }

  // Runs a user callback; an exception is reported, never fatal.
  template <class F>
  void guarded(const char* what, F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      report(make_error(errc::internal, std::string(what)
                                          + " threw: " + e.what()));
    } catch (...) {
      report(make_error(errc::internal,
                        std::string(what) + " threw a non-standard exception"));
    }
  }

  // ---- messages ------------------------------------------------------------

  void merge_updates(const std::vector<queued_update>& updates) {
    for (const auto& u : updates) {
      if (u.locked || inbox.count(u.id) > 0 || processed.count(u.id) > 0
          || std::find(in_flight_processed.begin(), in_flight_processed.end(),
                       u.id)
               != in_flight_processed.end())
        continue;
      auto decoded = decode_msgpack(u.data);
      if (!decoded) {
        report(make_error(errc::corrupt_record,
                          "message " + std::to_string(u.id)
                            + " does not decode: " + decoded.err().message()));
        continue;
      }
      pending_message p;
      p.msg.id = u.id;
      p.msg.data = std::move(*decoded);
      inbox.emplace(u.id, std::move(p));
    }
  }

  // Offers every unprocessed message to every handler that has not seen it.
  void deliver_messages() {
    if (!active_ || lent)
      return;
    bool any_processed = false;
    for (auto i = inbox.begin(); i != inbox.end();) {
      bool done = false;
      auto& p = i->second;
      while (!done && p.offered_to < hooks.message_handlers.size()) {
        auto& handler = hooks.message_handlers[p.offered_to++];
        std::function<void()> mark = [&done] { done = true; };
        guarded("a message handler", [&] { handler(*this, p.msg, mark); });
      }
      if (done) {
        processed.insert(i->first);
        i = inbox.erase(i);
        any_processed = true;
      } else {
        ++i;
      }
    }
    if (any_processed)
      start_save(); // the removal goes out with the handler's changes
    after_callbacks();
  }

  // save() / end_session() asked from inside a callback.
  void after_callbacks() {
    if (end_asked_) {
      end_asked_ = false;
      save_asked_ = false;
      begin_end(last_save_reason::manual, std::nullopt);
    } else if (save_asked_) {
      save_asked_ = false;
      start_save();
    }
  }

  // ---- saving ----------------------------------------------------------------

  save_request build_request() {
    save_request req;
    req.session = session_;
    data_->encode(req.data);
    req.meta_tags.clear(); // encode_msgpack appends
    encode_msgpack(meta_tags_, req.meta_tags);
    req.user_ids = user_ids_;
    req.key_metadata.clear();
    encode_msgpack(key_metadata_, req.key_metadata);
    req.processed_update_ids.assign(processed.begin(), processed.end());
    for (auto id : clear_asked_)
      if (processed.count(id) == 0)
        req.processed_update_ids.push_back(id);
    req.lock_update_ids.assign(lock_asked_.begin(), lock_asked_.end());
    return req;
  }

  void start_save() {
    if (lent) {
      save_again = true; // runs when the transaction returns the profile
      return;
    }
    if (saving) {
      save_again = true;
      return;
    }
    saving = true;
    save_again = false;
    retry_generation++;
    for (auto& hook : hooks.on_save)
      guarded("on_save", [&] { hook(*this); });
    save_asked_ = false; // a hook asking for a save is this save
    auto req = build_request();
    if (ending) {
      req.final = handoff_to ? final_action::handoff : final_action::release;
      req.handoff_to = handoff_to;
    }
    in_flight_processed = req.processed_update_ids;
    waiting_current = std::move(waiting_next);
    waiting_next.clear();
    auto bytes = std::make_shared<const std::string>(req.data);
    bool final = ending;
    save_op op{spec_->name, key_, std::move(req)};
    self->request(writer, consts().store_request_timeout, std::move(op))
      .then(
        [this, bytes, final](applied_op& applied) {
          if (lent) {
            deferred.emplace_back([this, bytes, final, applied]() mutable {
              on_saved(bytes, final, applied);
            });
            return;
          }
          on_saved(bytes, final, applied);
        },
        [this, final](caf::error& err) {
          auto e = from_caf_error(err);
          if (lent) {
            deferred.emplace_back([this, e, final] { on_save_failed(e, final); });
            return;
          }
          on_save_failed(e, final);
        });
  }

  // Bookkeeping of a committed save (own or a transaction's).
  void record_saved(std::shared_ptr<const std::string> bytes,
                    const save_reply& reply,
                    const std::optional<key_info>& written,
                    const std::vector<std::uint64_t>& sent_processed) {
    last_saved_bytes_ = std::move(bytes);
    meta_.session_load_count = reply.session_load_count;
    if (written)
      info_ = *written;
    for (auto id : sent_processed)
      processed.erase(id);
    failures = 0;
    merge_updates(reply.updates);
    note_stored_updates(reply.updates);
  }

  // The queue after a save: lock and clear requests it carried out are done.
  void note_stored_updates(const std::vector<queued_update>& updates) {
    stored_updates_ = updates;
    auto find = [&](std::uint64_t id) -> const queued_update* {
      for (const auto& u : stored_updates_)
        if (u.id == id)
          return &u;
      return nullptr;
    };
    for (auto i = lock_asked_.begin(); i != lock_asked_.end();) {
      auto* u = find(*i);
      i = (!u || u->locked) ? lock_asked_.erase(i) : std::next(i);
    }
    for (auto i = clear_asked_.begin(); i != clear_asked_.end();)
      i = find(*i) ? std::next(i) : clear_asked_.erase(i);
  }

  // A sender's new or changed update, told at once by storage.
  void note_sent_update(const queued_update& update) {
    for (auto& u : stored_updates_)
      if (u.id == update.id) {
        if (update.version >= u.version && !u.locked)
          u = update;
        return;
      }
    stored_updates_.push_back(update);
  }

  void on_saved(const std::shared_ptr<const std::string>& bytes, bool final,
                applied_op& applied) {
    saving = false;
    const auto& reply = std::get<save_reply>(applied.reply);
    record_saved(bytes, reply, applied.written, in_flight_processed);
    in_flight_processed.clear();
    for (auto& hook : hooks.on_after_save)
      guarded("on_after_save", [&] { hook(*this); });
    for (auto& rp : waiting_current)
      rp.deliver(caf::unit);
    waiting_current.clear();
    if (final) {
      finish(true);
      return;
    }
    if (reply.force_load && !reply.force_load->same_process(session_)) {
      begin_end(last_save_reason::external, reply.force_load);
      return;
    }
    deliver_messages();
    if (save_again || !waiting_next.empty())
      start_save();
  }

  void on_save_failed(const error& e, bool final) {
    saving = false;
    in_flight_processed.clear();
    if (e.code() == errc::not_owner) {
      lose_session(e);
      return;
    }
    report(e);
    for (auto& rp : waiting_current)
      rp.deliver(to_caf_error(e));
    waiting_current.clear();
    if (is_request_error(e.code())) {
      if (final) {
        // The session stays: the caller can fix the data and end again.
        ending = false;
        active_ = true;
        handoff_to.reset();
        for (auto& rp : waiting_end)
          rp.deliver(to_caf_error(e));
        waiting_end.clear();
      }
      if (!waiting_next.empty())
        start_save();
      return;
    }
    // Storage trouble: retry with backoff; nothing acknowledged is lost and
    // the in-memory data stays the newest.
    static constexpr int backoff_s[] = {1, 2, 4, 8, 16, 20};
    auto step = std::min<unsigned>(failures, 5);
    failures++;
    self->delayed_send(self, std::chrono::seconds(backoff_s[step]),
                       retry_atom::value, ++retry_generation);
  }

  // ---- the end ---------------------------------------------------------------

  void begin_end(last_save_reason reason, std::optional<session_ref> to) {
    if (to)
      handoff_to = std::move(to);
    if (ending)
      return;
    ending = true;
    active_ = false;
    end_reason = reason;
    for (auto& hook : hooks.on_last_save)
      guarded("on_last_save", [&] { hook(*this, reason); });
    start_save();
  }

  // The session is over: after the final save (saved = true) or when lost.
  void finish(bool saved) {
    active_ = false;
    tell_node_ended();
    for (auto& hook : hooks.on_session_end)
      guarded("on_session_end", [&] { hook(*this); });
    auto ended = saved ? caf::error{}
                       : to_caf_error(errc::session_ended,
                                      "the session of " + key_
                                        + " ended: another session owns it");
    for (auto& rp : waiting_end) {
      if (saved)
        rp.deliver(caf::unit);
      else
        rp.deliver(ended);
    }
    waiting_end.clear();
    for (auto& rp : waiting_next)
      rp.deliver(to_caf_error(errc::session_ended,
                              "the session of " + key_ + " has ended"));
    waiting_next.clear();
    self->quit();
  }

  // The node forgets the session before anyone hears that it ended: a
  // caller that starts the key again right after end_session() (or a save
  // refused with not_owner) returns must not find it still registered; its
  // start reaches the node's mailbox after this message.
  void tell_node_ended() {
    if (told_node_ended)
      return;
    told_node_ended = true;
    self->send(node, ended_atom::value, spec_->mock, spec_->name, key_,
               session_.id);
  }

  void lose_session(const error& e) {
    active_ = false;
    tell_node_ended();
    report(make_error(errc::session_ended,
                      "session of " + key_ + " lost: " + e.message()));
    for (auto& rp : waiting_current)
      rp.deliver(to_caf_error(e));
    waiting_current.clear();
    finish(false);
  }

  // ---- auto-save ---------------------------------------------------------------

  void schedule_auto_save(duration delay) {
    self->delayed_send(self, delay, tick_atom::value, ++timer_generation);
  }
};

value profile_context::last_saved_data() const {
  auto v = decode_msgpack(*last_saved_bytes_);
  return v ? std::move(*v) : value{};
}

void profile_context::add_user_id(std::int64_t id) {
  if (std::find(user_ids_.begin(), user_ids_.end(), id) == user_ids_.end())
    user_ids_.push_back(id);
}

void profile_context::remove_user_id(std::int64_t id) {
  user_ids_.erase(std::remove(user_ids_.begin(), user_ids_.end(), id),
                  user_ids_.end());
}

void profile_context::reconcile() {
  if (spec_->template_bytes)
    data_->reconcile(*spec_->template_bytes);
}

std::string_view to_string(last_save_reason r) noexcept {
  switch (r) {
    case last_save_reason::manual:
      return "manual";
    case last_save_reason::external:
      return "external";
    case last_save_reason::shutdown:
      return "shutdown";
  }
  return "unknown";
}

std::string_view to_string(datastore_state s) noexcept {
  switch (s) {
    case datastore_state::not_ready:
      return "not_ready";
    case datastore_state::no_access:
      return "no_access";
    case datastore_state::access:
      return "access";
  }
  return "unknown";
}

save_op prepare_group_save(profile_context& ctx) {
  auto& st = static_cast<profile_state&>(ctx);
  return save_op{st.store().name, st.key(), st.build_request()};
}

namespace {

using profile_actor = caf::stateful_actor<profile_state>;

caf::error session_over(const profile_state& st) {
  return to_caf_error(errc::session_ended,
                      "the session of " + st.key() + " is no longer active");
}

void return_from_transaction(profile_actor* self, return_outcome& outcome,
                             const std::vector<std::uint64_t>& sent) {
  auto& st = self->state;
  st.lent = false;
  self->unbecome();
  self->set_default_handler(caf::print_and_drop);
  // Replies that arrived while lent answer saves sent before the lending,
  // which the writer applied before the group save: handle them first, so
  // that LastSavedData and the key info end as the group save left them.
  auto deferred = std::move(st.deferred);
  st.deferred.clear();
  for (auto& f : deferred)
    f();
  if (outcome.saved) {
    st.record_saved(std::make_shared<const std::string>(
                      std::move(outcome.saved_data)),
                    outcome.reply, outcome.written, sent);
    for (auto& hook : st.hooks.on_after_save)
      st.guarded("on_after_save", [&] { hook(st); });
  }
  st.deliver_messages();
  if (st.save_again && !st.saving)
    st.start_save();
}

caf::behavior profile_behavior(profile_actor* self,
                               std::shared_ptr<profile_actor_args> args) {
  {
    auto& init = self->state;
    init.self = self;
    init.init(*args);
    auto delay = first_auto_save_delay(args->spread_index,
                                       init.consts().auto_save_period);
    args.reset();
    init.schedule_auto_save(delay);
  }
  // Messages that were queued when the session started.
  self->send(self, notify_atom::value);
  return {
    [self](tick_atom, std::uint64_t generation) {
      auto& st = self->state;
      if (generation != st.timer_generation || st.ending)
        return;
      st.start_save();
      st.schedule_auto_save(st.consts().auto_save_period);
    },
    [self](retry_atom, std::uint64_t generation) {
      auto& st = self->state;
      if (generation == st.retry_generation && !st.saving)
        st.start_save();
    },
    [self](notify_atom) { self->state.deliver_messages(); },
    [self](notify_atom, const queued_update& update) {
      auto& st = self->state;
      st.note_sent_update(update);
      st.merge_updates({update});
      st.deliver_messages();
    },
    [self](update_atom, const context_fn& fn) -> caf::result<caf::unit_t> {
      auto& st = self->state;
      if (!st.is_active())
        return session_over(st);
      st.guarded("an update function", [&] { fn(st); });
      st.after_callbacks();
      return caf::unit;
    },
    [self](hooks_atom, profile_hooks& more) -> caf::result<caf::unit_t> {
      auto& st = self->state;
      auto append = [](auto& to, auto& from) {
        for (auto& f : from)
          to.push_back(std::move(f));
      };
      append(st.hooks.on_save, more.on_save);
      append(st.hooks.on_last_save, more.on_last_save);
      append(st.hooks.on_session_end, more.on_session_end);
      append(st.hooks.on_after_save, more.on_after_save);
      append(st.hooks.message_handlers, more.message_handlers);
      st.deliver_messages(); // new handlers see unprocessed messages
      return caf::unit;
    },
    [self](save_atom) -> caf::result<caf::unit_t> {
      auto& st = self->state;
      if (!st.is_active())
        return session_over(st);
      auto rp = self->make_response_promise();
      st.waiting_next.push_back(rp);
      st.start_save();
      return rp;
    },
    [self](end_atom) -> caf::result<caf::unit_t> {
      auto& st = self->state;
      if (!st.is_active() && !st.ending)
        return session_over(st);
      auto rp = self->make_response_promise();
      st.waiting_end.push_back(rp);
      st.begin_end(last_save_reason::manual, std::nullopt);
      return rp;
    },
    [self](shutdown_atom) {
      self->state.begin_end(last_save_reason::shutdown, std::nullopt);
    },
    [self](release_atom, const session_ref& requester) {
      self->state.begin_end(last_save_reason::external, requester);
    },
    // The node could not renew its lease: another node may take the lock
    // any moment, so this session stops saving and ends (as when lost).
    [self](lease_lost_atom) {
      auto& st = self->state;
      if (!st.told_node_ended)
        st.lose_session(make_error(errc::unreachable,
                                   "the node could not renew its lease with "
                                   "storage in time"));
    },
    [self](info_atom) {
      auto& st = self->state;
      profile_snapshot snap;
      snap.data = st.data().to_value();
      snap.last_saved_data = st.last_saved_data();
      snap.meta = st.metadata();
      snap.user_ids = st.user_ids();
      snap.key_metadata = st.key_metadata();
      snap.info = st.info();
      snap.active = st.is_active();
      return snap;
    },
    [self](lend_atom) -> caf::result<lent_profile> {
      auto& st = self->state;
      if (!st.is_active())
        return session_over(st);
      st.lent = true;
      auto sent = std::make_shared<std::vector<std::uint64_t>>(
        st.processed.begin(), st.processed.end());
      self->set_default_handler(caf::skip);
      self->become(caf::keep_behavior,
                   [self, sent](return_atom, return_outcome& outcome) {
                     return_from_transaction(self, outcome, *sent);
                   });
      return lent_profile{&st};
    },
  };
}

} // namespace

caf::actor spawn_profile_actor(caf::actor_system& sys,
                               std::shared_ptr<profile_actor_args> args) {
  return sys.spawn(profile_behavior, std::move(args));
}

} // namespace profilestore
