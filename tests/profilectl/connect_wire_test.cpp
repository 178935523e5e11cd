// The administration protocol of a storage node (admin_messages.hpp): its
// wire types survive a round trip, hostile or truncated bytes are an error
// and never a crash, and a write request is all or nothing on the node.
#include <doctest/doctest.h>

#include "admin_messages.hpp"
#include "cluster_harness.hpp"
#include "node_connection.hpp"
#include "profilestore/codec/json.hpp"
#include "profilestore/codec/msgpack.hpp"
#include "wire_codec.hpp"

using namespace profilestore;
using namespace profilestore::testing;
using namespace std::chrono_literals;

namespace {

std::string data_of(const std::string& json) {
  auto v = from_json(json);
  REQUIRE(v.ok());
  return encode_msgpack(*v);
}

// Every strict prefix of an encoding fails to decode, and so does the
// encoding with any single byte flipped to 0xc1 (never used by MessagePack)
// unless it still decodes to something: what matters is that no input
// crashes. Returns how many prefixes failed.
template <class T>
std::size_t hostile_bytes_are_errors(const T& x) {
  std::string bytes = wire::encode(x);
  std::size_t failed = 0;
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    T out;
    if (wire::decode(std::string_view(bytes.data(), n), out))
      ++failed;
  }
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(0xc1);
    T out;
    (void) wire::decode(bad, out);
  }
  return failed;
}

} // namespace

TEST_CASE("admin scan requests and pages survive the wire, and truncated ones are errors") {
  admin_scan_request req;
  req.tab = table::versions;
  req.from = scan_from::before;
  req.key = std::string("Players\0u\0", 10);
  req.max_entries = 17;
  req.max_bytes = 4096;
  admin_scan_request back;
  REQUIRE_FALSE(wire::decode(wire::encode(req), back));
  CHECK(back.tab == table::versions);
  CHECK(back.from == scan_from::before);
  CHECK(back.key == req.key);
  CHECK(back.max_entries == 17);
  CHECK(back.max_bytes == 4096);

  admin_scan_page page;
  page.entries = {{"a", std::string("\x00\x01", 2)}, {"b", ""}};
  page.complete = true;
  admin_scan_page page_back;
  REQUIRE_FALSE(wire::decode(wire::encode(page), page_back));
  CHECK(page_back.entries == page.entries);
  CHECK(page_back.complete);

  std::string bytes = wire::encode(req);
  CHECK(hostile_bytes_are_errors(req) == bytes.size());
  CHECK(hostile_bytes_are_errors(page) == wire::encode(page).size());
}

TEST_CASE("an admin scan asking for an unknown table or more than the node sends is refused or clamped") {
  admin_scan_request req;
  req.max_entries = 1u << 31;
  req.max_bytes = 1u << 31;
  admin_scan_request back;
  REQUIRE_FALSE(wire::decode(wire::encode(req), back));
  CHECK(back.max_entries == max_scan_entries);
  CHECK(back.max_bytes == max_scan_bytes);
  req.tab = static_cast<table>(9);
  CHECK(wire::decode(wire::encode(req), back));
}

TEST_CASE("admin writes carry set, message and remove only, and survive the wire") {
  admin_write_request req;
  set_request s;
  s.data = data_of(R"({"coins": 3})");
  s.user_ids = {4};
  req.ops.push_back(set_op{"S", "a", s});
  message_request m;
  m.data = data_of(R"({"gift": 1})");
  req.ops.push_back(message_op{"S", "a", m});
  req.ops.push_back(remove_op{"S", "b"});
  admin_write_request back;
  REQUIRE_FALSE(wire::decode(wire::encode(req), back));
  REQUIRE(back.ops.size() == 3);
  CHECK(std::get<set_op>(back.ops[0]).request.data == s.data);
  CHECK(std::get<set_op>(back.ops[0]).request.user_ids == s.user_ids);
  CHECK(std::get<message_op>(back.ops[1]).request.data == m.data);
  CHECK(std::get<remove_op>(back.ops[2]).key == "b");
  CHECK(hostile_bytes_are_errors(req) == wire::encode(req).size());

  // A session operation is no administration write: refused on decoding.
  admin_write_request session;
  session.ops.push_back(start_session_op{"S", "a", {}, nullptr});
  CHECK(wire::decode(wire::encode(session), back));

  admin_write_reply reply;
  reply.failure = admin_write_failure{2, errc::message_queue_full, "full"};
  admin_write_reply reply_back;
  REQUIRE_FALSE(wire::decode(wire::encode(reply), reply_back));
  REQUIRE(reply_back.failure);
  CHECK(reply_back.failure->index == 2);
  CHECK(reply_back.failure->code == errc::message_queue_full);
  CHECK(reply_back.failure->message == "full");

  admin_prune_request prune;
  prune.resume_after = "S\0k";
  prune.retention_ms = 5;
  admin_prune_request prune_back;
  REQUIRE_FALSE(wire::decode(wire::encode(prune), prune_back));
  CHECK(prune_back.retention_ms == 5);
  CHECK(hostile_bytes_are_errors(prune) == wire::encode(prune).size());
  admin_prune_reply pr;
  pr.progress.keys_visited = 3;
  pr.progress.complete = true;
  admin_prune_reply pr_back;
  REQUIRE_FALSE(wire::decode(wire::encode(pr), pr_back));
  CHECK(pr_back.progress.keys_visited == 3);
  CHECK(pr_back.progress.complete);
}

TEST_CASE("an admin write refused by the storage node reports the operation and writes none of them") {
  temp_dir dir{"admin-write"};
  storage_node node(dir.path());
  node.start();
  auto conn = ctl::node_connection::open(node.where(), {}, 10s);
  REQUIRE_OK(conn);

  admin_write_request req;
  set_request s;
  s.data = data_of(R"({"coins": 3})");
  req.ops.push_back(set_op{"S", "a", s});
  req.ops.push_back(set_op{"S", "", s}); // an empty key is refused
  auto reply = (*conn)->write(req);
  REQUIRE_OK(reply);
  REQUIRE(reply->failure);
  CHECK(reply->failure->index == 1);
  CHECK(reply->failure->code == errc::invalid_key);
  CHECK(reply->applied.empty());
  auto got = node.actors().shared_storage->get("S", "a");
  REQUIRE_OK(got);
  CHECK_FALSE(got->has_value());

  req.ops.pop_back();
  auto ok = (*conn)->write(req);
  REQUIRE_OK(ok);
  CHECK_FALSE(ok->failure);
  REQUIRE(ok->applied.size() == 1);
  REQUIRE(ok->applied[0].written);
  CHECK(ok->applied[0].written->version == 1);

  // Scans: every page bounded, the walk complete at the end.
  admin_scan_request scan;
  scan.tab = table::heads;
  auto page = (*conn)->scan(scan);
  REQUIRE_OK(page);
  REQUIRE(page->entries.size() == 1);
  CHECK(page->complete);
}
