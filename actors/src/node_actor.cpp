#include "node_actor.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include "auto_save_schedule.hpp"
#include "internal_messages.hpp"
#include "profile_actor.hpp"
#include "profilestore/actors/errors.hpp"
#include "profilestore/codec/msgpack.hpp"
#include "profilestore/store/memory_backend.hpp"
#include "profilestore/store/names.hpp"
#include "profilestore/store/record_codec.hpp"

namespace profilestore {

namespace {

using clock_point = caf::actor_clock::time_point;

// Registry key: live and mock stores never mix.
std::string registry_key(bool mock, const std::string& store,
                         const std::string& key) {
  std::string out;
  out.reserve(store.size() + key.size() + 2);
  out.push_back(mock ? 'm' : 'l');
  out += store;
  out.push_back('\0');
  out += key;
  return out;
}

struct start_attempt {
  std::uint64_t id = 0;
  store_spec_ptr spec;
  std::string key;
  start_options options;
  caf::response_promise rp;
  clock_point first_time;
  bool first = true;
  bool steal_now = false;
  bool in_flight = false; // an attempt awaits the writer's answer
  // Scheduled retries carry the generation they were scheduled in; an
  // attempt made early (storage said "try now") makes them stale.
  std::uint64_t retry_generation = 0;
  bool try_now_pending = false; // "try now" arrived while in flight
  bool early = false;           // this attempt was made on "try now"
  // The key's previous session on this node is still ending: the first
  // attempt waits for its end (ended_atom), at most START_SESSION_TIMEOUT.
  bool waiting_for_end = false;
  std::uint64_t attempt = 0; // node-wide number of the attempt last sent
  unsigned conflicts = 0;
  unsigned failures = 0;
};

// One active session. Its session_ref is this node's name and incarnation
// with `session_id` (kept alone: one entry per active profile).
struct active_entry {
  caf::actor actor;
  std::uint64_t session_id = 0;
  std::uint32_t auto_save_slot = 0; // in node_state::auto_saves
  // Told to end (a release request, a lost lease) and not yet ended: a start
  // of the key on this node waits for the end instead of failing. Cleared
  // when the profile's final save is refused for its content (refused_atom)
  // after it heard every end_asks: the session then goes on, and no end is
  // coming.
  bool ending = false;
  // The release, lost and lease-lost notices sent to the profile (wrapping).
  // A refusal sent before the profile heard them all is out of date: an end
  // or another hand-off save is still on its way (on_end_refused).
  std::uint16_t end_asks = 0;
};

// A shutdown() call waiting for the end of the node's sessions: answered
// then, or at its own deadline (the deadline message carries its id),
// whichever comes first.
struct shutdown_call {
  std::uint64_t id = 0;
  caf::response_promise rp;
};

// A start attempt for a writer beside this node, waiting for flush_starts.
// At most max_start_group of them wait: the node sends a full group at once
// rather than after the last start of a burst, so the writer applies and
// commits the burst's first starts while the node still takes in the rest,
// and their answers come back while the writer works on the next group.
// Measured (profilestore-bench session-start, 60 bursts of 1,000 starts
// each side, interleaved): the bursts' p99 at median 9.5 ms against 10.4
// ms with one group per burst, and at p90 11.0 against 13.5 ms; groups of
// 128 were worse than 256 (more messages and commits).
constexpr std::size_t max_start_group = 256;

// A start attempt sent to a writer and not yet answered (or timed out).
struct attempt_in_flight {
  std::string rk;      // its start's registry key
  std::uint64_t id = 0; // its start's id
  clock_point sent;
};

struct queued_start {
  caf::actor writer;
  std::string rk;
  std::uint64_t id = 0;
  std::uint64_t attempt = 0;
  store_spec_ptr spec;
  std::string key;
  start_session_op op;
};

struct node_state {
  std::string node_name;
  std::uint64_t incarnation = 0;
  std::shared_ptr<shared_node_state> shared;
  store_actors live;
  store_actors mock; // spawned on first use
  store_actor_options mock_options;

  // Keyed by registry_key. Hashed: a burst of starts looks up, inserts and
  // erases both once or more per start, and nothing needs them in order.
  std::unordered_map<std::string, active_entry> active;
  std::unordered_map<std::string, start_attempt> starting;
  std::uint64_t next_id = 0;
  std::uint64_t spread_counter = 0;

  // Every active profile's next auto-save; one CAF timer (the wake-up
  // message numbered `auto_save_wake`) stands for the earliest.
  auto_save_schedule auto_saves;
  std::uint64_t auto_save_wake = 0;
  std::optional<clock_point> auto_save_armed; // the wake-up pending, if any

  std::deque<clock_point> error_times;
  clock_point critical_last_met{};

  std::vector<shutdown_call> shutdown_waiting;
  std::uint64_t next_shutdown_call = 0;
  // The sessions kept at shutdown, by registry key, with the refusal of
  // their final save: told to end for the shutdown, storage refused that
  // save for its content, so they stay active until they end or a later
  // shutdown asks them again. A shutdown is done when only these are left.
  std::map<std::string, error> kept;
  // Start attempts, withdrawals and orphan releases not yet answered by the
  // writer: a shutdown is done only when none is left, so that no lock taken
  // for a start nobody waits for outlives the node.
  std::size_t writes_in_flight = 0;

  // Start attempts wait at most STORE_REQUEST_TIMEOUT for the writer, but
  // without a CAF request timeout each (CAF 0.17 keeps each in its clock
  // until it expires, answered or not: 100,000 starts left 100,000 clock
  // entries behind). One sweep message, pending while attempts are in
  // flight, times out the ones older than that.
  std::uint64_t next_attempt = 0;
  bool start_sweep_pending = false;
  // Every start attempt counted in writes_in_flight and neither answered nor
  // timed out yet, by attempt number (so in the order sent), whether or not
  // its start still goes on: a start given up or superseded while its
  // attempt is in flight leaves it here, and the sweep counts it off within
  // STORE_REQUEST_TIMEOUT even if the writer never answers (a storage node
  // that died). An answer for an attempt not found here came after the
  // sweep counted it off.
  std::map<std::uint64_t, attempt_in_flight> attempts_in_flight;

  // Start attempts for a writer beside this node (not over a storage
  // connection) wait here while the node handles the messages queued before
  // its flush_atom, then go to their writer as one start_group_op: a burst
  // of starts reaches the writer at once, one message each way, and goes
  // into one transaction. Every other write the node sends a writer flushes
  // this first, so the writer still sees the node's writes in the order the
  // node made them.
  std::vector<queued_start> queued_starts;
  bool flush_pending = false;

  // The node's end (a crash, or destruction without shutdown) ends its
  // profiles too, without a final save, as a process exit would. (Not links:
  // in CAF 0.17 adding and removing a link scans the node's whole link list,
  // which made 100,000 sessions quadratic.)
  ~node_state() {
    for (auto& [rk, entry] : active)
      caf::anon_send_exit(entry.actor, caf::exit_reason::user_shutdown);
  }

