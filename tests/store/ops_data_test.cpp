// Messages, set, remove and the input limits, on both backends.
#include "result_checks.hpp"
#include "store_harness.hpp"

using namespace profilestore;
using namespace profilestore::testing;

namespace {

const session_ref alpha = session_of("alpha", 1);

// A map {"b": <bin>} whose encoding is exactly n bytes (n >= 5): a map
// header and the key take 3 bytes, the bin header 2, 3 or 5.
std::string blob_of_size(std::size_t n) {
  for (std::size_t header : {2, 3, 5}) {
    auto bytes = encode_msgpack(
      value::object({{"b", binary(n - 3 - header, 0x5a)}}));
    if (bytes.size() == n)
      return bytes;
  }
  FAIL("no blob of " << n << " bytes");
  return {};
}

} // namespace

BOTH_BACKENDS(message_to_absent_key,
              "a message to an absent key creates a messages-only record "
              "that a later start keeps") {
  auto r = h.message("p1", value::object({{"gift", "sword"}}));
  REQUIRE(r.ok());
  CHECK(std::get<message_reply>(r->reply).id == 1);
  CHECK_FALSE(std::get<message_reply>(r->reply).owner);
  auto got = h.store().get(test_store, "p1");
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  CHECK_FALSE((*got)->rec.has_profile);
  auto reply = h.start("p1", alpha);
  CHECK(reply.created);
  REQUIRE(reply.rec->updates.size() == 1);
  CHECK(value_of(reply.rec->updates[0].data)
        == value::object({{"gift", "sword"}}));
}

BOTH_BACKENDS(message_ids_and_owner,
              "message ids increase and the reply names the owner") {
  h.start("p1", alpha);
  for (std::uint64_t i = 1; i <= 3; ++i) {
    auto r = h.message("p1", value::object({{"n", static_cast<int>(i)}}));
    REQUIRE(r.ok());
    auto& reply = std::get<message_reply>(r->reply);
    CHECK(reply.id == i);
    CHECK(reply.owner == alpha);
  }
  CHECK(h.stored("p1").updates.size() == 3);
}

BOTH_BACKENDS(full_queue_refuses,
              "a full message queue refuses the sender and drops nothing") {
  for (int i = 0; i < 5; ++i)
    REQUIRE(h.message("p1", value::object({{"n", i}}), 5).ok());
  auto r = h.message("p1", value::object({{"n", 5}}), 5);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code() == errc::message_queue_full);
  CHECK(r.err().message().find("MAX_MESSAGE_QUEUE") != std::string::npos);
  auto got = h.store().get(test_store, "p1");
  REQUIRE(got.ok());
  auto& rec = (*got)->rec;
  REQUIRE(rec.updates.size() == 5);
  CHECK(value_of(rec.updates.front().data) == value::object({{"n", 0}}));
  CHECK(value_of(rec.updates.back().data) == value::object({{"n", 4}}));
}

BOTH_BACKENDS(default_queue_limit,
              "the storage default MAX_MESSAGE_QUEUE applies when the request "
              "names none") {
  for (int i = 0; i < 1000; ++i)
    REQUIRE(h.message("p1", value(i)).ok());
  auto r = h.message("p1", value(1000));
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code() == errc::message_queue_full);
}

BOTH_BACKENDS(queued_bytes_limited,
              "the total bytes of queued messages are limited") {
  std::size_t big = 60 * 1024;
  std::size_t sent = 0;
  for (; sent < 100; ++sent) {
    auto r = h.run(message_op{test_store, "p1",
                              message_request{blob_of_size(big), 0}});
    if (!r.ok()) {
      CHECK(r.err().code() == errc::message_queue_full);
      break;
    }
  }
  CHECK(sent == (std::size_t{4} << 20) / big);
}

