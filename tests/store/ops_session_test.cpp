// The session-lock rules S1-S6, fencing and hand-off, on both backends.
#include "profilestore/store/node_directory.hpp"
#include "store_harness.hpp"

using namespace profilestore;
using namespace profilestore::testing;

namespace {

const session_ref alpha = session_of("alpha", 1);
const session_ref beta = session_of("beta", 7);
const session_ref gamma_ = session_of("gamma", 9);

} // namespace

BOTH_BACKENDS(start_creates_profile,
              "a start on an absent key creates the profile from the "
              "template and takes the lock") {
  auto reply = h.start("p1", alpha);
  CHECK(reply.outcome == start_outcome::started);
  CHECK(reply.created);
  CHECK_FALSE(reply.overwritten);
  REQUIRE(reply.rec);
  CHECK(value_of(reply.rec->data)
        == value::object({{"coins", 0}, {"items", value_array{}}}));
  CHECK(reply.rec->meta.active_session == alpha);
  CHECK(reply.rec->meta.session_load_count == 1);
  CHECK(reply.rec->meta.profile_create_time == h.now());
  CHECK(reply.rec->meta.last_update == h.now());
  auto stored = h.stored("p1");
  CHECK(stored.meta.active_session == alpha);
}

BOTH_BACKENDS(free_lock_taken,
              "a start on a released lock takes it and counts the load") {
  h.start("p1", alpha);
  REQUIRE(h.save("p1", h.save_of(alpha, value::object({{"coins", 5}}),
                                 final_action::release))
            .ok());
  CHECK_FALSE(h.stored("p1").meta.active_session);
  auto reply = h.start("p1", beta);
  REQUIRE(reply.outcome == start_outcome::started);
  CHECK_FALSE(reply.created);
  CHECK(reply.rec->meta.session_load_count == 2);
  CHECK(value_of(reply.rec->data) == value::object({{"coins", 5}}));
}

BOTH_BACKENDS(held_lock_records_requester,
              "a start while another process holds the lock records the "
              "requester in ForceLoadSession") {
  h.start("p1", alpha);
  auto reply = h.start("p1", beta);
  CHECK(reply.outcome == start_outcome::locked);
  CHECK(reply.owner == alpha);
  CHECK_FALSE(reply.rec);
  auto stored = h.stored("p1");
  CHECK(stored.meta.active_session == alpha);
  CHECK(stored.meta.force_load_session == beta);
  CHECK(stored.meta.session_load_count == 1);
}

BOTH_BACKENDS(newest_requester_wins,
              "the newest requester replaces an older one in "
              "ForceLoadSession") {
  h.start("p1", alpha);
  h.start("p1", beta);
  CHECK(h.start("p1", gamma_).outcome == start_outcome::locked);
  CHECK(h.stored("p1").meta.force_load_session == gamma_);
  CHECK(h.start("p1", beta, false).outcome == start_outcome::superseded);
  CHECK(h.stored("p1").meta.force_load_session == gamma_);
}

BOTH_BACKENDS(retry_by_current_requester,
              "a retry by the current requester stays locked without "
              "writing") {
  h.start("p1", alpha);
  h.start("p1", beta);
  auto before = h.versions("p1").size();
  CHECK(h.start("p1", beta, false).outcome == start_outcome::locked);
  CHECK(h.versions("p1").size() == before);
}

BOTH_BACKENDS(own_process_retakes,
              "a start from the owner's own process takes the lock again") {
  h.start("p1", alpha);
  auto again = session_of("alpha", 2); // same node and incarnation, new id
  auto reply = h.start("p1", again);
  CHECK(reply.outcome == start_outcome::started);
  CHECK(reply.rec->meta.active_session == again);
  CHECK(reply.rec->meta.session_load_count == 2);
}

BOTH_BACKENDS(restarted_incarnation_takes,
              "a start from a restarted incarnation of the owner's node "
              "takes the lock") {
  h.start("p1", alpha);
  auto restarted = session_of("alpha", 1, 2);
  CHECK(h.start("p1", restarted).outcome == start_outcome::started);
  // The old incarnation is fenced off.
  auto old_save = h.save("p1", h.save_of(alpha, value::object({})));
  REQUIRE_FALSE(old_save.ok());
  CHECK(old_save.err().code() == errc::not_owner);
}

