// profile_data: a profile's in-memory data, either a dynamic `value` or a
// typed struct adapted with MSGPACK_DEFINE_MAP, behind one interface so that
// the profile actor, saves and `transact` need not know which.
//
// A store opened with a `value` template holds value_data; a store opened
// with a struct T holds typed_data<T>, where fields missing from stored bytes
// keep the defaults of T (the typed form of Reconcile).
//
// Thread safety: none; a profile_data belongs to one profile actor (or, while
// lent to a transaction, to that transaction).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>

#include "profilestore/codec/limits.hpp"
#include "profilestore/codec/msgpack.hpp"
#include "profilestore/codec/typed.hpp"
#include "profilestore/codec/value.hpp"
#include "profilestore/result.hpp"

namespace profilestore {

class profile_data {
public:
  virtual ~profile_data() = default;

  // Appends the MessagePack encoding of the data to `out`.
  virtual void encode(std::string& out) const = 0;
  // A deep copy.
  virtual std::unique_ptr<profile_data> clone() const = 0;
  // Fills missing keys from the store's template (value data; typed data
  // gets its defaults from the struct and does nothing here).
  virtual void reconcile(std::string_view template_bytes) = 0;
  // The data as a dynamic value (decoded from its encoding for typed data).
  virtual value to_value() const = 0;

  // The typed struct, or nullptr when the data is not a T.
  template <class T>
  T* get_if() noexcept {
    return static_cast<T*>(raw(typeid(T)));
  }
  template <class T>
  const T* get_if() const noexcept {
    return static_cast<const T*>(const_cast<profile_data*>(this)->raw(typeid(T)));
  }

protected:
  virtual void* raw(const std::type_info& type) noexcept = 0;
};

class value_data final : public profile_data {
public:
  explicit value_data(value v) : data_(std::move(v)) {}

  void encode(std::string& out) const override { encode_msgpack(data_, out); }
  std::unique_ptr<profile_data> clone() const override {
    return std::make_unique<value_data>(data_);
  }
  void reconcile(std::string_view template_bytes) override {
    auto tmpl = decode_msgpack(template_bytes);
    if (tmpl)
      data_.reconcile(*tmpl);
  }
  value to_value() const override { return data_; }

  value& get() noexcept { return data_; }

protected:
  void* raw(const std::type_info& type) noexcept override {
    return type == typeid(value) ? &data_ : nullptr;
  }

private:
  value data_;
};

template <class T>
class typed_data final : public profile_data {
public:
  explicit typed_data(T v) : data_(std::move(v)) {}

  void encode(std::string& out) const override {
    auto before = out.size();
    encode_typed(data_, out, last_size_);
    last_size_ = static_cast<std::uint32_t>(out.size() - before);
  }
  std::unique_ptr<profile_data> clone() const override {
    return std::make_unique<typed_data<T>>(data_);
  }
  void reconcile(std::string_view) override {}
  value to_value() const override {
    auto v = profilestore::to_value(data_);
    return v ? std::move(*v) : value{};
  }

protected:
  void* raw(const std::type_info& type) noexcept override {
    return type == typeid(T) ? &data_ : nullptr;
  }

private:
  T data_;
  // The size of the last encoding, reserved before the next one.
  mutable std::uint32_t last_size_ = 0;
};

// How a store turns stored Data bytes into its profile_data (the store's
// template decides: dynamic or typed). Decoding runs under `limits`.
class data_factory {
public:
  virtual ~data_factory() = default;
  virtual result<std::unique_ptr<profile_data>>
  decode(std::string_view bytes, const decode_limits& limits) const = 0;
  // The template's data, copied from a decoded original (new profiles get
  // this without decoding the template's bytes again).
  virtual std::unique_ptr<profile_data> make_template() const = 0;
};

class value_data_factory final : public data_factory {
public:
  explicit value_data_factory(value tmpl) : template_(std::move(tmpl)) {}

  std::unique_ptr<profile_data> make_template() const override {
    return std::make_unique<value_data>(template_);
  }

  result<std::unique_ptr<profile_data>>
  decode(std::string_view bytes, const decode_limits& limits) const override {
    auto v = decode_msgpack(bytes, limits);
    if (!v)
      return v.err();
    return std::unique_ptr<profile_data>(
      std::make_unique<value_data>(std::move(*v)));
  }

private:
  value template_;
};

template <class T>
class typed_data_factory final : public data_factory {
public:
  explicit typed_data_factory(T defaults) : defaults_(std::move(defaults)) {}

  std::unique_ptr<profile_data> make_template() const override {
    return std::make_unique<typed_data<T>>(defaults_);
  }
  result<std::unique_ptr<profile_data>>
  decode(std::string_view bytes, const decode_limits& limits) const override {
    T out = defaults_;
    auto r = decode_typed(bytes, out, limits);
    if (!r)
      return r.err();
    return std::unique_ptr<profile_data>(
      std::make_unique<typed_data<T>>(std::move(out)));
  }

private:
  T defaults_;
};

} // namespace profilestore
