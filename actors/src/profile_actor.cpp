// The profile actor's save state machine.
//
//  active --save()/auto-save--> saving --reply--> active
//  active --end_session/shutdown/force load--> ending: on_last_save, then the
//         final save (release, or handoff to the requester); on success the
//         session ends (on_session_end) and the actor quits. An ordinary save
//         in flight when the ending begins goes first; whatever its reply
//         (committed, another node waiting, refused for its content), the
//         final save follows it, unless the lock was lost (not_owner).
//  any save refused with not_owner: the lock was lost (stolen, overwritten by
//         set, expired): on_session_end without on_last_save, quit, and no
//         further write is possible (fencing in storage).
//  a save refused for the request itself (data over the limit, ...): the
//         session and the in-memory data stay; the error goes to the caller
//         and to the node's on_error signal; a refused final save turns the
//         profile active again and tells the node so (refused_atom), which
//         then no longer counts the session as ending.
//  a storage failure (commit failed, disk full, timeout): reported (critical
//         state counting), retried with backoff 1, 2, 4, 8, 16, 20 s; a final
//         save is retried until it succeeds or the node stops. A final save
//         that timed out and then commits all the same ends the session as
//         saved, before its retry can be refused for the lock it released.
//  lent to a transaction: other messages wait in the mailbox and save
//         replies are deferred until the transaction returns the profile,
//         or ends without returning it (its end returns the profile). An
//         exit (the node's end) waits too: the transaction uses this
//         profile's state, so the profile ends only once it is returned.
// At most one save is in flight; requests meanwhile coalesce into the next.
#include "profile_actor.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <map>
#include <optional>
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