BOTH_BACKENDS(oversized_message_refused, "an oversized message is refused") {
  auto r = h.run(message_op{test_store, "p1",
                            message_request{blob_of_size(65 * 1024), 0}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code() == errc::message_too_large);
  auto got = h.store().get(test_store, "p1");
  REQUIRE(got.ok());
  CHECK_FALSE(got->has_value());
}

BOTH_BACKENDS(malformed_message_refused,
              "a message that is not MessagePack is refused") {
  auto r = h.run(message_op{test_store, "p1",
                            message_request{std::string("\xdd\xff\xff\xff\xff",
                                                        5),
                                            0}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code() == errc::malformed_input);
}

BOTH_BACKENDS(set_overwrites_and_ends_session,
              "set overwrites the data, clears both session fields and "
              "reports the previous owner") {
  h.start("p1", alpha);
  h.start("p1", session_of("beta", 2));
  REQUIRE(h.message("p1", value("gift")).ok());
  set_request req;
  req.data = bytes_of(value::object({{"coins", 500}}));
  req.user_ids = {7};
  auto r = h.run(set_op{test_store, "p1", req});
  REQUIRE(r.ok());
  CHECK(std::get<set_reply>(r->reply).previous_owner == alpha);
  auto rec = h.stored("p1");
  CHECK(value_of(rec.data) == value::object({{"coins", 500}}));
  CHECK_FALSE(rec.meta.active_session);
  CHECK_FALSE(rec.meta.force_load_session);
  CHECK(rec.user_ids == std::vector<std::int64_t>{7});
  CHECK(rec.updates.size() == 1); // messages survive a set
  CHECK(h.save("p1", h.save_of(alpha, value::object({}))).err().code()
        == errc::not_owner);
}

BOTH_BACKENDS(set_creates_profile, "set on an absent key creates the profile") {
  set_request req;
  req.data = bytes_of(value::object({{"coins", 1}}));
  auto r = h.run(set_op{test_store, "p1", req});
  REQUIRE(r.ok());
  CHECK_FALSE(std::get<set_reply>(r->reply).previous_owner);
  auto rec = h.stored("p1");
  CHECK(rec.has_profile);
  CHECK(rec.meta.profile_create_time == h.now());
  CHECK(rec.meta.session_load_count == 0);
}

BOTH_BACKENDS(remove_writes_tombstone,
              "remove writes a tombstone and the version before it stays "
              "readable") {
  h.start("p1", alpha);
  REQUIRE(h.save("p1", h.save_of(alpha, value::object({{"coins", 9}}),
                                 final_action::release))
            .ok());
  auto before = h.versions("p1");
  h.advance(10);
  auto r = h.run(remove_op{test_store, "p1"});
  REQUIRE(r.ok());
  CHECK(std::get<remove_reply>(r->reply).existed);
  REQUIRE(r->written);
  CHECK(r->written->deleted);
  auto got = h.store().get(test_store, "p1");
  REQUIRE(got.ok());
  CHECK_FALSE(got->has_value());
  auto after = h.versions("p1");
  REQUIRE(after.size() == before.size() + 1);
  CHECK(after.back().deleted);
  auto old = h.store().get(test_store, "p1", before.back().version);
  REQUIRE(old.ok());
  REQUIRE(old->has_value());
  CHECK(value_of((*old)->rec.data) == value::object({{"coins", 9}}));
  // The key no longer lists, unless asked.
  auto keys = h.store().list_keys(test_store);
  REQUIRE(keys.ok());
  CHECK(keys->keys.empty());
  auto all = h.store().list_keys(test_store, "", "", 10, true);
  REQUIRE(all.ok());
  CHECK(all->keys == std::vector<std::string>{"p1"});
}

BOTH_BACKENDS(remove_absent_writes_nothing,
              "removing an absent key writes nothing") {
  auto r = h.run(remove_op{test_store, "nobody"});
  REQUIRE(r.ok());
  CHECK_FALSE(std::get<remove_reply>(r->reply).existed);
  CHECK_FALSE(r->written);
  CHECK(h.versions("nobody").empty());
}

BOTH_BACKENDS(start_after_remove_is_fresh,
              "a start after a remove creates a fresh profile with a new "
              "creation time") {
  h.start("p1", alpha);
  REQUIRE(h.save("p1", h.save_of(alpha, value::object({{"coins", 9}}),
                                 final_action::release))
            .ok());
  REQUIRE(h.run(remove_op{test_store, "p1"}).ok());
  h.advance(5000);
  auto reply = h.start("p1", alpha);
  CHECK(reply.created);
  CHECK(value_of(reply.rec->data)
        == value::object({{"coins", 0}, {"items", value_array{}}}));
  CHECK(reply.rec->meta.profile_create_time == h.now());
  auto versions = h.versions("p1");
  CHECK(versions.back().created_time == h.now());
}

// ---- limits ---------------------------------------------------------------------

BOTH_BACKENDS(data_over_limit_refused,
              "data over the size limit is refused and nothing is written") {
  h.start("p1", alpha);
  auto before = h.versions("p1").size();
  save_request req;
  req.session = alpha;
  req.data = blob_of_size((std::size_t{4} << 20) + 1);
  auto r = h.save("p1", req);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code() == errc::data_too_large);
  CHECK(h.versions("p1").size() == before);
  req.data = blob_of_size(std::size_t{4} << 20);
  CHECK(h.save("p1", req).ok());
}

BOTH_BACKENDS(data_limit_configurable, "the data size limit is configurable") {
  (void) h;
  storage_options o = every_write_versioned();
  o.limits.max_data_bytes = 100;
  store_harness small(h.kind(), o);
  small.start("p1", alpha);
  save_request req;
  req.session = alpha;
  req.data = blob_of_size(101);
  CHECK(small.save("p1", req).err().code() == errc::data_too_large);
  req.data = blob_of_size(100);
  CHECK(small.save("p1", req).ok());
}

BOTH_BACKENDS(key_metadata_limit,
              "key metadata over 300 encoded bytes is refused") {
  h.start("p1", alpha);
  auto req = h.save_of(alpha, value::object({}));
  req.key_metadata = blob_of_size(301);
  auto r = h.save("p1", req);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code() == errc::metadata_too_large);
  req.key_metadata = blob_of_size(300);
  CHECK(h.save("p1", req).ok());
}

