// The bytes of remote messages (actors/src/wire_codec.hpp): every type comes
// back equal, and hostile or truncated bytes are clear errors, never crashes.
#include <doctest/doctest.h>

#include <random>

#include "profilestore/actors/errors.hpp"
#include "wire_codec.hpp"

using namespace profilestore;

namespace {

save_op sample_save() {
  save_op op;
  op.store = "players";
  op.key = "user-1";
  op.request.session = session_ref{"game-a", 3, 17};
  op.request.data = std::string("\x81\xa5" "coins" "\x05", 8);
  op.request.user_ids = {1, -2};
  op.request.processed_update_ids = {4, 5};
  op.request.lock_update_ids = {6};
  op.request.final = final_action::handoff;
  op.request.handoff_to = session_ref{"game-b", 1, 2};
  return op;
}

std::string error_text(const caf::error& e) {
  return from_caf_error(e).message();
}

} // namespace

TEST_CASE("a save operation survives the wire unchanged") {
  auto op = sample_save();
  save_op back;
  auto err = wire::decode(wire::encode(op), back);
  REQUIRE_MESSAGE(!err, error_text(err));
  CHECK(back.store == op.store);
  CHECK(back.key == op.key);
  CHECK(back.request.session == op.request.session);
  CHECK(back.request.data == op.request.data);
  CHECK(back.request.meta_tags == op.request.meta_tags);
  CHECK(back.request.user_ids == op.request.user_ids);
  CHECK(back.request.key_metadata == op.request.key_metadata);
  CHECK(back.request.processed_update_ids == op.request.processed_update_ids);
  CHECK(back.request.lock_update_ids == op.request.lock_update_ids);
  CHECK(back.request.final == final_action::handoff);
  REQUIRE(back.request.handoff_to);
  CHECK(*back.request.handoff_to == *op.request.handoff_to);
}

TEST_CASE("a sender's word that it checked its payloads does not cross the "
          "wire: the storage node checks them itself") {
  auto op = sample_save();
  op.request.payloads_checked = true;
  save_op back;
  auto err = wire::decode(wire::encode(op), back);
  REQUIRE_MESSAGE(!err, error_text(err));
  CHECK_FALSE(back.request.payloads_checked);
}

TEST_CASE("a start reply with its record and a group of key infos survive the wire") {
  start_session_reply r;
  r.outcome = start_outcome::started;
  r.rec = make_new_profile(std::string("\x80", 1), 1234);
  r.rec->meta.active_session = session_ref{"game-a", 1, 9};
  r.rec->updates.push_back(queued_update{3, 1, false, std::string("\x01", 1)});
  r.rec->last_update_id = 3;
  r.created = true;
  applied_op a{op_reply{r}, key_info{}, {}};
  a.written->version = 2;
  a.written->user_ids = {5};
  a.group_written.push_back(key_info{});
  applied_op back;
  auto err = wire::decode(wire::encode(a), back);
  REQUIRE_MESSAGE(!err, error_text(err));
  auto& br = std::get<start_session_reply>(back.reply);
  CHECK(br.outcome == start_outcome::started);
  REQUIRE(br.rec);
  CHECK(br.rec->meta.profile_create_time == 1234);
  CHECK(*br.rec->meta.active_session == *r.rec->meta.active_session);
  CHECK(br.rec->updates == r.rec->updates);
  CHECK(br.created);
  REQUIRE(back.written);
  CHECK(back.written->version == 2);
  CHECK(back.written->user_ids == std::vector<std::int64_t>{5});
  CHECK(back.group_written.size() == 1);
}

TEST_CASE("every truncation and random corruption of a wire blob is an error") {
  auto bytes = wire::encode(sample_save());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    save_op out;
    CHECK(wire::decode(std::string_view(bytes).substr(0, n), out));
  }
  std::mt19937 rng(20261123); // fixed seed
  for (int round = 0; round < 2000; ++round) {
    auto mutated = bytes;
    auto at = rng() % mutated.size();
    mutated[at] = static_cast<char>(rng());
    save_op out;
    (void) wire::decode(mutated, out); // may decode (a changed id); never crashes
  }
  save_op out;
  auto err = wire::decode(std::string("\xdd\xff\xff\xff\xff", 5), out);
  REQUIRE(err);
  CHECK(from_caf_error(err).code() == errc::malformed_input);
}

TEST_CASE("a peer of another wire version is told so") {
  auto bytes = wire::encode(sample_save());
  REQUIRE(bytes[1] == 1); // [version, payload]: version is the second byte
  bytes[1] = 2;
  save_op out;
  auto err = wire::decode(bytes, out);
  REQUIRE(err);
  CHECK(error_text(err).find("wire version 2") != std::string::npos);
}

TEST_CASE("a user payload that is not MessagePack is refused on the way in") {
  auto op = sample_save();
  op.request.data = std::string("\xc1", 1); // never valid
  save_op out;
  auto err = wire::decode(wire::encode(op), out);
  REQUIRE(err);
  CHECK(error_text(err).find("data") != std::string::npos);
}
