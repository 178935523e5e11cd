// Scenario "codec": our MessagePack paths against raw msgpack-c on the same
// data. Dynamic values: encode_msgpack vs msgpack::pack of the equivalent
// msgpack::object, decode_msgpack vs msgpack::unpack (the baseline also gets
// limits, as any decode of untrusted bytes must). Typed structs:
// encode_typed/decode_typed vs msgpack::pack/unpack+convert of the struct.
#include <msgpack.hpp>

#include "bench.hpp"
#include "profiles.hpp"
#include "profilestore/codec/msgpack.hpp"
#include "profilestore/codec/typed.hpp"

namespace profilestore::bench {
namespace {

constexpr double max_ratio = 1.5;

std::string size_label(std::size_t bytes) {
  return bytes >= 1024 ? std::to_string(bytes / 1024) + " KiB"
                       : std::to_string(bytes) + " B";
}

std::vector<figure> measure(std::size_t bytes, const options& opts) {
  int repeats = opts.quick ? 3 : 7;
  std::chrono::milliseconds min_time(opts.quick ? 20 : 200);
  std::vector<figure> out;
  std::string label = size_label(bytes);

  value v = make_value_profile(bytes);
  std::string encoded = encode_msgpack(v);
  auto handle = msgpack::unpack(encoded.data(), encoded.size());
  msgpack::object raw_tree = handle.get();
  auto limits = detail::to_unpack_limit(decode_limits{});

  std::string buf;
  double ours = median_ns_per_op([&] {
    buf.clear();
    encode_msgpack(v, buf);
    keep(buf.data());
  }, repeats, min_time);
  double raw = median_ns_per_op([&] {
    msgpack::sbuffer sb;
    msgpack::pack(sb, raw_tree);
    keep(sb.data());
  }, repeats, min_time);
  out.push_back(time_figure("encode " + label + " value", ours,
                            "msgpack::pack(object)", raw, max_ratio));

  ours = median_ns_per_op([&] {
    auto r = decode_msgpack(encoded);
    keep(&r);
  }, repeats, min_time);
  raw = median_ns_per_op([&] {
    auto h = msgpack::unpack(encoded.data(), encoded.size(), nullptr, nullptr,
                             limits);
    keep(&h);
  }, repeats, min_time);
  out.push_back(time_figure("decode " + label + " value", ours,
                            "msgpack::unpack", raw, max_ratio));

  sample_profile typed = make_typed_profile(bytes);
  std::string typed_bytes = encode_typed(typed);
  ours = median_ns_per_op([&] {
    buf.clear();
    encode_typed(typed, buf);
    keep(buf.data());
  }, repeats, min_time);
  raw = median_ns_per_op([&] {
    msgpack::sbuffer sb;
    msgpack::pack(sb, typed);
    keep(sb.data());
  }, repeats, min_time);
  out.push_back(time_figure("encode " + label + " typed", ours,
                            "msgpack::pack(struct)", raw, max_ratio));

  ours = median_ns_per_op([&] {
    sample_profile p;
    auto r = decode_typed(typed_bytes, p);
    keep(&r);
    keep(&p);
  }, repeats, min_time);
  raw = median_ns_per_op([&] {
    sample_profile p;
    auto h = msgpack::unpack(typed_bytes.data(), typed_bytes.size(), nullptr,
                             nullptr, limits);
    h.get().convert(p);
    keep(&p);
  }, repeats, min_time);
  out.push_back(time_figure("decode " + label + " typed", ours,
                            "msgpack::unpack+convert", raw, max_ratio));
  return out;
}

std::vector<figure> run(const options& opts) {
  auto small = measure(1024, opts);
  auto large = measure(64 * 1024, opts);
  small.insert(small.end(), large.begin(), large.end());
  return small;
}

registrar reg("codec",
              "MessagePack encode/decode of 1 KiB and 64 KiB profiles vs raw "
              "msgpack-c",
              run);

} // namespace
} // namespace profilestore::bench
