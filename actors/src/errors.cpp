#include "profilestore/actors/errors.hpp"

#include <caf/atom.hpp>
#include <caf/exit_reason.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace profilestore {

caf::atom_value error_category() noexcept {
  return caf::atom("profilesto");
}

caf::error to_caf_error(const error& err) {
  return to_caf_error(err.code(), err.message());
}

caf::error to_caf_error(errc code, std::string message) {
  return caf::error(static_cast<std::uint8_t>(code), error_category(),
                    caf::make_message(std::move(message)));
}

error from_caf_error(const caf::error& err) {
  if (!err)
    return make_error(errc::internal, "an empty error was reported");
  if (err.category() == error_category()) {
    std::string text;
    if (err.context().match_elements<std::string>())
      text = err.context().get_as<std::string>(0);
    return make_error(static_cast<errc>(err.code()), std::move(text));
  }
  if (err.category() == caf::atom("system")) {
    switch (static_cast<caf::sec>(err.code())) {
      case caf::sec::request_timeout:
        return make_error(errc::timeout, "the request timed out");
      case caf::sec::request_receiver_down:
      case caf::sec::no_route_to_receiving_node:
      case caf::sec::remote_linking_failed:
      case caf::sec::cannot_connect_to_node:
      case caf::sec::disconnect_during_handshake:
        return make_error(errc::unreachable,
                          "the receiver is down or cannot be reached ("
                            + caf::to_string(static_cast<caf::sec>(err.code()))
                            + ")");
      default:
        return make_error(errc::internal,
                          "actor system error: "
                            + caf::to_string(static_cast<caf::sec>(err.code())));
    }
  }
  if (err.category() == caf::atom("exit"))
    return make_error(errc::unreachable, "the receiver has exited");
  return make_error(errc::internal, "unexpected error of category "
                                      + caf::to_string(err.category()));
}

} // namespace profilestore
