// The storage operation behind ProfileService's senders (store/ops.hpp rules
// U1-U4), on the memory backend, and its wire form between nodes.
#include <doctest/doctest.h>

#include "profilestore/actors/errors.hpp"
#include "profilestore/codec/msgpack.hpp"
#include "profilestore/store/memory_backend.hpp"
#include "profilestore/store/storage.hpp"
#include "wire_codec.hpp"

using namespace profilestore;

namespace {

constexpr std::int64_t now = 1'767'225'600'000;

update_edit add(const value& v) {
  return update_edit{update_edit_kind::add, 0, encode_msgpack(v)};
}
update_edit change(std::uint64_t id, const value& v) {
  return update_edit{update_edit_kind::change, id, encode_msgpack(v)};
}
update_edit clear(std::uint64_t id) {
  return update_edit{update_edit_kind::clear, id, {}};
}

struct store_fixture {
  memory_backend backend;
  storage st{backend};

  result<edit_updates_reply> edit(std::vector<update_edit> edits) {
    edit_updates_op op;
    op.store = "players";
    op.key = "user-1";
    op.request.edits = std::move(edits);
    auto r = st.apply(op, now);
    if (!r)
      return r.err();
    return std::get<edit_updates_reply>(r->reply);
  }

  record stored() {
    auto r = st.get("players", "user-1");
    REQUIRE(r.ok());
    REQUIRE(r->has_value());
    return (*r)->rec;
  }

  // The owner's save that locks `lock` and removes `clear_ids`.
  void owner_save(const session_ref& s, std::vector<std::uint64_t> lock,
                  std::vector<std::uint64_t> clear_ids = {}) {
    save_op op;
    op.store = "players";
    op.key = "user-1";
    op.request.session = s;
    op.request.data = encode_msgpack(value(value_map{}));
    op.request.lock_update_ids = std::move(lock);
    op.request.processed_update_ids = std::move(clear_ids);
    REQUIRE(st.apply(op, now).ok());
  }

  session_ref start() {
    start_session_op op;
    op.store = "players";
    op.key = "user-1";
    op.request.requester = session_ref{"game-a", 1, 1};
    op.template_data
      = std::make_shared<const std::string>(encode_msgpack(value(value_map{})));
    auto r = st.apply(op, now);
    REQUIRE(r.ok());
    REQUIRE(std::get<start_session_reply>(r->reply).outcome
            == start_outcome::started);
    return op.request.requester;
  }
};

} // namespace

TEST_CASE("edit_updates adds active updates to a profile never created and they survive its creation") {
  store_fixture f;
  auto r = f.edit({add(value::object({{"gift", 5}})), add(value("two"))});
  REQUIRE(r.ok());
  CHECK(r->added_ids == std::vector<std::uint64_t>{1, 2});
  CHECK_FALSE(r->owner.has_value());
  f.start();
  auto rec = f.stored();
  REQUIRE(rec.updates.size() == 2);
  CHECK(rec.updates[0].version == 1);
  CHECK_FALSE(rec.updates[0].locked);
}

TEST_CASE("edit_updates changes an active update with version plus one and clears another") {
  store_fixture f;
  REQUIRE(f.edit({add(value(1)), add(value(2))}).ok());
  auto r = f.edit({change(1, value(10)), clear(2)});
  REQUIRE(r.ok());
  REQUIRE(r->updates.size() == 1);
  CHECK(r->updates[0].id == 1);
  CHECK(r->updates[0].version == 2);
  CHECK(*decode_msgpack(r->updates[0].data) == value(10));
}

TEST_CASE("edit_updates refuses to change or clear a locked update and writes none of the request") {
  store_fixture f;
  auto owner = f.start();
  REQUIRE(f.edit({add(value(1)), add(value(2))}).ok());
  f.owner_save(owner, {1});
  REQUIRE(f.stored().updates[0].locked);

  auto changed = f.edit({clear(2), change(1, value(9))});
  REQUIRE_FALSE(changed.ok());
  CHECK(changed.err().code() == errc::invalid_argument);
  CHECK(changed.err().message().find("locked") != std::string::npos);
  auto cleared = f.edit({clear(1)});
  REQUIRE_FALSE(cleared.ok());
  CHECK(cleared.err().code() == errc::invalid_argument);
  // All or none: update 2 is still there, update 1 unchanged.
  auto rec = f.stored();
  REQUIRE(rec.updates.size() == 2);
  CHECK(rec.updates[0].version == 1);
  CHECK(*decode_msgpack(rec.updates[0].data) == value(1));
}

TEST_CASE("edit_updates answers not_found for an unknown id and names the owner to notify") {
  store_fixture f;
  auto missing = f.edit({clear(7)});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.err().code() == errc::not_found);
  auto owner = f.start();
  auto r = f.edit({add(value(1))});
  REQUIRE(r.ok());
  REQUIRE(r->owner.has_value());
  CHECK(*r->owner == owner);
  auto empty = f.edit({});
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.err().code() == errc::invalid_argument);
}

TEST_CASE("edit_updates obeys the queue limit and refuses bytes that are not MessagePack") {
  store_fixture f;
  edit_updates_op op;
  op.store = "players";
  op.key = "user-1";
  op.request.max_queue = 2;
  op.request.edits = {add(value(1)), add(value(2)), add(value(3))};
  auto full = f.st.apply(op, now);
  REQUIRE_FALSE(full.ok());
  CHECK(full.err().code() == errc::message_queue_full);
  REQUIRE(f.edit({add(value(1))}).ok());
  auto bad = f.edit({update_edit{update_edit_kind::change, 1,
                                 std::string("\xc1", 1)}});
  REQUIRE_FALSE(bad.ok());
  CHECK(f.stored().updates.size() == 1);
}

TEST_CASE("an edit_updates operation and its reply survive the wire unchanged") {
  edit_updates_op op;
  op.store = "players";
  op.key = "user-1";
  op.request.edits = {add(value(1)), change(3, value("x")), clear(4)};
  op.request.max_queue = 17;
  edit_updates_op back;
  auto err = wire::decode(wire::encode(op), back);
  REQUIRE_MESSAGE(!err, from_caf_error(err).message());
  CHECK(back.store == op.store);
  CHECK(back.key == op.key);
  CHECK(back.request.max_queue == 17);
  REQUIRE(back.request.edits.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(back.request.edits[i].kind == op.request.edits[i].kind);
    CHECK(back.request.edits[i].id == op.request.edits[i].id);
    CHECK(back.request.edits[i].data == op.request.edits[i].data);
  }

  applied_op applied;
  edit_updates_reply reply;
  reply.updates = {queued_update{3, 2, true, encode_msgpack(value("x"))}};
  reply.added_ids = {5};
  reply.owner = session_ref{"game-a", 2, 9};
  applied.reply = reply;
  applied_op applied_back;
  err = wire::decode(wire::encode(applied), applied_back);
  REQUIRE_MESSAGE(!err, from_caf_error(err).message());
  const auto& r = std::get<edit_updates_reply>(applied_back.reply);
  CHECK(r.updates == reply.updates);
  CHECK(r.added_ids == reply.added_ids);
  CHECK(r.owner == reply.owner);

  // An edit kind beyond the known ones is refused, not guessed.
  auto bytes = wire::encode(op);
  auto pos = bytes.find(std::string("\x93\x02", 2)); // the clear edit
  REQUIRE(pos != std::string::npos);
  bytes[pos + 1] = '\x07';
  CHECK(wire::decode(bytes, back));
}
