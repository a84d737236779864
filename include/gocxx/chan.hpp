// gocxx::Chan and gocxx::select — Go's channels.
//
//   gocxx::Chan<int> ch;        unbuffered          ch.send(1);  auto v = ch.recv();
//   gocxx::Chan<int> ch(100);   buffered, cap 100   for (int v : ch) ...  // until closed
//   gocxx::select(gocxx::recv_case(ch, [](std::optional<int> v) {...}),
//                 gocxx::send_case(out, 42, [] {...}),
//                 gocxx::default_case([] {...}));
//
// A Chan is a handle: copies share one channel. Operations follow Go exactly, including the
// panics ("send on closed channel", "close of closed channel", "close of nil channel") and nil
// channels that block forever. The algorithms live in src/runtime/chan.cpp and select.cpp; this
// header only adapts element types.
#pragma once

#include <array>
#include <cstddef>
#include <iterator>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

namespace gocxx {

namespace detail {

// How the type-erased channel core moves and destroys elements of one type.
struct ElemOps {
  std::size_t size;
  std::size_t align;
  void (*move_construct)(void* dst, void* src);
  void (*destroy)(void* elem) noexcept;
  bool trivial;  // trivially copyable: the core moves it with memcpy
};

template <class T>
inline constexpr ElemOps elem_ops_for{
    sizeof(T), alignof(T),
    [](void* dst, void* src) { ::new (dst) T(std::move(*static_cast<T*>(src))); },
    [](void* elem) noexcept { static_cast<T*>(elem)->~T(); },
    std::is_trivially_copyable_v<T>};

struct ChanCore;
ChanCore* chan_make(const ElemOps& ops, std::size_t capacity);
void chan_retain(ChanCore* c) noexcept;
void chan_release(ChanCore* c) noexcept;
void chan_send(ChanCore* c, void* src);
bool chan_recv(ChanCore* c, void* dst);  // false: closed and drained
void chan_close(ChanCore* c);
std::size_t chan_len(const ChanCore* c);
std::size_t chan_cap(const ChanCore* c);

struct SelectCase {
  ChanCore* chan;  // nullptr: a nil channel, never ready
  void* elem;      // send: the value to move from; receive: raw storage to construct into
  bool is_send;
};
// Runs Go's select over `cases`. Returns the index of the case that proceeded, or -1 when
// `block` is false and none was ready. For a receive, *received is false if the channel was
// closed (nothing was constructed in elem).
int select(SelectCase* cases, int count, bool block, bool* received);

// Raw, aligned storage for one received element.
template <class T>
struct Slot {
  alignas(T) unsigned char bytes[sizeof(T)];
  T* get() { return std::launder(reinterpret_cast<T*>(bytes)); }
  std::optional<T> take(bool received) {
    if (!received) return std::nullopt;
    std::optional<T> value(std::move(*get()));
    get()->~T();
    return value;
  }
};

}  // namespace detail

template <class T>
class Chan {
  // Elements move under the channel lock (src/runtime/chan_core.hpp), so moves must not throw.
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "gocxx::Chan<T>: T must be nothrow-move-constructible (wrap it in std::unique_ptr)");

 public:
  using value_type = T;

  // An unbuffered channel.
  Chan() : Chan(std::size_t{0}) {}
  // A channel with a buffer of `capacity` elements (0: unbuffered).
  explicit Chan(std::size_t capacity) : core_(detail::chan_make(detail::elem_ops_for<T>, capacity)) {}
  // The nil channel: blocks forever on send and receive, never ready in select.
  static Chan nil() { return Chan(NilTag{}); }

  Chan(const Chan& other) noexcept : core_(other.core_) {
    if (core_) detail::chan_retain(core_);
  }
  Chan(Chan&& other) noexcept : core_(std::exchange(other.core_, nullptr)) {}
  Chan& operator=(Chan other) noexcept {
    std::swap(core_, other.core_);
    return *this;
  }
  ~Chan() {
    if (core_) detail::chan_release(core_);
  }

  void send(T value) { detail::chan_send(core_, &value); }
  // The next value; std::nullopt once the channel is closed and drained.
  std::optional<T> recv() {
    detail::Slot<T> slot;
    return slot.take(detail::chan_recv(core_, slot.bytes));
  }
  void close() { detail::chan_close(core_); }
  std::size_t len() const { return detail::chan_len(core_); }
  std::size_t cap() const { return detail::chan_cap(core_); }
  bool is_nil() const { return core_ == nullptr; }

  friend bool operator==(const Chan& a, const Chan& b) { return a.core_ == b.core_; }

  // Range-for receives until the channel is closed and drained: for (T v : ch).
  class iterator {
   public:
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(Chan* chan) : chan_(chan) { ++*this; }
    T& operator*() { return *value_; }
    iterator& operator++() {
      value_ = chan_->recv();
      if (!value_) chan_ = nullptr;
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& a, const iterator& b) { return a.chan_ == b.chan_; }

   private:
    Chan* chan_ = nullptr;
    std::optional<T> value_;
  };
  iterator begin() { return iterator(this); }
  iterator end() { return iterator(); }

