// base64.cpp: Base64 (RFC 4648 section 4, standard alphabet, with padding)
// for binaries in the JSON view.
//
// Decoding is strict so that every binary has exactly one spelling: the
// length must be a multiple of 4, '=' may only pad the end, whitespace and
// other characters are refused, and the unused bits before padding must be
// zero (RFC 4648 section 3.5).
#include <array>

#include "profilestore/codec/json.hpp"

namespace profilestore {

namespace {

constexpr char alphabet[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr int not_base64 = -1;

constexpr std::array<int, 256> make_decode_table() {
  std::array<int, 256> table{};
  for (auto& entry : table)
    entry = not_base64;
  for (int i = 0; i < 64; ++i)
    table[static_cast<unsigned char>(alphabet[i])] = i;
  return table;
}

constexpr auto decode_table = make_decode_table();

error bad_base64(std::string message) {
  return make_error(errc::malformed_input,
                    "invalid base64: " + std::move(message));
}

// Checks length and padding; returns how many '=' end the text.
result<std::size_t> check_shape(std::string_view text) {
  if (text.size() % 4 != 0)
    return bad_base64("length " + std::to_string(text.size())
                      + " is not a multiple of 4");
  std::size_t padding = 0;
  while (padding < 2 && padding < text.size()
         && text[text.size() - 1 - padding] == '=')
    ++padding;
  return padding;
}

} // namespace

std::string base64_encode(const binary& bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t group = (std::uint32_t{bytes[i]} << 16)
                          | (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    for (int shift = 18; shift >= 0; shift -= 6)
      out += alphabet[(group >> shift) & 0x3f];
  }
  std::size_t rest = bytes.size() - i;
  if (rest == 0)
    return out;
  std::uint32_t group = std::uint32_t{bytes[i]} << 16;
  if (rest == 2)
    group |= std::uint32_t{bytes[i + 1]} << 8;
  out += alphabet[(group >> 18) & 0x3f];
  out += alphabet[(group >> 12) & 0x3f];
  out += rest == 2 ? alphabet[(group >> 6) & 0x3f] : '=';
  out += '=';
  return out;
}

result<binary> base64_decode(std::string_view text) {
  auto padding = check_shape(text);
  if (!padding)
    return std::move(padding).err();
  std::size_t digits = text.size() - *padding;
  binary out;
  out.reserve(digits * 3 / 4);
  std::uint32_t bits = 0;
  int bit_count = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    int sextet = decode_table[static_cast<unsigned char>(text[i])];
    if (sextet == not_base64)
      return bad_base64("unexpected character at position "
                        + std::to_string(i));
    bits = (bits << 6) | static_cast<std::uint32_t>(sextet);
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      out.push_back(static_cast<std::uint8_t>(bits >> bit_count));
      bits &= (1u << bit_count) - 1;
    }
  }
  if (bits != 0)
    return bad_base64("non-zero bits before the padding");
  return out;
}

} // namespace profilestore