BOTH_BACKENDS(user_id_limit, "more than 64 user ids are refused") {
  h.start("p1", alpha);
  auto req = h.save_of(alpha, value::object({}));
  req.user_ids.assign(65, 1);
  CHECK(h.save("p1", req).err().code() == errc::too_many_user_ids);
  req.user_ids.assign(64, 1);
  CHECK(h.save("p1", req).ok());
}

BOTH_BACKENDS(data_must_be_container,
              "data that is not a map or an array is refused") {
  h.start("p1", alpha);
  auto r = h.save("p1", h.save_of(alpha, value(5)));
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code() == errc::invalid_argument);
  CHECK(h.save("p1", h.save_of(alpha, value::array({1, 2}))).ok());
}

BOTH_BACKENDS(malformed_data_refused,
              "malformed data bytes are refused with a clear error") {
  h.start("p1", alpha);
  save_request req;
  req.session = alpha;
  req.data = std::string("\x82\xa1", 2); // a map cut short
  auto r = h.save("p1", req);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code() == errc::malformed_input);
  CHECK(r.err().message().rfind("Data: ", 0) == 0);
}

BOTH_BACKENDS(checked_payloads_keep_limits,
              "a save whose sender checked its payloads skips only the "
              "MessagePack walks: sizes and counts are still enforced") {
  h.start("p1", alpha);
  save_request req;
  req.session = alpha;
  req.payloads_checked = true;
  req.data = blob_of_size((std::size_t{4} << 20) + 1);
  CHECK(h.save("p1", req).err().code() == errc::data_too_large);
  req.data = bytes_of(value::object({{"coins", 1}}));
  req.user_ids.assign(65, 1);
  CHECK(h.save("p1", req).err().code() == errc::too_many_user_ids);
  req.user_ids.clear();
  req.meta_tags.clear();
  CHECK(h.save("p1", req).err().code() == errc::invalid_argument);
  req.meta_tags = empty_msgpack_map;
  CHECK(h.save("p1", req).ok());
  // Without the flag the same malformed bytes are walked and refused.
  req.payloads_checked = false;
  req.data = std::string("\x82\xa1", 2);
  CHECK(h.save("p1", req).err().code() == errc::malformed_input);
}

BOTH_BACKENDS(template_checked_each_time_until_valid,
              "a malformed template is refused at every start, and a valid "
              "one is remembered without letting another through") {
  auto start_with = [&](const std::string& key, std::string tmpl) {
    start_session_op op{test_store, key, {},
                        std::make_shared<const std::string>(std::move(tmpl))};
    op.request.requester = alpha;
    return h.run(op);
  };
  const std::string bad("\x82\xa1", 2);
  for (int i = 0; i < 2; ++i) {
    auto r = start_with("bad", bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code() == errc::malformed_input);
  }
  // More valid templates than storage remembers, then the first again.
  for (int i = 0; i < 20; ++i)
    REQUIRE_OK(start_with("k" + std::to_string(i),
                          bytes_of(value::object({{"n", i}}))));
  REQUIRE_OK(start_with("again", bytes_of(value::object({{"n", 0}}))));
  CHECK(start_with("bad2", bad).err().code() == errc::malformed_input);
  CHECK(start_with("scalar", bytes_of(value(5))).err().code()
        == errc::invalid_argument);
}

BOTH_BACKENDS(store_name_rules,
              "store names must be 1 to 64 bytes without NUL") {
  auto try_store = [&](std::string store) {
    return h.run(message_op{std::move(store), "k",
                            message_request{bytes_of(value(1)), 0}});
  };
  CHECK(try_store("").err().code() == errc::invalid_store_name);
  CHECK(try_store(std::string(65, 's')).err().code()
        == errc::invalid_store_name);
  CHECK(try_store(std::string("a\0b", 3)).err().code()
        == errc::invalid_store_name);
  CHECK(try_store(std::string(64, 's')).ok());
  auto stores = h.store().list_stores();
  REQUIRE(stores.ok());
  CHECK(*stores == std::vector<std::string>{std::string(64, 's')});
}

BOTH_BACKENDS(key_rules, "profile keys must be 1 to 256 bytes without NUL") {
  auto try_key = [&](std::string key) {
    return h.message(std::move(key), value(1));
  };
  CHECK(try_key("").err().code() == errc::invalid_key);
  CHECK(try_key(std::string(257, 'k')).err().code() == errc::invalid_key);
  CHECK(try_key(std::string("a\0b", 3)).err().code() == errc::invalid_key);
  CHECK(try_key(std::string(256, 'k')).ok());
  CHECK(try_key("\xff\xfe unicode \xc3\xa9").ok());
  auto bad_get = h.store().get(test_store, "");
  REQUIRE_FALSE(bad_get.ok());
  CHECK(bad_get.err().code() == errc::invalid_key);
}