  detail::ChanCore* core() const { return core_; }

 private:
  struct NilTag {};
  explicit Chan(NilTag) : core_(nullptr) {}
  detail::ChanCore* core_;
};

// ---- select -------------------------------------------------------------------------------

namespace detail {
template <class C>
inline constexpr bool is_chan = false;
template <class T>
inline constexpr bool is_chan<Chan<T>> = true;
}  // namespace detail

// A case refers to its channel without touching the reference count when given an lvalue (the
// channel outlives the select expression); a temporary channel is moved into the case.
template <class T>
struct CaseChan {
  Chan<T> owned = Chan<T>::nil();
  detail::ChanCore* core = nullptr;
  explicit CaseChan(const Chan<T>& c) : core(c.core()) {}
  explicit CaseChan(Chan<T>&& c) : owned(std::move(c)), core(owned.core()) {}
};

template <class T, class F>
struct RecvCase {
  CaseChan<T> chan;
  F fn;
  detail::Slot<T> slot;
  void run(bool received) {
    if constexpr (std::is_invocable_v<F&, std::optional<T>>) {
      fn(slot.take(received));
    } else {
      static_assert(std::is_invocable_v<F&>,
                    "recv_case: callback must take std::optional<T> or nothing");
      slot.take(received);
      fn();
    }
  }
};

template <class T, class F>
struct SendCase {
  CaseChan<T> chan;
  T value;
  F fn;
  void run(bool) { fn(); }
};

template <class F>
struct DefaultCase {
  F fn;
  void run(bool) { fn(); }
};

// A receive from `chan`; fn gets the value, or std::nullopt if the channel is closed.
template <class C, class F, class T = typename std::decay_t<C>::value_type>
  requires detail::is_chan<std::decay_t<C>>
RecvCase<T, std::decay_t<F>> recv_case(C&& chan, F&& fn) {
  return {CaseChan<T>(std::forward<C>(chan)), std::forward<F>(fn), {}};
}
template <class C>
  requires detail::is_chan<std::decay_t<C>>
auto recv_case(C&& chan) {
  return recv_case(std::forward<C>(chan), [] {});
}

// A send of `value` on `chan`; fn runs if this case is chosen.
template <class C, class U, class F, class T = typename std::decay_t<C>::value_type>
  requires detail::is_chan<std::decay_t<C>>
SendCase<T, std::decay_t<F>> send_case(C&& chan, U&& value, F&& fn) {
  return {CaseChan<T>(std::forward<C>(chan)), T(std::forward<U>(value)), std::forward<F>(fn)};
}
template <class C, class U>
  requires detail::is_chan<std::decay_t<C>>
auto send_case(C&& chan, U&& value) {
  return send_case(std::forward<C>(chan), std::forward<U>(value), [] {});
}

// Runs when no other case is ready.
template <class F>
DefaultCase<std::decay_t<F>> default_case(F&& fn) {
  return {std::forward<F>(fn)};
}
inline auto default_case() {
  return default_case([] {});
}

namespace detail {
template <class C>
inline constexpr bool is_default_case = false;
template <class F>
inline constexpr bool is_default_case<DefaultCase<F>> = true;
template <class C>
inline constexpr bool is_send_case = false;
template <class T, class F>
inline constexpr bool is_send_case<SendCase<T, F>> = true;

template <class C>
SelectCase raw_case(C& c) {
  if constexpr (is_send_case<C>) {
    return {c.chan.core, &c.value, true};
  } else {
    return {c.chan.core, c.slot.bytes, false};
  }
}
}  // namespace detail

// Go's select: blocks until one case can proceed (choosing uniformly at random among ready
// cases), or runs the default case if none is ready. The chosen case's callback runs after the
// choice, so it may block. Returns the position of the chosen case in the argument list.
// select() with no cases blocks forever.
template <class... Cases>
int select(Cases&&... cases) {
  constexpr int kDefaults = (0 + ... + int(detail::is_default_case<std::decay_t<Cases>>));
  static_assert(kDefaults <= 1, "gocxx::select: at most one default_case");
  constexpr int kCases = int(sizeof...(Cases)) - kDefaults;

  std::array<detail::SelectCase, kCases == 0 ? 1 : kCases> raw{};
  std::array<int, kCases == 0 ? 1 : kCases> position{};
  int default_position = -1;
  int filled = 0, arg = 0;
  auto collect = [&](auto& c) {
    if constexpr (detail::is_default_case<std::decay_t<decltype(c)>>) {
      default_position = arg;
    } else {
      raw[filled] = detail::raw_case(c);
      position[filled++] = arg;
    }
    ++arg;
  };
  (collect(cases), ...);

  bool received = false;
  int chosen = detail::select(raw.data(), kCases, kDefaults == 0, &received);
  int chosen_position = chosen < 0 ? default_position : position[chosen];
  arg = 0;
  auto dispatch = [&](auto& c) {
    if (arg++ == chosen_position) c.run(received);
  };
  (dispatch(cases), ...);
  return chosen_position;
}

}  // namespace gocxx