namespace {
// What a message handler's `processed` callback marks (deliver_messages).
struct processed_mark {
  bool done = false;
  bool open = true; // false once the handler returned
};
} // namespace

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

  bool saving = false;
  bool save_again = false;
  bool ending = false;
  last_save_reason end_reason = last_save_reason::manual;

  std::uint64_t retry_generation = 0;

  // The save in flight waits at most STORE_REQUEST_TIMEOUT, but without a
  // CAF request timeout per save: CAF 0.17 keeps every request timeout in
  // its clock until it expires, answered or not, which costs a clock entry
  // per save for the whole timeout. Instead one deadline message per
  // profile is pending while saves go on: armed when a save starts and none
  // is pending; when it fires early (the save it was armed for is done) it
  // is re-armed for the save in flight. A reply carries the number of its
  // save and is ignored once that save timed out, except the success of a
  // final save while the profile is still ending (see start_save).
  std::uint64_t save_seq = 0; // the number of the save in flight
  bool in_flight_final = false;
  bool deadline_pending = false;
  unsigned failures = 0;
  // After the small fields, which share one word: an idle profile's size is
  // a target (docs/design.md).
  caf::actor_clock::time_point save_sent{};

  bool lent = false;
  bool told_node_ended = false;

  // The highest update id whose fate this session knows. Every update up to
  // it was committed before a queue storage reported to this session (the
  // start record, a save's reply) or came in a notice (storage sends the
  // notices of new updates of a key in id order, and the reply of a save
  // before the notices of later commits; a changed update keeps its id and
  // stays in the queue), so an update up to it that is not in the queue as last
  // reported is gone: removed by this session or an earlier one, or cleared
  // by its sender. A notice of such an update arrived late (it waited in the
  // node's mailbox while replies came straight from the writer) and must not
  // bring it back. Ids of a key only grow.
  std::uint64_t updates_known_through = 0;

  // What only a busy profile needs, allocated on first use: an idle
  // profile (most of them, most of the time) keeps two null pointers
  // instead of about 400 bytes of empty containers.
  struct bookkeeping {
    // Messages: offered but not processed, processed but not yet saved,
    // and processed ids carried by the save in flight.
    std::map<std::uint64_t, pending_message> inbox;
    std::set<std::uint64_t> processed;
    std::vector<std::uint64_t> in_flight_processed;
    // Remote storage only: the Data bytes of the save in flight, which
    // become LastSavedData when it commits.
    std::shared_ptr<const std::string> in_flight_data;
    std::vector<caf::response_promise> waiting_current; // the save in flight
    std::vector<caf::response_promise> waiting_next;    // the next save
    std::vector<caf::response_promise> waiting_end;
    std::optional<session_ref> handoff_to;
    // Save replies that arrived while lent to a transaction.
    std::vector<std::function<void()>> deferred;
    // The transaction this profile is lent to (monitored while lent).
    caf::actor_addr borrower;
    // The reason of an exit that came while lent: the profile ends with it
    // once the transaction gives it back (return_from_transaction).
    std::optional<caf::error> exit_when_returned;
    // The node asked this profile to end for its shutdown: from then on a
    // refused final save answers the shutdown (the node keeps the session
    // rather than wait for it). Kept after a refusal: that refusal may be
    // out of date at the node (on_end_refused), and a later one must still
    // answer the shutdown.
    bool shutdown_asked = false;
    // The node's release, lost and lease-lost notices heard (wrapping, as
    // the node's count): a refusal tells the node how many, so that it can
    // tell a refusal made before its latest notice (node_actor.cpp,
    // on_end_refused).
    std::uint16_t end_asks_heard = 0;
  };
  std::unique_ptr<bookkeeping> book_;
  std::unique_ptr<profile_hooks> hooks_;

  bookkeeping& bk() {
    if (!book_)
      book_ = std::make_unique<bookkeeping>();
    return *book_;
  }
  const profile_hooks& hooks() const {
    static const profile_hooks none;
    return hooks_ ? *hooks_ : none;
  }
  profile_hooks& mutable_hooks() {
    if (!hooks_)
      hooks_ = std::make_unique<profile_hooks>();
    return *hooks_;
  }

  static inline const char* name = "profilestore.profile";

  void init(profile_actor_args& a) {
    spec_ = std::move(a.spec);
    key_ = std::move(a.key);
    session_ = a.session;
    data_ = a.data ? std::move(a.data) : spec_->factory->make_template();
    storage_ = std::move(a.reads);
    if (!storage_)
      saved_copy_ = std::make_shared<const std::string>(std::move(a.rec.data));
    info_ = a.info;
    key_metadata_ = decode_or_empty_map(a.rec.key_metadata);
    meta_tags_ = decode_or_empty_map(a.rec.meta.meta_tags);
    // The arguments are dropped after init (profile_behavior): moved, not
    // copied.
    meta_ = std::move(a.rec.meta);
    user_ids_ = std::move(a.rec.user_ids);
    auto& h = a.hooks;
    if (!h.on_save.empty() || !h.on_last_save.empty()
        || !h.on_session_end.empty() || !h.on_after_save.empty()
        || !h.message_handlers.empty())
      hooks_ = std::make_unique<profile_hooks>(std::move(h));
    node = std::move(a.node);
    writer = std::move(a.writer);
    shared = std::move(a.shared);
    if (!a.rec.updates.empty())
      update_book().stored = a.rec.updates;
    updates_known_through = a.rec.last_update_id;
    note_known_ids(a.rec.updates);
    merge_updates(a.rec.updates);
  }

  static value decode_or_empty_map(const std::string& bytes) {
    // Most profiles have no MetaTags or KeyMetaData: the encoded empty map
    // needs no decoder (about 400 instructions each, per session start).
    if (bytes == empty_msgpack_map)
      return value(value_map{});
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
      if (u.locked || bk().inbox.count(u.id) > 0 || bk().processed.count(u.id) > 0
          || std::find(bk().in_flight_processed.begin(), bk().in_flight_processed.end(),
                       u.id)
               != bk().in_flight_processed.end())
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
      bk().inbox.emplace(u.id, std::move(p));
    }
  }

  // A queue storage reported: its ids are known from now on.
  void note_known_ids(const std::vector<queued_update>& updates) {
    for (const auto& u : updates)
      updates_known_through = std::max(updates_known_through, u.id);
  }

  // Whether a notice tells of an update this session knows to be gone
  // (updates_known_through): a late notice, to be dropped.
  bool is_stale_notice(const queued_update& update) const {
    if (update.id > updates_known_through)
      return false;
    const auto& queue = stored_updates();
    return std::none_of(queue.begin(), queue.end(), [&](const queued_update& u) {
      return u.id == update.id;
    });
  }

  // A sender's new or changed update (a message, a global update), told at
  // once by storage through the node.
  void on_notice(const queued_update& update) {
    if (is_stale_notice(update))
      return;
    updates_known_through = std::max(updates_known_through, update.id);
    note_sent_update(update);
    merge_updates({update});
    deliver_messages();
  }

  // Messages in the inbox that no handler has processed yet.
  bool has_undelivered_messages() const {
    return book_ && !book_->inbox.empty();
  }

  // Offers every unprocessed message to every handler that has not seen it.
  void deliver_messages() {
    if (!active_ || lent)
      return;
    if (!book_ || book_->inbox.empty()) {
      after_callbacks();
      return;
    }
    bool any_processed = false;
    for (auto i = bk().inbox.begin(); i != bk().inbox.end();) {
      bool done = false;
      auto& p = i->second;
      while (!done && p.offered_to < hooks().message_handlers.size()) {
        auto& handler = hooks().message_handlers[p.offered_to++];
        // `processed` counts only while the handler runs (its changes are
        // in the data then, on this actor's thread). A handler may keep a
        // copy of it; a later call does nothing instead of writing to this
        // frame.
        auto mark_state = std::make_shared<processed_mark>();
        std::function<void()> mark = [mark_state] {
          if (mark_state->open)
            mark_state->done = true;
        };
        guarded("a message handler", [&] { handler(*this, p.msg, mark); });
        mark_state->open = false;
        done = mark_state->done;
      }
      if (done) {
        bk().processed.insert(i->first);
        i = bk().inbox.erase(i);
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
    req.processed_update_ids.assign(bk().processed.begin(), bk().processed.end());
    for (auto id : updates_to_clear())
      if (bk().processed.count(id) == 0)
        req.processed_update_ids.push_back(id);
    req.lock_update_ids.assign(updates_to_lock().begin(), updates_to_lock().end());
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
    for (auto& hook : hooks().on_save)
      guarded("on_save", [&] { hook(*this); });
    save_asked_ = false; // a hook asking for a save is this save
    auto req = build_request();
    if (ending) {
      req.final = bk().handoff_to ? final_action::handoff : final_action::release;
      req.handoff_to = bk().handoff_to;
    }
    bk().in_flight_processed = req.processed_update_ids;
    if (!storage_)
      bk().in_flight_data = std::make_shared<const std::string>(req.data);
    // Swapped, not moved: both vectors keep their buffers, so that the
    // next save's request costs no allocation (waiting_current is empty
    // here: every path that answers it clears it).
    std::swap(bk().waiting_current, bk().waiting_next);
    bk().waiting_next.clear();
    bool final = ending;
    in_flight_final = final;
    if (storage_) {
      // Beside its storage the profile checks its own bytes here, on its
      // own thread, so the writer (one thread for the whole node) skips the
      // MessagePack walks. A refusal is handled as the writer's would be,
      // before anything waits for a reply.
      auto ok = check_save_request(req, storage_->options().limits);
      if (!ok) {
        on_save_failed(ok.err(), final);
        return;
      }
      req.payloads_checked = true;
    }
    auto seq = ++save_seq;
    save_sent = self->clock().now();
    if (!deadline_pending)
      arm_deadline(consts().store_request_timeout);
    save_op op{spec_->name, key_, std::move(req)};
    self->request(writer, caf::infinite, std::move(op))
      .then(
        [this, final, seq](applied_op& applied) {
          if (seq != save_seq) {
            // Timed out already, and ignored; except a final save that
            // committed after all while the profile is still ending (its
            // reply comes before the reply of any retry: the writer answers
            // in order). The lock went with it, so a retry can only be
            // refused with not_owner, and the session ended with that
            // save's data: it ends as saved. (LastSavedData becomes the
            // data of the final save sent last, which differs from the
            // committed one only by what on_save hooks changed in between:
            // the profile took no other change while ending.)
            if (final && ending)
              on_saved(true, applied);
            return;
          }
          if (lent) {
            bk().deferred.emplace_back([this, final, applied, seq]() mutable {
              if (seq == save_seq)
                on_saved(final, applied);
            });
            return;
          }
          on_saved(final, applied);
        },
        [this, final, seq](caf::error& err) {
          if (seq != save_seq)
            return;
          auto e = from_caf_error(err);
          if (lent) {
            bk().deferred.emplace_back([this, e, final, seq] {
              if (seq == save_seq)
                on_save_failed(e, final);
            });
            return;
          }
          on_save_failed(e, final);
        });
  }

  void arm_deadline(duration after) {
    deadline_pending = true;
    self->delayed_send(self, after, deadline_atom::value);
  }

  // The deadline message: time out the save in flight if it is older than
  // STORE_REQUEST_TIMEOUT, else wait for it.
  void check_deadline() {
    deadline_pending = false;
    if (!saving)
      return;
    auto timeout = consts().store_request_timeout;
    auto waited = std::chrono::duration_cast<duration>(self->clock().now()
                                                       - save_sent);
    if (waited < timeout) {
      arm_deadline(timeout - waited);
      return;
    }
    ++save_seq; // its reply, should it come, is ignored
    on_save_failed(make_error(errc::timeout,
                              "the store writer did not answer a save of "
                                + key_ + " within STORE_REQUEST_TIMEOUT"),
                   in_flight_final);
  }

  // Remote storage only: the data as it is now becomes LastSavedData (after
  // a transaction's group save, which saved the data unchanged since).
  void keep_saved_copy_of_data() {
    if (storage_)
      return;
    auto bytes = std::make_shared<std::string>();
    data_->encode(*bytes);
    saved_copy_ = std::move(bytes);
  }

  // Bookkeeping of a committed save (own or a transaction's).
  void record_saved(const save_reply& reply,
                    const std::optional<key_info>& written,
                    const std::vector<std::uint64_t>& sent_processed) {
    meta_.session_load_count = reply.session_load_count;
    if (written)
      info_ = *written;
    for (auto id : sent_processed)
      bk().processed.erase(id);
    failures = 0;
    note_known_ids(reply.updates);
    merge_updates(reply.updates);
    note_stored_updates(reply.updates);
  }

  // The queue after a save: lock and clear requests it carried out are done.
  void note_stored_updates(const std::vector<queued_update>& updates) {
    if (!updates_ && updates.empty())
      return; // nothing queued, nothing asked: stay without the book
    auto& book = update_book();
    book.stored = updates;
    auto find = [&](std::uint64_t id) -> const queued_update* {
      for (const auto& u : book.stored)
        if (u.id == id)
          return &u;
      return nullptr;
    };
    for (auto i = book.lock_asked.begin(); i != book.lock_asked.end();) {
      auto* u = find(*i);
      i = (!u || u->locked) ? book.lock_asked.erase(i) : std::next(i);
    }
    for (auto i = book.clear_asked.begin(); i != book.clear_asked.end();)
      i = find(*i) ? std::next(i) : book.clear_asked.erase(i);
  }

  // A sender's new or changed update, told at once by storage.
  void note_sent_update(const queued_update& update) {
    auto& stored = update_book().stored;
    for (auto& u : stored)
      if (u.id == update.id) {
        if (update.version >= u.version && !u.locked)
          u = update;
        return;
      }
    stored.push_back(update);
  }

  void on_saved(bool final, applied_op& applied) {
    saving = false;
    const auto& reply = std::get<save_reply>(applied.reply);
    record_saved(reply, applied.written, bk().in_flight_processed);
    bk().in_flight_processed.clear();
    if (!storage_)
      saved_copy_ = std::move(bk().in_flight_data);
    for (auto& hook : hooks().on_after_save)
      guarded("on_after_save", [&] { hook(*this); });
    for (auto& rp : bk().waiting_current)
      rp.deliver(caf::unit);
    bk().waiting_current.clear();
    if (final) {
      finish(true);
      return;
    }
    // Another node waits for the key: end, handing the lock over. A profile
    // that is ending already only learns whom to hand it to.
    if (reply.force_load && !reply.force_load->same_process(session_))
      begin_end(last_save_reason::external, reply.force_load);
    deliver_messages(); // nothing while ending
    send_next_save();
  }

  // After a save that was not final (committed or refused): the next one,
  // if any is due and none is in flight. An ending profile always has its
  // final save to send: begin_end found this save in flight and left the
  // final save for now.
  void send_next_save() {
    if (saving)
      return;
    if (ending || save_again || !bk().waiting_next.empty())
      start_save();
  }

  void on_save_failed(const error& e, bool final) {
    saving = false;
    bk().in_flight_processed.clear();
    if (e.code() == errc::not_owner) {
      lose_session(e);
      return;
    }
    report(e);
    for (auto& rp : bk().waiting_current)
      rp.deliver(to_caf_error(e));
    bk().waiting_current.clear();
    if (is_request_error(e.code())) {
      if (final) {
        // The session stays: the caller can fix the data and end again.
        ending = false;
        active_ = true;
        bk().handoff_to.reset();
        for (auto& rp : bk().waiting_end)
          rp.deliver(to_caf_error(e));
        bk().waiting_end.clear();
        tell_node_end_refused(e);
      }
      // An end asked while this ordinary save was in flight still sends its
      // final save, whose own refusal (above) answers the end. A save merely
      // coalesced (save_again) waits for the next tick, as before: it would
      // most likely be refused for the same content.
      if (ending || !bk().waiting_next.empty())
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
      bk().handoff_to = std::move(to);
    if (ending)
      return;
    ending = true;
    active_ = false;
    end_reason = reason;
    for (auto& hook : hooks().on_last_save)
      guarded("on_last_save", [&] { hook(*this, reason); });
    start_save();
  }

  // The session is over: after the final save (saved = true) or when lost.
  void finish(bool saved) {
    active_ = false;
    tell_node_ended();
    for (auto& hook : hooks().on_session_end)
      guarded("on_session_end", [&] { hook(*this); });
    auto ended = saved ? caf::error{}
                       : to_caf_error(errc::session_ended,
                                      "the session of " + key_
                                        + " ended: another session owns it");
    for (auto& rp : bk().waiting_end) {
      if (saved)
        rp.deliver(caf::unit);
      else
        rp.deliver(ended);
    }
    bk().waiting_end.clear();
    for (auto& rp : bk().waiting_next)
      rp.deliver(to_caf_error(errc::session_ended,
                              "the session of " + key_ + " has ended"));
    bk().waiting_next.clear();
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

  // The final save was refused for its content and the session goes on:
  // the node must stop counting it as ending (a start of the key on this
  // node waiting for its end would wait in vain), and a shutdown waiting for
  // it learns that it stays.
  void tell_node_end_refused(const error& e) {
    self->send(node, refused_atom::value, spec_->mock, spec_->name, key_,
               session_.id, bk().end_asks_heard, e, bk().shutdown_asked);
  }

  void lose_session(const error& e) {
    active_ = false;
    tell_node_ended();
    report(make_error(errc::session_ended,
                      "session of " + key_ + " lost: " + e.message()));
    for (auto& rp : bk().waiting_current)
      rp.deliver(to_caf_error(e));
    bk().waiting_current.clear();
    finish(false);
  }
};

value profile_context::last_saved_data() const {
  if (!storage_) {
    auto v = saved_copy_ ? decode_msgpack(*saved_copy_) : result<value>(value{});
    return v ? std::move(*v) : value{};
  }
  auto found = storage_->get(spec_->name, key_, std::nullopt,
                             spec_->template_bytes.get());
  if (!found || !*found)
    return value{};
  auto v = decode_msgpack((*found)->rec.data);
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

// While lent, an exit (the node's end) must not destroy this state, which
// the transaction reads and writes through its context: it is kept and taken
// once the profile is given back. CAF's exit_reason::kill cannot be held
// (CAF ends the actor without asking), and the runtime never sends it.
void hold_exits_while_lent(profile_actor* self) {
  self->set_exit_handler([self](caf::exit_msg& msg) {
    if (msg.reason) // a normal exit reason ends nobody (CAF's default)
      self->state.bk().exit_when_returned = std::move(msg.reason);
  });
}

void return_from_transaction(profile_actor* self, return_outcome& outcome,
                             const std::vector<std::uint64_t>& sent) {
  auto& st = self->state;
  st.lent = false;
  self->demonitor(st.bk().borrower);
  st.bk().borrower = nullptr;
  self->unbecome();
  self->set_default_handler(caf::print_and_drop);
  self->set_exit_handler(nullptr); // CAF's default again
  if (auto& reason = st.bk().exit_when_returned) {
    // The exit that came while lent: end now, as the exit would have ended
    // the profile (no final save, no hooks), the transaction done with it.
    self->quit(std::move(*reason));
    return;
  }
  // Replies that arrived while lent answer saves sent before the lending,
  // which the writer applied before the group save: handle them first, so
  // that LastSavedData and the key info end as the group save left them.
  std::vector<std::function<void()>> deferred;
  if (st.book_)
    deferred.swap(st.book_->deferred);
  for (auto& f : deferred)
    f();
  if (outcome.saved) {
    st.record_saved(outcome.reply, outcome.written, sent);
    st.keep_saved_copy_of_data();
    for (auto& hook : st.hooks().on_after_save)
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
    args.reset();
  }
  // Messages that were queued when the session started go to the handlers
  // right after this (a message of its own, so that handlers run in a
  // handler, as everywhere else). A new session usually has none, and then
  // sends nothing: one message less per session start.
  if (self->state.has_undelivered_messages())
    self->send(self, notify_atom::value);
  // The only actor a profile monitors is the transaction it is lent to.
  self->set_down_handler([self](caf::down_msg& down) {
    auto& st = self->state;
    if (!st.lent || !st.book_ || down.source != st.book_->borrower)
      return;
    return_outcome unsaved;
    return_from_transaction(self, unsaved, {});
  });
  return {
    [self](retry_atom, std::uint64_t generation) {
      auto& st = self->state;
      if (generation == st.retry_generation && !st.saving)
        st.start_save();
    },
    [self](notify_atom, const queued_update& update) {
      self->state.on_notice(update);
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
      append(st.mutable_hooks().on_save, more.on_save);
      append(st.mutable_hooks().on_last_save, more.on_last_save);
      append(st.mutable_hooks().on_session_end, more.on_session_end);
      append(st.mutable_hooks().on_after_save, more.on_after_save);
      append(st.mutable_hooks().message_handlers, more.message_handlers);
      st.deliver_messages(); // new handlers see unprocessed messages
      return caf::unit;
    },
    [self](save_atom) -> caf::result<caf::unit_t> {
      auto& st = self->state;
      if (!st.is_active())
        return session_over(st);
      auto rp = self->make_response_promise();
      st.bk().waiting_next.push_back(rp);
      st.start_save();
      return rp;
    },
    [self](end_atom) -> caf::result<caf::unit_t> {
      auto& st = self->state;
      if (!st.is_active() && !st.ending)
        return session_over(st);
      auto rp = self->make_response_promise();
      st.bk().waiting_end.push_back(rp);
      st.begin_end(last_save_reason::manual, std::nullopt);
      return rp;
    },
    [self](release_atom, const session_ref& requester) {
      ++self->state.bk().end_asks_heard;
      self->state.begin_end(last_save_reason::external, requester);
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
        st.bk().processed.begin(), st.bk().processed.end());
      // A transaction that ends without returning the profile (one that
      // gave up on this lend while it waited in the mailbox behind another
      // transaction, and quit) would leave it lent for good, every other
      // message parked: the borrower is monitored, and its end returns the
      // profile as a failed transaction would (its data as the borrower
      // left it: unchanged unless the borrower died after its function ran,
      // which only an exception escaping the transaction's own code, such
      // as bad_alloc, could do).
      st.bk().borrower = caf::actor_cast<caf::actor_addr>(self->current_sender());
      self->monitor(st.bk().borrower);
      hold_exits_while_lent(self);
      self->set_default_handler(caf::skip);
      self->become(caf::keep_behavior,
                   [self, sent](return_atom, return_outcome& outcome) {
                     return_from_transaction(self, outcome, *sent);
                   });
      return lent_profile{&st};
    },
    // The runtime's own one-atom messages share one handler: each handler
    // of a CAF 0.17 behavior costs every profile about 30 bytes. Listed
    // last, so the public one-atom requests above match first.
    [self](caf::atom_value what) {
      auto& st = self->state;
      if (what == tick_atom::value) { // the node's auto-save schedule
        if (!st.ending)
          st.start_save();
      } else if (what == notify_atom::value) {
        st.deliver_messages();
      } else if (what == deadline_atom::value) {
        st.check_deadline();
      } else if (what == shutdown_atom::value) {
        st.bk().shutdown_asked = true;
        st.begin_end(last_save_reason::shutdown, std::nullopt);
      } else if (what == lost_atom::value) {
        // Storage overwrote or removed the key outside this session.
        ++st.bk().end_asks_heard;
        if (!st.told_node_ended)
          st.lose_session(make_error(errc::not_owner,
                                     "the key was overwritten or removed "
                                     "outside this session"));
      } else if (what == lease_lost_atom::value) {
        // The node could not renew its lease: another node may take the
        // lock any moment, so this session stops saving and ends.
        ++st.bk().end_asks_heard;
        if (!st.told_node_ended)
          st.lose_session(make_error(errc::unreachable,
                                     "the node could not renew its lease "
                                     "with storage in time"));
      }
    },
  };
}

} // namespace

caf::actor spawn_profile_actor(caf::actor_system& sys,
                               std::shared_ptr<profile_actor_args> args) {
  return sys.spawn(profile_behavior, std::move(args));
}

} // namespace profilestore