BOTH_BACKENDS(older_incarnation_cannot_take,
              "an older incarnation cannot take the lock from a newer one") {
  h.start("p1", session_of("alpha", 1, 5));
  CHECK(h.start("p1", session_of("alpha", 2, 4)).outcome
        == start_outcome::locked);
}

BOTH_BACKENDS(assume_dead_takes,
              "a lock whose last update is older than ASSUME_DEAD is taken "
              "at once") {
  h.start("p1", alpha);
  h.advance(630'001);
  auto reply = h.start("p1", beta);
  CHECK(reply.outcome == start_outcome::started);
  CHECK(reply.rec->meta.active_session == beta);
}

BOTH_BACKENDS(assume_dead_boundary,
              "a lock exactly ASSUME_DEAD old is still respected") {
  h.start("p1", alpha);
  h.advance(630'000);
  CHECK(h.start("p1", beta).outcome == start_outcome::locked);
}

BOTH_BACKENDS(owner_saves_refresh_liveness,
              "saves by the owner keep the lock from being assumed dead") {
  h.start("p1", alpha);
  for (int i = 0; i < 5; ++i) {
    h.advance(300'000);
    REQUIRE(h.save("p1", h.save_of(alpha, value::object({{"n", i}}))).ok());
  }
  h.advance(600'000);
  CHECK(h.start("p1", beta).outcome == start_outcome::locked);
}

BOTH_BACKENDS(steal_takes, "a steal takes a held lock") {
  h.start("p1", alpha);
  auto reply = h.start("p1", beta, true, true);
  CHECK(reply.outcome == start_outcome::started);
  auto fenced = h.save("p1", h.save_of(alpha, value::object({})));
  REQUIRE_FALSE(fenced.ok());
  CHECK(fenced.err().code() == errc::not_owner);
}

BOTH_BACKENDS(expired_lease_takes,
              "an expired owner lease lets the requester take the lock") {
  h.start("p1", alpha);
  REQUIRE(renew_lease(h.inner(), alpha.node, alpha.incarnation, "", 1000,
                      h.now())
            .ok());
  start_session_op op{test_store, "p1", {}, h.template_data()};
  op.request.requester = beta;
  // While the lease runs the lock holds ...
  auto r = h.run(op);
  REQUIRE(r.ok());
  CHECK(std::get<start_session_reply>(r->reply).outcome
        == start_outcome::locked);
  // ... and once it ran out the requester takes it (rule S3).
  h.advance(1000);
  op.request.first_attempt = false;
  r = h.run(op);
  REQUIRE(r.ok());
  CHECK(std::get<start_session_reply>(r->reply).outcome
        == start_outcome::started);
}

BOTH_BACKENDS(owner_lease_claim_ignored,
              "a requester's own claim that the owner's lease expired is "
              "ignored: only the node directory decides") {
  h.start("p1", alpha);
  start_session_op op{test_store, "p1", {}, h.template_data()};
  op.request.requester = beta;
  op.request.owner_lease_expired = true;
  auto r = h.run(op);
  REQUIRE(r.ok());
  CHECK(std::get<start_session_reply>(r->reply).outcome
        == start_outcome::locked);
}

BOTH_BACKENDS(owner_restart_in_directory,
              "a newer incarnation of the owner's node in the directory "
              "frees the old process's locks for any node") {
  h.start("p1", alpha);
  REQUIRE(renew_lease(h.inner(), alpha.node, alpha.incarnation + 1, "", 60'000,
                      h.now())
            .ok());
  // The old process can no longer renew.
  auto stale = renew_lease(h.inner(), alpha.node, alpha.incarnation, "",
                           60'000, h.now());
  REQUIRE_FALSE(stale.ok());
  CHECK(stale.err().code() == errc::conflict);
  start_session_op op{test_store, "p1", {}, h.template_data()};
  op.request.requester = beta;
  auto r = h.run(op);
  REQUIRE(r.ok());
  CHECK(std::get<start_session_reply>(r->reply).outcome
        == start_outcome::started);
}

BOTH_BACKENDS(owner_save_writes_everything,
              "a save by the owner writes data, tags, user ids, key metadata "
              "and LastUpdate") {
  h.start("p1", alpha);
  h.advance(1000);
  auto req = h.save_of(alpha, value::object({{"coins", 42}}));
  req.meta_tags = bytes_of(value::object({{"tag", "x"}}));
  req.user_ids = {1001, 1002};
  req.key_metadata = bytes_of(value::object({{"region", "eu"}}));
  auto r = h.save("p1", req);
  REQUIRE_MESSAGE(r.ok(), r.err().to_string());
  auto rec = h.stored("p1");
  CHECK(value_of(rec.data) == value::object({{"coins", 42}}));
  CHECK(value_of(rec.meta.meta_tags) == value::object({{"tag", "x"}}));
  CHECK(rec.user_ids == std::vector<std::int64_t>{1001, 1002});
  CHECK(value_of(rec.key_metadata) == value::object({{"region", "eu"}}));
  CHECK(rec.meta.last_update == h.now());
  CHECK(rec.meta.active_session == alpha);
  REQUIRE(r->written);
  CHECK(r->written->user_ids == std::vector<std::int64_t>{1001, 1002});
  CHECK(value_of(r->written->key_metadata)
        == value::object({{"region", "eu"}}));
}

BOTH_BACKENDS(fencing_refuses_non_owner,
              "a save from a session that does not own the key is refused "
              "and changes nothing") {
  h.start("p1", alpha);
  auto before = h.stored("p1");
  auto versions_before = h.versions("p1").size();
  auto stranger = session_of("alpha", 99, 1); // right process, wrong session
  auto r = h.save("p1", h.save_of(stranger, value::object({{"coins", 1e6}})));
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code() == errc::not_owner);
  CHECK(r.err().message().find("alpha#1/1") != std::string::npos);
  CHECK(h.versions("p1").size() == versions_before);
  CHECK(encode_record(h.stored("p1")) == encode_record(before));
}

BOTH_BACKENDS(save_after_remove_refused,
              "a save on a removed profile is refused") {
  h.start("p1", alpha);
  REQUIRE(h.run(remove_op{test_store, "p1"}).ok());
  auto r = h.save("p1", h.save_of(alpha, value::object({})));
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code() == errc::not_owner);
  auto got = h.store().get(test_store, "p1");
  REQUIRE(got.ok());
  CHECK_FALSE(got->has_value());
}

BOTH_BACKENDS(final_save_releases, "a final save releases the lock") {
  h.start("p1", alpha);
  auto r = h.save("p1", h.save_of(alpha, value::object({{"coins", 3}}),
                                  final_action::release));
  REQUIRE(r.ok());
  auto& reply = std::get<save_reply>(r->reply);
  CHECK(reply.released);
  CHECK_FALSE(reply.handed_off);
  CHECK_FALSE(h.stored("p1").meta.active_session);
  // The released session can no longer write.
  CHECK(h.save("p1", h.save_of(alpha, value::object({}))).err().code()
        == errc::not_owner);
}

BOTH_BACKENDS(handoff_in_one_write,
              "a hand-off save gives the lock to the waiting requester in the "
              "same write") {
  h.start("p1", alpha);
  h.start("p1", beta);
  auto req = h.save_of(alpha, value::object({{"coins", 77}}),
                       final_action::handoff);
  req.handoff_to = beta;
  auto versions_before = h.versions("p1").size();
  auto r = h.save("p1", req);
  REQUIRE(r.ok());
  auto& reply = std::get<save_reply>(r->reply);
  CHECK(reply.handed_off);
  CHECK(reply.new_owner == beta);
  CHECK(h.versions("p1").size() == versions_before + 1);
  auto rec = h.stored("p1");
  CHECK(rec.meta.active_session == beta);
  CHECK_FALSE(rec.meta.force_load_session);
  CHECK(rec.meta.session_load_count == 2);
  CHECK(value_of(rec.data) == value::object({{"coins", 77}}));
  // The requester's next attempt finds the lock already its own: it starts
  // without counting the load a second time.
  auto retry = h.start("p1", beta, /*first_attempt=*/false);
  CHECK(retry.outcome == start_outcome::started);
  CHECK(h.stored("p1").meta.session_load_count == 2);
  // The new owner saves; the old one is fenced.
  CHECK(h.save("p1", h.save_of(beta, value::object({{"coins", 78}}))).ok());
  CHECK(h.save("p1", h.save_of(alpha, value::object({}))).err().code()
        == errc::not_owner);
}

BOTH_BACKENDS(handoff_to_departed_requester_releases,
              "a hand-off to a requester that no longer asks releases "
              "instead") {
  h.start("p1", alpha);
  h.start("p1", beta);
  h.start("p1", gamma_); // gamma asked after beta
  auto req = h.save_of(alpha, value::object({}), final_action::handoff);
  req.handoff_to = beta;
  auto r = h.save("p1", req);
  REQUIRE(r.ok());
  auto& reply = std::get<save_reply>(r->reply);
  CHECK_FALSE(reply.handed_off);
  CHECK(reply.released);
  CHECK_FALSE(h.stored("p1").meta.active_session);
  // gamma's retry now finds the lock free.
  CHECK(h.start("p1", gamma_, false).outcome == start_outcome::started);
}

BOTH_BACKENDS(save_reports_waiting_requester,
              "a save tells the owner that another requester waits") {
  h.start("p1", alpha);
  auto r1 = h.save("p1", h.save_of(alpha, value::object({})));
  REQUIRE(r1.ok());
  CHECK_FALSE(std::get<save_reply>(r1->reply).force_load);
  h.start("p1", beta);
  auto r2 = h.save("p1", h.save_of(alpha, value::object({})));
  REQUIRE(r2.ok());
  CHECK(std::get<save_reply>(r2->reply).force_load == beta);
}

BOTH_BACKENDS(handoff_request_needs_target,
              "a hand-off save without a target is invalid") {
  h.start("p1", alpha);
  auto r = h.save("p1", h.save_of(alpha, value::object({}),
                                  final_action::handoff));
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code() == errc::invalid_argument);
}

BOTH_BACKENDS(save_processes_messages,
              "a save removes processed messages and keeps those sent "
              "meanwhile") {
  h.start("p1", alpha);
  REQUIRE(h.message("p1", value::object({{"gift", 1}})).ok());
  REQUIRE(h.message("p1", value::object({{"gift", 2}})).ok());
  auto req = h.save_of(alpha, value::object({{"coins", 1}}));
  req.processed_update_ids = {1};
  auto r = h.save("p1", req);
  REQUIRE(r.ok());
  auto& reply = std::get<save_reply>(r->reply);
  REQUIRE(reply.updates.size() == 1);
  CHECK(reply.updates[0].id == 2);
  auto rec = h.stored("p1");
  REQUIRE(rec.updates.size() == 1);
  CHECK(value_of(rec.updates[0].data) == value::object({{"gift", 2}}));
  CHECK(rec.last_update_id == 2);
}

BOTH_BACKENDS(save_locks_updates,
              "a save marks the listed updates locked") {
  h.start("p1", alpha);
  REQUIRE(h.message("p1", value::object({{"gift", 1}})).ok());
  REQUIRE(h.message("p1", value::object({{"gift", 2}})).ok());
  auto req = h.save_of(alpha, value::object({}));
  req.lock_update_ids = {2, 5};
  REQUIRE(h.save("p1", req).ok());
  auto rec = h.stored("p1");
  REQUIRE(rec.updates.size() == 2);
  CHECK_FALSE(rec.updates[0].locked);
  CHECK(rec.updates[1].locked);
}

TEST_CASE("the pure start_session function writes nothing on a superseded "
          "retry") {
  record rec = make_new_profile(encode_msgpack(value::object({})), 0);
  rec.meta.active_session = alpha;
  rec.meta.force_load_session = gamma_;
  current_record current{rec, false};
  start_session_request req;
  req.requester = beta;
  req.first_attempt = false;
  auto change = start_session(current, req, {}, 10);
  REQUIRE(change.ok());
  CHECK(change->reply.outcome == start_outcome::superseded);
  CHECK_FALSE(change->write);
}