  static inline const char* name = "profilestore.node";
};

using node_actor = caf::stateful_actor<node_state>;

// Whether `session` is the one of the active entry `e` of this node.
bool is_session_of(const node_state& s, const active_entry& e,
                   const session_ref& session) {
  return session.id == e.session_id && session.incarnation == s.incarnation
         && session.node == s.node_name;
}

// Whether the message being handled comes from the mock stores' writer: a
// storage notice from it is about a mock key.
bool from_mock_writer(node_actor* self) {
  auto& s = self->state;
  return s.mock.writer && self->current_sender() == s.mock.writer.address();
}

// The registry key a storage notice about (store, key) concerns.
std::string noticed_key(node_actor* self, const std::string& store,
                        const std::string& key) {
  return registry_key(from_mock_writer(self), store, key);
}

// Whether `session` is the active session of the key `rk` on this node.
bool is_active_here(const node_state& s, const std::string& rk,
                    const session_ref& session) {
  auto i = s.active.find(rk);
  return i != s.active.end() && is_session_of(s, i->second, session);
}

// Whether `requester` is a start request of this process for `rk` that this
// node gave up (cancelled, timed out, superseded, refused by a shutdown):
// request ids are never reused within an incarnation, so a request of this
// process that is neither the key's start in progress nor its active
// session is one nobody waits for any more.
bool is_given_up_request(const node_state& s, const std::string& rk,
                         const session_ref& requester) {
  if (requester.node != s.node_name || requester.incarnation != s.incarnation)
    return false;
  auto i = s.starting.find(rk);
  if (i != s.starting.end() && i->second.id == requester.id)
    return false;
  return !is_active_here(s, rk, requester);
}

constants consts(node_actor* self) {
  return self->state.shared->current_constants();
}

bool is_request_error(errc code) {
  return code == errc::invalid_argument || code == errc::invalid_store_name
         || code == errc::invalid_key || code == errc::data_too_large
         || code == errc::metadata_too_large || code == errc::too_many_user_ids
         || code == errc::message_too_large || code == errc::record_too_large
         || code == errc::malformed_input || code == errc::limit_exceeded
         || code == errc::type_mismatch || code == errc::unsupported_format
         || code == errc::message_queue_full || code == errc::not_owner;
}

// Storage trouble counts toward the critical state.
bool counts_as_critical(errc code) {
  return code == errc::storage_error || code == errc::storage_full
         || code == errc::storage_busy || code == errc::timeout
         || code == errc::unreachable || code == errc::internal;
}

// The live storage, or the mock stores' (spawned on first use).
const store_actors& storage_for(node_actor* self, bool mock) {
  auto& s = self->state;
  if (!mock)
    return s.live;
  if (!s.mock.writer) {
    s.mock = spawn_store_actors(self->system(),
                                std::make_shared<memory_backend>(),
                                s.mock_options);
    self->link_to(s.mock.writer);
    self->link_to(s.mock.reader);
    self->send(s.mock.writer, hello_atom::value, s.node_name,
               caf::actor_cast<caf::actor>(self));
  }
  return s.mock;
}

const store_actors& storage_for(node_actor* self, const store_spec& spec) {
  return storage_for(self, spec.mock);
}

// ---- signals and the critical state ----------------------------------------

// Calls every callback of one signal list with `args`. The list is copied
// under the mutex and called outside it, so a callback may register more.
template <class Signal, class... Ts>
void emit(shared_node_state& shared, std::vector<Signal> shared_node_state::*list,
          const Ts&... args) {
  std::vector<Signal> signals;
  {
    std::lock_guard<std::mutex> guard(shared.mutex);
    signals = shared.*list;
  }
  for (auto& f : signals)
    f(args...);
}

void set_critical(node_actor* self, bool on) {
  auto& s = self->state;
  s.shared->critical = on;
  emit(*s.shared, &shared_node_state::on_critical_toggle, on);
}

void count_error(node_actor* self) {
  auto& s = self->state;
  auto c = consts(self);
  auto now = self->clock().now();
  s.error_times.push_back(now);
  while (!s.error_times.empty()
         && now - s.error_times.front() > c.critical_state_error_expire)
    s.error_times.pop_front();
  if (s.error_times.size() >= c.critical_state_error_count) {
    s.critical_last_met = now;
    if (!s.shared->critical) {
      set_critical(self, true);
      self->delayed_send(self, c.critical_state_expire, critical_atom::value);
    }
  }
}

void check_critical_end(node_actor* self) {
  auto& s = self->state;
  if (!s.shared->critical)
    return;
  auto expire = consts(self).critical_state_expire;
  auto since = self->clock().now() - s.critical_last_met;
  if (since >= expire)
    set_critical(self, false);
  else
    self->delayed_send(self,
                       std::chrono::duration_cast<duration>(expire - since)
                         + duration(1),
                       critical_atom::value);
}

void signal_error(node_actor* self, const error& e, const std::string& store,
                  const std::string& key) {
  emit(*self->state.shared, &shared_node_state::on_error, e, store, key);
  if (counts_as_critical(e.code()))
    count_error(self);
}

void signal_overwrite(node_actor* self, const std::string& store,
                      const std::string& key) {
  emit(*self->state.shared, &shared_node_state::on_overwrite, store, key);
}

// ---- auto-saves -------------------------------------------------------------------

// Makes sure a wake-up is pending for the earliest scheduled auto-save. A
// wake-up made obsolete by an earlier one keeps its old number and is
// ignored when it arrives, so there is never more than one chain of them.
void arm_auto_saves(node_actor* self) {
  auto& s = self->state;
  auto next = s.auto_saves.next_due();
  if (!next || (s.auto_save_armed && *s.auto_save_armed <= *next))
    return;
  s.auto_save_armed = *next;
  auto now = self->clock().now();
  auto delay = *next > now ? std::chrono::duration_cast<duration>(*next - now)
                           : duration{0};
  self->delayed_send(self, delay, tick_atom::value, ++s.auto_save_wake);
}

// A wake-up: tell every due profile to save, then wait for the next one.
void run_auto_saves(node_actor* self, std::uint64_t wake) {
  auto& s = self->state;
  if (wake != s.auto_save_wake)
    return; // superseded by an earlier wake-up
  s.auto_save_armed.reset();
  s.auto_saves.take_due(self->clock().now(), consts(self).auto_save_period,
                        [self](const caf::actor& profile) {
                          self->send(profile, tick_atom::value);
                        });
  arm_auto_saves(self);
}

// ---- starting sessions ----------------------------------------------------------

void try_start(node_actor* self, const std::string& rk, std::uint64_t id);
void check_shutdown_done(node_actor* self);
bool settle_attempt(node_actor* self, std::uint64_t attempt);
void arm_start_sweep(node_actor* self, duration after);
void flush_starts(node_actor* self);
void answer_attempt(node_actor* self, const std::string& rk, std::uint64_t id,
                    std::uint64_t attempt, const store_spec_ptr& spec,
                    const std::string& key, applied_op& applied);
void fail_attempt(node_actor* self, const std::string& rk, std::uint64_t id,
                  std::uint64_t attempt, const error& e);

void fail_start(node_actor* self, const std::string& rk, const error& e) {
  auto& s = self->state;
  auto i = s.starting.find(rk);
  if (i == s.starting.end())
    return;
  i->second.rp.deliver(to_caf_error(e));
  s.starting.erase(i);
}

bool start_timed_out(node_actor* self, const start_attempt& a) {
  if (a.options.cancel)
    return false; // a cancel predicate replaces the timeout
  return self->clock().now() - a.first_time >= consts(self).start_session_timeout;
}

// A start nobody waits for any more took the lock: give it back at once,
// with the record `rec` as that start found it (nobody else can have saved
// since: the lock is that start's). Never a session active on this node: its
// profile owns the lock now (a late answer of the attempt whose hand-off made
// it active, say) and its own final save releases it. The release is fenced
// by the session's id, so a lock taken since by anyone else stays theirs.
void release_orphan(node_actor* self, bool mock, const std::string& store,
                    const std::string& key, const session_ref& session,
                    const record& rec) {
  if (is_active_here(self->state, registry_key(mock, store, key), session))
    return;
  save_request req;
  req.session = session;
  req.data = rec.data;
  req.meta_tags = rec.meta.meta_tags;
  req.user_ids = rec.user_ids;
  req.key_metadata = rec.key_metadata;
  req.final = final_action::release;
  flush_starts(self);
  self->state.writes_in_flight++;
  self->request(storage_for(self, mock).writer,
                consts(self).store_request_timeout,
                save_op{store, key, std::move(req)})
    .then(
      [self](applied_op&) {
        self->state.writes_in_flight--;
        check_shutdown_done(self);
      },
      [self, name = store, key](caf::error& err) {
        self->state.writes_in_flight--;
        auto e = from_caf_error(err);
        // not_owner: a newer session (of this node, rule S2) already
        // holds the lock, so there is nothing to release.
        if (e.code() != errc::not_owner)
          signal_error(self, e, name, key);
        check_shutdown_done(self);
      });
}

void release_orphan(node_actor* self, const store_spec& spec,
                    const std::string& key, const session_ref& session,
                    const record& rec) {
  release_orphan(self, spec.mock, spec.name, key, session, rec);
}

// Storage handed the lock of (store, key) to `requester`, a request this node
// gave up (is_given_up_request) after it asked for the lock: its withdrawal
// reached the writer before the owner's final save, which then handed the
// lock to it. Nobody would use or release that lock, and others would wait
// for SESSION_STEAL: release it at once. `current` is the record as the
// hand-off left it; without it (it no longer names the requester, or the
// writer could not read it) there is no lock of this node's to release.
void release_given_up(node_actor* self, bool mock, const std::string& store,
                      const std::string& key, const session_ref& requester,
                      const read_result& current) {
  if (current.found && current.found->rec.meta.active_session == requester)
    release_orphan(self, mock, store, key, requester, current.found->rec);
}

// A start given up (cancelled, timed out, refused by a shutdown) after it
// asked for the lock (ForceLoadSession): the owner may have handed the lock to
// that request meanwhile, and nobody would ever use or release it. One more
// attempt of the same request takes such a lock (rule S2), or a free one, and
// releases it at once; a lock still held elsewhere is left alone.
// REQUIRES: no start or session of the key on this node (rule S2 would let
// this request take the lock from it); later starts of the key reach the
// writer after this attempt, and the release is fenced by the request's id.
void withdraw_start(node_actor* self, store_spec_ptr spec,
                    const std::string& key, std::uint64_t id) {
  auto& s = self->state;
  start_session_op op;
  op.store = spec->name;
  op.key = key;
  op.request.requester = session_ref{s.node_name, s.incarnation, id};
  op.request.first_attempt = false;
  op.request.assume_dead_ms = consts(self).assume_dead.count();
  op.template_data = spec->template_bytes;
  flush_starts(self);
  s.writes_in_flight++;
  self->request(storage_for(self, *spec).writer,
                consts(self).store_request_timeout, std::move(op))
    .then(
      [self, spec, key, id](applied_op& applied) {
        auto& st = self->state;
        st.writes_in_flight--;
        auto& reply = std::get<start_session_reply>(applied.reply);
        if (reply.outcome == start_outcome::started && reply.rec)
          release_orphan(self, *spec, key,
                         session_ref{st.node_name, st.incarnation, id},
                         *reply.rec);
        check_shutdown_done(self);
      },
      [self, spec, key](caf::error& err) {
        self->state.writes_in_flight--;
        signal_error(self, from_caf_error(err), spec->name, key);
        check_shutdown_done(self);
      });
}

// Fails a start that has asked for the lock before, and withdraws its request.
void give_up_start(node_actor* self, const std::string& rk, const error& e) {
  auto& s = self->state;
  auto i = s.starting.find(rk);
  if (i == s.starting.end())
    return;
  auto spec = i->second.spec;
  auto key = i->second.key;
  auto id = i->second.id;
  // An attempt in flight is withdrawn when its answer comes (on_start_reply).
  bool asked = !i->second.first && !i->second.in_flight;
  i->second.rp.deliver(to_caf_error(e));
  s.starting.erase(i);
  if (asked && s.active.count(rk) == 0)
    withdraw_start(self, std::move(spec), key, id);
}

void on_started(node_actor* self, const std::string& rk, start_attempt& a,
                start_session_reply& reply, const std::optional<key_info>& info) {
  auto& s = self->state;
  session_ref session{s.node_name, s.incarnation, a.id};
  auto args = std::make_shared<profile_actor_args>();
  // A new profile's Data is the template's bytes: the profile copies the
  // decoded template itself, in its own actor (a null `data` here), which
  // takes that copy off the node's serial path; other data is decoded here,
  // where a mismatch can still refuse the start. `created` says storage made
  // the profile from this start's template (the spec's bytes), which spares
  // comparing the bytes.
  bool is_template
    = reply.created || reply.rec->data == *a.spec->template_bytes;
  auto data = is_template
                ? result<std::unique_ptr<profile_data>>(nullptr)
                : a.spec->factory->decode(reply.rec->data, decode_limits{});
  if (!data) {
    // The stored Data is not of the store's shape (a typed struct that does
    // not match): refuse and let the lock go, rather than lose the data.
    auto e = make_error(errc::type_mismatch,
                        "the data of " + a.key + " does not fit the store's "
                          + "template: " + data.err().message());
    release_orphan(self, *a.spec, a.key, session, *reply.rec);
    signal_error(self, e, a.spec->name, a.key);
    fail_start(self, rk, e);
    return;
  }
  args->spec = a.spec;
  args->key = a.key;
  args->session = session;
  args->rec = std::move(*reply.rec);
  if (info)
    args->info = *info;
  args->data = std::move(*data);
  args->hooks = std::move(a.options.hooks);
  args->node = caf::actor_cast<caf::actor>(self);
  args->writer = storage_for(self, *a.spec).writer;
  args->shared = s.shared;
  args->reads = storage_for(self, *a.spec).shared_storage;
  auto first_save = self->clock().now()
                    + first_auto_save_delay(s.spread_counter++,
                                            consts(self).auto_save_period);
  auto actor = spawn_profile_actor(self->system(), std::move(args));
  auto slot = s.auto_saves.add(actor, first_save);
  s.active[rk] = active_entry{actor, session.id, slot};
  arm_auto_saves(self);
  if (reply.overwritten)
    signal_overwrite(self, a.spec->name, a.key);
  a.rp.deliver(profile_handle{actor, a.spec, a.key, session});
  s.starting.erase(rk);
}

void handle_start_reply(node_actor* self, const std::string& rk,
                        start_attempt& a, applied_op& applied);

// The writer's answer to attempt `attempt` of the start `id` of `rk`.
void on_start_reply(node_actor* self, const std::string& rk, std::uint64_t id,
                    std::uint64_t attempt, const store_spec_ptr& spec,
                    const std::string& key, applied_op& applied) {
  auto& s = self->state;
  auto& reply = std::get<start_session_reply>(applied.reply);
  auto i = s.starting.find(rk);
  if (i != s.starting.end() && i->second.id == id
      && (i->second.attempt != attempt || !i->second.in_flight)) {
    // A late answer to an attempt that timed out while its start goes on:
    // the start's next attempt (same session id) takes a lock this one took
    // (rule S2), so nothing is released here.
    return;
  }
  if (i == s.starting.end() || i->second.id != id) {
    // This start was superseded, cancelled or refused by a shutdown while
    // its attempt was in flight: give back a lock it took, and withdraw a
    // request it left in ForceLoadSession unless a newer start or session of
    // the key on this node takes over. Or it has become the key's active
    // session meanwhile (storage's hand-off notice came first; this answer
    // is of an attempt the sweep timed out): then release_orphan leaves the
    // lock to the session.
    if (reply.outcome == start_outcome::started && reply.rec)
      release_orphan(self, *spec, key,
                     session_ref{s.node_name, s.incarnation, id}, *reply.rec);
    else if (reply.outcome == start_outcome::locked && i == s.starting.end()
             && s.active.count(rk) == 0)
      withdraw_start(self, spec, key, id);
    return;
  }
  i->second.in_flight = false;
  handle_start_reply(self, rk, i->second, applied);
}

// The answer `applied` to the start `a` (current: not superseded, not late):
// from the writer, or a lock handed over by storage with the record.
void handle_start_reply(node_actor* self, const std::string& rk,
                        start_attempt& a, applied_op& applied) {
  auto& s = self->state;
  auto& reply = std::get<start_session_reply>(applied.reply);
  auto id = a.id;
  auto c = consts(self);
  switch (reply.outcome) {
    case start_outcome::started:
      if (s.shared->closing) {
        release_orphan(self, *a.spec, a.key,
                       session_ref{s.node_name, s.incarnation, id}, *reply.rec);
        fail_start(self, rk,
                   make_error(errc::closing, "the node is shutting down"));
        return;
      }
      on_started(self, rk, a, reply, applied.written);
      return;
    case start_outcome::superseded:
      fail_start(self, rk,
                 make_error(errc::conflict,
                            "a newer start_session of " + a.key
                              + " on another node took over the request"));
      return;
    case start_outcome::locked:
      break;
  }
  a.first = false;
  // An attempt made early on storage's word does not count toward the steal.
  if (a.early)
    a.early = false;
  else
    a.conflicts++;
  if (a.options.cancel && a.options.cancel()) {
    give_up_start(self, rk, make_error(errc::cancelled,
                                       "start_session of " + a.key
                                         + " was cancelled while the key was "
                                           "locked by another node"));
    return;
  }
  if (start_timed_out(self, a)) {
    give_up_start(self, rk,
               make_error(errc::timeout,
                          "start_session of " + a.key
                            + " gave up after START_SESSION_TIMEOUT: the key "
                              "is locked by "
                            + (reply.owner ? to_string(*reply.owner) : "?")));
    return;
  }
  auto repeat = c.load_repeat_period.count() > 0 ? c.load_repeat_period.count() : 1;
  auto steal_after = static_cast<unsigned>(
    (c.session_steal.count() + repeat - 1) / repeat);
  if (a.conflicts > steal_after)
    a.steal_now = true;
  if (a.try_now_pending) {
    a.try_now_pending = false;
    a.early = true;
    try_start(self, rk, id);
    return;
  }
  auto delay = a.conflicts == 1 ? c.first_load_repeat : c.load_repeat_period;
  self->delayed_send(self, delay, retry_atom::value, rk, id,
                     ++a.retry_generation);
}

// Storage says a waiting start should try again now: the owner handed it the
// lock, or the owner's lease ran out.
void try_start_now(node_actor* self, const std::string& rk,
                   const session_ref& requester) {
  auto& s = self->state;
  if (requester.node != s.node_name || requester.incarnation != s.incarnation)
    return;
  auto i = s.starting.find(rk);
  if (i == s.starting.end() || i->second.id != requester.id)
    return;
  auto& a = i->second;
  if (a.in_flight) {
    a.try_now_pending = true;
    return;
  }
  ++a.retry_generation; // the scheduled retry is no longer needed
  a.early = true;
  try_start(self, rk, requester.id);
}

void on_start_error(node_actor* self, const std::string& rk, std::uint64_t id,
                    std::uint64_t attempt, const error& e) {
  auto& s = self->state;
  auto i = s.starting.find(rk);
  if (i == s.starting.end() || i->second.id != id
      || i->second.attempt != attempt)
    return;
  auto& a = i->second;
  a.in_flight = false;
  signal_error(self, e, a.spec->name, a.key);
  if (is_request_error(e.code())) {
    fail_start(self, rk, e);
    return;
  }
  if (start_timed_out(self, a)) {
    // The same answer as a start that timed out on a locked key; the
    // storage error that kept it from starting is in the message.
    give_up_start(self, rk,
               make_error(errc::timeout,
                          "start_session of " + a.key
                            + " gave up after START_SESSION_TIMEOUT; the "
                              "last attempt failed with "
                            + e.to_string()));
    return;
  }
  if (a.options.cancel && a.options.cancel()) {
    give_up_start(self, rk,
               make_error(errc::cancelled,
                          "start_session of " + a.key
                            + " was cancelled while storage failed ("
                            + e.to_string() + ")"));
    return;
  }
  static constexpr int backoff_s[] = {1, 2, 4, 8, 16, 20};
  auto step = std::min<unsigned>(a.failures, 5);
  a.failures++;
  self->delayed_send(self, std::chrono::seconds(backoff_s[step]),
                     retry_atom::value, rk, id, ++a.retry_generation);
}

// Counts a new attempt of the start `id` of `rk` in flight (writes_in_flight,
// attempts_in_flight) until its answer or the sweep; returns its number.
std::uint64_t count_attempt(node_actor* self, const std::string& rk,
                            std::uint64_t id) {
  auto& s = self->state;
  auto attempt = ++s.next_attempt;
  s.attempts_in_flight.emplace(
    attempt, attempt_in_flight{rk, id, self->clock().now()});
  s.writes_in_flight++;
  return attempt;
}

void try_start(node_actor* self, const std::string& rk, std::uint64_t id) {
  auto& s = self->state;
  auto i = s.starting.find(rk);
  if (i == s.starting.end() || i->second.id != id)
    return;
  auto& a = i->second;
  if (a.in_flight)
    return; // its answer decides what comes next
  if (a.waiting_for_end) {
    // Only the timer gets here while the previous session still ends.
    give_up_start(self, rk,
                  make_error(errc::timeout,
                             "start_session of " + a.key
                               + " gave up: the key's previous session on "
                                 "this node did not end within "
                                 "START_SESSION_TIMEOUT"));
    return;
  }
  if (s.shared->closing) {
    give_up_start(self, rk,
                  make_error(errc::closing, "the node is shutting down"));
    return;
  }
  // A retry asks the predicate first: while it says cancel, the lock must
  // not be taken (it may have been handed to this request meanwhile).
  if (!a.first && a.options.cancel && a.options.cancel()) {
    give_up_start(self, rk,
                  make_error(errc::cancelled,
                             "start_session of " + a.key
                               + " was cancelled before a retry"));
    return;
  }
  auto c = consts(self);
  start_session_op op;
  op.store = a.spec->name;
  op.key = a.key;
  op.request.requester = session_ref{s.node_name, s.incarnation, id};
  op.request.steal = a.options.steal || a.steal_now;
  op.request.first_attempt = a.first;
  op.request.assume_dead_ms = c.assume_dead.count();
  op.template_data = a.spec->template_bytes;
  a.in_flight = true;
  a.attempt = count_attempt(self, rk, id);
  if (!s.start_sweep_pending)
    arm_start_sweep(self, c.store_request_timeout);
  const auto& storage = storage_for(self, *a.spec);
  if (storage.shared_storage) {
    // A writer beside this node (spawn_store_actors): grouped.
    s.queued_starts.push_back(queued_start{storage.writer, rk, id, a.attempt,
                                           a.spec, a.key, std::move(op)});
    if (s.queued_starts.size() >= max_start_group) {
      flush_starts(self); // a pending flush_atom then finds nothing queued
      return;
    }
    if (!s.flush_pending) {
      s.flush_pending = true;
      self->send(self, flush_atom::value);
    }
    return;
  }
  self->request(storage.writer, caf::infinite, std::move(op))
    .then(
      [self, rk, id, attempt = a.attempt, spec = a.spec,
       key = a.key](applied_op& applied) {
        answer_attempt(self, rk, id, attempt, spec, key, applied);
        check_shutdown_done(self);
      },
      [self, rk, id, attempt = a.attempt](caf::error& err) {
        fail_attempt(self, rk, id, attempt, from_caf_error(err));
        check_shutdown_done(self);
      });
}

// Sends the queued start attempts, one start_group_op per writer, and
// hands each start's result to the same code as a single answer.
void flush_starts(node_actor* self) {
  auto& s = self->state;
  if (s.queued_starts.empty())
    return;
  auto queued = std::make_shared<std::vector<queued_start>>();
  queued->swap(s.queued_starts);
  // At most two writers (live and mock): one group each, in queue order.
  std::vector<caf::actor> writers;
  for (const auto& q : *queued)
    if (std::find(writers.begin(), writers.end(), q.writer) == writers.end())
      writers.push_back(q.writer);
  for (const auto& writer : writers) {
    start_group_op group;
    auto members = std::make_shared<std::vector<std::size_t>>();
    for (std::size_t i = 0; i < queued->size(); ++i)
      if ((*queued)[i].writer == writer) {
        group.ops.push_back(std::move((*queued)[i].op));
        members->push_back(i);
      }
    self->request(writer, caf::infinite, std::move(group))
      .then(
        [self, queued, members](start_group_reply& reply) {
          for (std::size_t k = 0; k < members->size(); ++k) {
            auto& q = (*queued)[(*members)[k]];
            if (k >= reply.results.size()) {
              fail_attempt(self, q.rk, q.id, q.attempt,
                           make_error(errc::internal,
                                      "the writer answered fewer starts "
                                      "than it was sent"));
            } else if (auto& r = reply.results[k]; r.applied) {
              answer_attempt(self, q.rk, q.id, q.attempt, q.spec, q.key,
                             *r.applied);
            } else {
              fail_attempt(self, q.rk, q.id, q.attempt, r.err);
            }
          }
          check_shutdown_done(self);
        },
        [self, queued, members](caf::error& err) {
          auto e = from_caf_error(err);
          for (auto index : *members) {
            auto& q = (*queued)[index];
            fail_attempt(self, q.rk, q.id, q.attempt, e);
          }
          check_shutdown_done(self);
        });
  }
}

// The writer's answer to attempt `attempt` of the start `id` of `rk`.
void answer_attempt(node_actor* self, const std::string& rk, std::uint64_t id,
                    std::uint64_t attempt, const store_spec_ptr& spec,
                    const std::string& key, applied_op& applied) {
  settle_attempt(self, attempt);
  on_start_reply(self, rk, id, attempt, spec, key, applied);
}

// The writer could not apply attempt `attempt` of the start `id` of `rk`.
void fail_attempt(node_actor* self, const std::string& rk, std::uint64_t id,
                  std::uint64_t attempt, const error& e) {
  if (!settle_attempt(self, attempt))
    return; // timed out before: already answered as a timeout
  on_start_error(self, rk, id, attempt, e);
}

// An answer from the writer came for `attempt`: false when the sweep had
// already timed it out (and counted it off).
bool settle_attempt(node_actor* self, std::uint64_t attempt) {
  auto& s = self->state;
  if (s.attempts_in_flight.erase(attempt) == 0)
    return false;
  s.writes_in_flight--;
  return true;
}

void arm_start_sweep(node_actor* self, duration after) {
  self->state.start_sweep_pending = true;
  self->delayed_send(self, after, sweep_atom::value);
}

// The sweep: every attempt in flight longer than STORE_REQUEST_TIMEOUT is
// counted off; if its start still waits for it, that start fails it with
// errc::timeout (and retries like any storage failure). A late answer of an
// attempt counted off here is then handled as a timed-out one (or, its start
// gone, as an orphan's).
void sweep_starts(node_actor* self) {
  auto& s = self->state;
  s.start_sweep_pending = false;
  auto timeout = consts(self).store_request_timeout;
  auto now = self->clock().now();
  auto waited = [now](const attempt_in_flight& x) {
    return std::chrono::duration_cast<duration>(now - x.sent);
  };
  // Attempts are numbered in the order sent: the first one still young
  // enough ends the expired ones.
  std::vector<std::pair<std::uint64_t, attempt_in_flight>> expired;
  auto& pending = s.attempts_in_flight;
  while (!pending.empty() && waited(pending.begin()->second) >= timeout) {
    auto i = pending.begin();
    expired.emplace_back(i->first, std::move(i->second));
    pending.erase(i);
    s.writes_in_flight--;
  }
  for (auto& [attempt, x] : expired) {
    auto i = s.starting.find(x.rk);
    if (i == s.starting.end() || i->second.id != x.id
        || i->second.attempt != attempt || !i->second.in_flight)
      continue; // given up or superseded meanwhile: nobody waits for it
    on_start_error(self, x.rk, x.id, attempt,
                   make_error(errc::timeout,
                              "the store writer did not answer a start of "
                                + i->second.key
                                + " within STORE_REQUEST_TIMEOUT"));
  }
  if (!pending.empty() && !s.start_sweep_pending)
    arm_start_sweep(self, timeout - waited(pending.begin()->second));
  check_shutdown_done(self);
}

caf::result<profile_handle> start(node_actor* self, store_spec_ptr spec,
                                  std::string key, start_options& options) {
  auto& s = self->state;
  if (s.shared->closing)
    return to_caf_error(errc::closing,
                        "the node is shutting down: no new sessions");
  if (!spec || !spec->factory || !spec->template_bytes)
    return to_caf_error(errc::invalid_argument, "the store is not open");
  if (auto ok = check_key(key); !ok)
    return to_caf_error(ok.err());
  auto rk = registry_key(spec->mock, spec->name, key);
  bool previous_ending = false;
  if (auto i = s.active.find(rk); i != s.active.end()) {
    if (!i->second.ending)
      return to_caf_error(errc::session_active,
                          "a session of " + key + " in store " + spec->name
                            + " is already active on this node; end it "
                              "first");
    previous_ending = true;
  }
  if (auto i = s.starting.find(rk); i != s.starting.end()) {
    // The newest start of a key on this node wins (fast rejoin).
    i->second.rp.deliver(to_caf_error(
      errc::conflict, "superseded by a newer start_session of " + key
                        + " on this node"));
    s.starting.erase(i);
  }
  start_attempt a;
  a.id = ++s.next_id;
  a.spec = std::move(spec);
  a.key = std::move(key);
  a.options = std::move(options);
  a.rp = self->make_response_promise();
  a.first_time = self->clock().now();
  auto rp = a.rp;
  auto id = a.id;
  if (previous_ending) {
    // Its final save decides who holds the lock; rule S2 must not let this
    // start take it from the ending session meanwhile.
    a.waiting_for_end = true;
    auto timeout = consts(self).start_session_timeout;
    self->delayed_send(self, timeout, retry_atom::value, rk, id,
                       ++a.retry_generation);
  }
  bool wait = a.waiting_for_end;
  s.starting.emplace(rk, std::move(a));
  if (!wait)
    try_start(self, rk, id);
  return rp;
}

// ---- reads and plain writes ---------------------------------------------------

profile_copy make_copy(const store_spec& spec, const std::string& key,
                       read_reply& r) {
  profile_copy c;
  c.store = spec.name;
  c.key = key;
  auto data = decode_msgpack(r.rec.data);
  c.data = data ? std::move(*data) : value{};
  c.meta = std::move(r.rec.meta);
  c.user_ids = std::move(r.rec.user_ids);
  auto km = decode_msgpack(r.rec.key_metadata);
  c.key_metadata = km ? std::move(*km) : value(value_map{});
  auto tags = decode_msgpack(c.meta.meta_tags);
  c.meta_tags = tags ? std::move(*tags) : value(value_map{});
  c.info = std::move(r.info);
  c.messages = std::move(r.rec.updates);
  c.overwritten = r.overwritten;
  return c;
}

template <class Reply>
void forward_write(node_actor* self, const store_spec& spec, operation op,
                   caf::response_promise rp,
                   std::function<caf::message(applied_op&)> convert) {
  flush_starts(self);
  auto writer = storage_for(self, spec).writer;
  auto timeout = consts(self).store_request_timeout;
  auto send_op = [&](auto&& typed_op) {
    self->request(writer, timeout, std::forward<decltype(typed_op)>(typed_op))
      .then(
        [rp, convert](applied_op& applied) mutable {
          rp.deliver(convert(applied));
        },
        [rp](caf::error& err) mutable { rp.deliver(err); });
  };
  std::visit(send_op, std::move(op));
}

// ---- shutdown -----------------------------------------------------------------

// What a shutdown answers about the sessions it kept (node_state::kept):
// how many, and the refusal of one of them (the first by key).
std::string describe_kept_sessions(const node_state& s) {
  auto what = s.kept.size() == 1
                ? std::string("1 session stays active on this node: its "
                              "final save was refused for its content (fix "
                              "the data, then end it or shut down again): ")
                : std::to_string(s.kept.size())
                    + " sessions stay active on this node: their final "
                      "saves were refused for their content (fix the data, "
                      "then end them or shut down again); one of them: ";
  return what + s.kept.begin()->second.message();
}

// Every waiting shutdown call is answered once no session is left but those
// kept (with the code of the refusal named then) and no write is in flight.
void check_shutdown_done(node_actor* self) {
  auto& s = self->state;
  if (!s.shared->closing || s.active.size() > s.kept.size()
      || s.writes_in_flight > 0 || s.shutdown_waiting.empty())
    return;
  for (auto& call : s.shutdown_waiting) {
    if (s.kept.empty())
      call.rp.deliver(caf::unit);
    else
      call.rp.deliver(to_caf_error(s.kept.begin()->second.code(),
                                   describe_kept_sessions(s)));
  }
  s.shutdown_waiting.clear();
}

// The first shutdown() call: no new sessions, starts in progress fail, and
// every active session does its final save.
void begin_shutdown(node_actor* self) {
  auto& s = self->state;
  s.shared->closing = true;
  std::vector<std::string> starting;
  for (auto& entry : s.starting)
    starting.push_back(entry.first);
  for (auto& rk : starting)
    give_up_start(self, rk,
                  make_error(errc::closing, "the node is shutting down"));
  for (auto& [rk, entry] : s.active)
    self->send(entry.actor, shutdown_atom::value);
}

// A later shutdown() call: the sessions kept by an earlier one try their
// final save again (their data may have been fixed since). The others are
// ending already, or ended: they are not asked twice.
void retry_kept_sessions(node_actor* self) {
  auto& s = self->state;
  for (auto& kept : s.kept)
    if (auto i = s.active.find(kept.first); i != s.active.end())
      self->send(i->second.actor, shutdown_atom::value);
  s.kept.clear();
}

// The deadline of the shutdown call `id`: that call alone gives up waiting
// (errc::timeout); other calls keep their own deadlines.
void on_shutdown_deadline(node_actor* self, std::uint64_t id) {
  auto& s = self->state;
  auto i = std::find_if(s.shutdown_waiting.begin(), s.shutdown_waiting.end(),
                        [id](const shutdown_call& c) { return c.id == id; });
  if (i == s.shutdown_waiting.end())
    return; // answered when the sessions ended
  auto what = std::to_string(s.active.size() - s.kept.size())
              + " profiles did not finish their final save before the "
                "shutdown timeout";
  if (!s.kept.empty())
    what += "; " + describe_kept_sessions(s);
  i->rp.deliver(to_caf_error(errc::timeout, what));
  s.shutdown_waiting.erase(i);
}

// The final save of the session `session_id` of `rk` was refused for its
// content (refused_atom) after its profile had heard `asks_heard` of the
// node's end notices: the profile is active again. If the node has sent it
// more since (a release, a lost key or lease), that end is still on its way
// and decides, so the refusal changes nothing. Otherwise the node stops
// counting the session as ending, a start of the key waiting for that end
// fails now (it would wait in vain), and a refusal that answers the
// shutdown keeps the session (check_shutdown_done).
void on_end_refused(node_actor* self, const std::string& rk,
                    const std::string& store, const std::string& key,
                    std::uint64_t session_id, std::uint16_t asks_heard,
                    const error& e, bool answers_shutdown) {
  auto& s = self->state;
  auto i = s.active.find(rk);
  if (i == s.active.end() || i->second.session_id != session_id
      || i->second.end_asks != asks_heard)
    return;
  i->second.ending = false;
  auto why = "the final save of " + key + " in store " + store
             + " was refused: " + e.to_string();
  if (auto j = s.starting.find(rk);
      j != s.starting.end() && j->second.waiting_for_end)
    fail_start(self, rk,
               make_error(errc::session_active,
                          "a session of " + key + " in store " + store
                            + " stays active on this node (" + why
                            + "); end it first"));
  if (!answers_shutdown || !s.shared->closing)
    return;
  s.kept.emplace(rk, make_error(e.code(), why));
  check_shutdown_done(self);
}

caf::behavior node_behavior(node_actor* self, node_actor_args args) {
  auto& init = self->state;
  init.node_name = std::move(args.name);
  init.incarnation = args.incarnation;
  init.live = std::move(args.live);
  init.mock_options = std::move(args.mock_options);
  init.shared = std::move(args.shared);
  self->request(init.live.writer, consts(self).store_request_timeout,
                hello_atom::value, init.node_name,
                caf::actor_cast<caf::actor>(self))
    .then(
      // The writer answers with caf::unit, an empty message: a handler
      // taking caf::unit_t would never match it.
      [self]() {
        self->state.shared->store_state
          = static_cast<std::uint8_t>(datastore_state::access);
      },
      [self](caf::error&) {
        self->state.shared->store_state
          = static_cast<std::uint8_t>(datastore_state::no_access);
      });
  return {
    [self](start_atom, store_spec_ptr& spec, std::string& key,
           start_options& options) -> caf::result<profile_handle> {
      return start(self, std::move(spec), std::move(key), options);
    },
    [self](retry_atom, const std::string& rk, std::uint64_t id,
           std::uint64_t generation) {
      auto& s = self->state;
      auto i = s.starting.find(rk);
      if (i != s.starting.end() && i->second.id == id
          && i->second.retry_generation == generation)
        try_start(self, rk, id);
    },
    // The owner's lease ran out: try again now.
    [self](handed_atom, const std::string& store, const std::string& key,
           const session_ref& requester) {
      try_start_now(self, noticed_key(self, store, key), requester);
    },
    // The owner's final save handed the lock to this node's request; with
    // the record as stored, the start completes without another write.
    [self](handed_atom, const std::string& store, const std::string& key,
           const session_ref& requester, read_result& current) {
      auto& s = self->state;
      bool mock = from_mock_writer(self);
      auto rk = registry_key(mock, store, key);
      if (is_given_up_request(s, rk, requester)) {
        release_given_up(self, mock, store, key, requester, current);
        return;
      }
      auto i = s.starting.find(rk);
      bool usable = current.found && requester.node == s.node_name
                    && requester.incarnation == s.incarnation
                    && i != s.starting.end() && i->second.id == requester.id
                    && !i->second.in_flight
                    // A start with a cancel predicate asks it first, on the
                    // retry path (try_start).
                    && !i->second.options.cancel;
      if (!usable) {
        try_start_now(self, rk, requester);
        return;
      }
      auto& a = i->second;
      ++a.retry_generation; // the scheduled retry is no longer needed
      start_session_reply reply;
      reply.outcome = start_outcome::started;
      reply.rec = std::move(current.found->rec);
      applied_op applied{op_reply{std::move(reply)}, current.found->info, {}};
      handle_start_reply(self, rk, a, applied);
    },
    // The storage connection could not renew this node's lease in time:
    // every live session ends without saving (another node may own them
    // already; fencing would refuse their saves anyway).
    [self](lease_lost_atom) {
      auto& s = self->state;
      for (auto& [rk, entry] : s.active)
        if (rk[0] == 'l') {
          entry.ending = true;
          ++entry.end_asks;
          self->send(entry.actor, lease_lost_atom::value);
        }
      emit(*s.shared, &shared_node_state::on_error,
           make_error(errc::unreachable,
                      "the node's lease with storage ran out: its sessions "
                      "ended"),
           std::string(), std::string());
      count_error(self);
    },
    [self](ended_atom, bool mock, const std::string& store,
           const std::string& key, std::uint64_t session_id) {
      auto& s = self->state;
      auto rk = registry_key(mock, store, key);
      auto i = s.active.find(rk);
      if (i != s.active.end() && i->second.session_id == session_id) {
        s.auto_saves.remove(i->second.auto_save_slot);
        s.kept.erase(rk);
        s.active.erase(i);
        // A start waiting for this end goes ahead now.
        if (auto j = s.starting.find(rk);
            j != s.starting.end() && j->second.waiting_for_end) {
          j->second.waiting_for_end = false;
          ++j->second.retry_generation; // its timer is no longer needed
          try_start(self, rk, j->second.id);
        }
      }
      check_shutdown_done(self);
    },
    [self](refused_atom, bool mock, const std::string& store,
           const std::string& key, std::uint64_t session_id,
           std::uint16_t asks_heard, const error& e, bool answers_shutdown) {
      on_end_refused(self, registry_key(mock, store, key), store, key,
                     session_id, asks_heard, e, answers_shutdown);
    },
    [self](report_atom, const std::string& store, const std::string& key,
           const error& e) { signal_error(self, e, store, key); },
    [self](critical_atom) { check_critical_end(self); },
    [self](tick_atom, std::uint64_t wake) { run_auto_saves(self, wake); },
    [self](sweep_atom) { sweep_starts(self); },
    [self](flush_atom) {
      self->state.flush_pending = false;
      flush_starts(self);
    },
    [self](notify_atom, const std::string& store, const std::string& key,
           const queued_update& update) {
      auto& s = self->state;
      auto i = s.active.find(noticed_key(self, store, key));
      if (i != s.active.end())
        self->send(i->second.actor, notify_atom::value, update);
    },
    [self](release_atom, const std::string& store, const std::string& key,
           const session_ref& owner, const session_ref& requester) {
      auto& s = self->state;
      auto i = s.active.find(noticed_key(self, store, key));
      if (i != s.active.end() && is_session_of(s, i->second, owner)) {
        i->second.ending = true;
        ++i->second.end_asks;
        self->send(i->second.actor, release_atom::value, requester);
      }
    },
    // The key was overwritten or removed outside the session `owner`.
    [self](lost_atom, const std::string& store, const std::string& key,
           const session_ref& owner) {
      auto& s = self->state;
      auto i = s.active.find(noticed_key(self, store, key));
      if (i != s.active.end() && is_session_of(s, i->second, owner)) {
        i->second.ending = true;
        ++i->second.end_asks;
        self->send(i->second.actor, lost_atom::value);
      }
    },
    // ProfileService's GlobalUpdateProfileAsync (compat layer): the edits go
    // to the key's storage as one write; the reply is the queue after it.
    [self](global_update_atom, const store_spec_ptr& spec,
           const std::string& key,
           edit_updates_request& request) -> caf::result<edit_updates_reply> {
      if (!spec)
        return to_caf_error(errc::invalid_argument, "the store is not open");
      if (auto ok = check_key(key); !ok)
        return to_caf_error(ok.err());
      request.max_queue = consts(self).max_message_queue;
      auto rp = self->make_response_promise();
      edit_updates_op op{spec->name, key, std::move(request)};
      forward_write<edit_updates_reply>(
        self, *spec, std::move(op), rp, [](applied_op& a) {
          return caf::make_message(
            std::move(std::get<edit_updates_reply>(a.reply)));
        });
      return rp;
    },
    [self](message_atom, const store_spec_ptr& spec, const std::string& key,
           std::string& data) -> caf::result<std::uint64_t> {
      if (!spec)
        return to_caf_error(errc::invalid_argument, "the store is not open");
      if (auto ok = check_key(key); !ok)
        return to_caf_error(ok.err());
      auto rp = self->make_response_promise();
      message_op op{spec->name, key,
                    message_request{std::move(data),
                                    consts(self).max_message_queue}};
      forward_write<message_reply>(self, *spec, std::move(op), rp,
                                   [](applied_op& a) {
                                     return caf::make_message(
                                       std::get<message_reply>(a.reply).id);
                                   });
      return rp;
    },
    [self](get_atom, const store_spec_ptr& spec, const std::string& key,
           std::optional<std::uint64_t> version)
      -> caf::result<std::optional<profile_copy>> {
      if (!spec)
        return to_caf_error(errc::invalid_argument, "the store is not open");
      if (auto ok = check_key(key); !ok)
        return to_caf_error(ok.err());
      auto rp = self->make_response_promise();
      self->request(storage_for(self, *spec).reader,
                    consts(self).store_request_timeout, read_atom::value,
                    read_request{spec->name, key, version, spec->template_bytes})
        .then(
          [rp, spec, key](read_result& r) mutable {
            std::optional<profile_copy> out;
            // A record holding only messages (sent to a profile never
            // started) has no profile to copy yet: as absent, like GetAsync.
            if (r.found && r.found->rec.has_profile)
              out = make_copy(*spec, key, *r.found);
            rp.deliver(std::move(out));
          },
          [rp](caf::error& err) mutable { rp.deliver(err); });
      return rp;
    },
    [self](versions_atom, const store_spec_ptr& spec, const std::string& key,
           const version_query& query) -> caf::result<version_page> {
      if (!spec)
        return to_caf_error(errc::invalid_argument, "the store is not open");
      if (auto ok = check_key(key); !ok)
        return to_caf_error(ok.err());
      auto rp = self->make_response_promise();
      self->request(storage_for(self, *spec).reader,
                    consts(self).store_request_timeout, list_atom::value,
                    list_request{spec->name, key, query})
        .then([rp](list_result& r) mutable { rp.deliver(std::move(r.page)); },
              [rp](caf::error& err) mutable { rp.deliver(err); });
      return rp;
    },
    [self](set_atom, const store_spec_ptr& spec,
           const profile_copy& copy) -> caf::result<caf::unit_t> {
      if (!spec)
        return to_caf_error(errc::invalid_argument, "the store is not open");
      if (auto ok = check_key(copy.key); !ok)
        return to_caf_error(ok.err());
      set_request req;
      req.data = encode_msgpack(copy.data);
      req.meta_tags = encode_msgpack(copy.meta_tags.is_map()
                                       ? copy.meta_tags
                                       : value(value_map{}));
      req.user_ids = copy.user_ids;
      req.key_metadata = encode_msgpack(copy.key_metadata.is_map()
                                          ? copy.key_metadata
                                          : value(value_map{}));
      auto rp = self->make_response_promise();
      forward_write<set_reply>(self, *spec,
                               set_op{spec->name, copy.key, std::move(req)}, rp,
                               [](applied_op&) {
                                 return caf::message{}; // unit
                               });
      return rp;
    },
    [self](remove_atom, const store_spec_ptr& spec,
           const std::string& key) -> caf::result<bool> {
      if (!spec)
        return to_caf_error(errc::invalid_argument, "the store is not open");
      if (auto ok = check_key(key); !ok)
        return to_caf_error(ok.err());
      auto rp = self->make_response_promise();
      forward_write<remove_reply>(self, *spec, remove_op{spec->name, key}, rp,
                                  [](applied_op& a) {
                                    return caf::make_message(
                                      std::get<remove_reply>(a.reply).existed);
                                  });
      return rp;
    },
    [self](transact_atom, std::vector<profile_handle>& profiles,
           transact_fn& fn) -> caf::result<caf::unit_t> {
      auto& s = self->state;
      if (profiles.empty())
        return to_caf_error(errc::invalid_argument,
                            "transact needs at least one profile");
      std::set<std::string> keys;
      for (const auto& p : profiles) {
        if (!p.store || !p.actor)
          return to_caf_error(errc::invalid_argument,
                              "transact got an empty profile handle");
        if (p.store->name != profiles.front().store->name
            || p.store->mock != profiles.front().store->mock)
          return to_caf_error(errc::not_supported,
                              "transact works on profiles of one store");
        if (!keys.insert(p.key).second)
          return to_caf_error(errc::invalid_argument,
                              "transact got " + p.key + " twice");
        auto i = s.active.find(registry_key(p.store->mock, p.store->name, p.key));
        if (i == s.active.end() || !is_session_of(s, i->second, p.session))
          return to_caf_error(errc::session_ended,
                              "the session of " + p.key
                                + " is not active on this node");
      }
      auto rp = self->make_response_promise();
      auto writer = storage_for(self, *profiles.front().store).writer;
      auto timeout = consts(self).store_request_timeout;
      // Every step of the transaction is bounded: borrowing each profile by
      // `timeout`, the group save by transact_group_save_timeouts of them.
      auto bound = transact_timeout(timeout, profiles.size());
      auto txn = spawn_transaction(self->system(), std::move(profiles),
                                   std::move(fn), writer, timeout);
      // The answer is delivered here, in this actor: a response promise
      // must be fulfilled by the actor that made it (CAF 0.17 enqueues the
      // reply through its maker's execution unit).
      self->request(txn, bound, transact_atom::value)
        .then([rp]() mutable { rp.deliver(caf::unit); },
              [rp](caf::error& err) mutable { rp.deliver(err); });
      return rp;
    },
    // Every call waits for the same end of the sessions, each with its own
    // deadline; only the first asks every session to end.
    [self](shutdown_atom, duration timeout) -> caf::result<caf::unit_t> {
      auto& s = self->state;
      if (s.shared->closing)
        retry_kept_sessions(self);
      else
        begin_shutdown(self);
      auto rp = self->make_response_promise();
      auto id = ++s.next_shutdown_call;
      s.shutdown_waiting.push_back(shutdown_call{id, rp});
      self->delayed_send(self, timeout, deadline_atom::value, id);
      check_shutdown_done(self);
      return rp;
    },
    [self](deadline_atom, std::uint64_t call) {
      on_shutdown_deadline(self, call);
    },
    [self](constant_atom, const std::string& name,
           double v) -> caf::result<caf::unit_t> {
      auto& shared = *self->state.shared;
      std::lock_guard<std::mutex> guard(shared.mutex);
      auto r = shared.consts.set(name, v);
      if (!r)
        return to_caf_error(r.err());
      return caf::unit;
    },
  };
}

} // namespace

duration transact_timeout(duration store_request_timeout, std::size_t profiles) {
  return store_request_timeout
         * static_cast<duration::rep>(profiles + transact_group_save_timeouts
                                      + 1);
}

caf::actor spawn_node_actor(caf::actor_system& sys, node_actor_args args) {
  return sys.spawn(node_behavior, std::move(args));
}

} // namespace profilestore
