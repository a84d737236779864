// gocxx::Chan and gocxx::select — Go's channels.
//
//   gocxx::Chan<int> ch;        unbuffered          ch.send(1);  auto v = ch.recv();
//   gocxx::Chan<int> ch(100);   buffered, cap 100   for (int v : ch) ...  // until closed
//   gocxx::RecvChan<int> in = ch;   // Go's <-chan int: recv, range-for, recv_case only
//   gocxx::SendChan<int> out = ch;  // Go's chan<- int: send, close, send_case only
//   gocxx::select(gocxx::recv_case(ch, [](std::optional<int> v) {...}),
//                 gocxx::send_case(out, 42, [] {...}),
//                 gocxx::default_case([] {...}));
//
// A Chan is a handle: copies share one channel. So do RecvChan and SendChan, which a Chan
// converts to implicitly (as Go converts chan T to <-chan T and chan<- T); neither converts back,
// and using the other direction through one does not compile. Operations follow Go exactly,
// including the panics ("send on closed channel", "close of closed channel", "close of nil
// channel") and nil channels that block forever. The algorithms live in src/runtime/chan.cpp and
// select.cpp; this header only adapts element types.
#pragma once

#include <array>
#include <cstddef>
#include <iterator>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "gocxx/detail/chaos.hpp"

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

// ---- channel handles -----------------------------------------------------------------------

template <class T>
class Chan;
template <class T>
class RecvChan;
template <class T>
class SendChan;

namespace detail {

// The next value from c; std::nullopt once c is closed and drained.
template <class T>
std::optional<T> chan_recv_value(ChanCore* c) {
  Slot<T> slot;
  return slot.take(chan_recv(c, slot.bytes));
}

// Range-for over a Chan or RecvChan: receives until the channel is closed and drained. It refers
// to the channel without a reference of its own: the range expression keeps the handle alive.
template <class T>
class ChanIterator {
 public:
  using value_type = T;
  using difference_type = std::ptrdiff_t;
  ChanIterator() = default;
  explicit ChanIterator(ChanCore* chan) : chan_(chan) { ++*this; }
  T& operator*() { return *value_; }
  ChanIterator& operator++() {
    value_ = chan_recv_value<T>(chan_);
    if (!value_) chan_ = nullptr;
    return *this;
  }
  void operator++(int) { ++*this; }
  friend bool operator==(const ChanIterator& a, const ChanIterator& b) {
    return a.chan_ == b.chan_;
  }

 private:
  ChanCore* chan_ = nullptr;  // nullptr: the end (a nil channel's begin() blocks forever instead)
  std::optional<T> value_;
};

// Chan<T>, RecvChan<T> and SendChan<T> (Go's chan T, <-chan T, chan<- T) are one handle seen
// through three interfaces. ChanHandle holds the counted reference to the channel (nullptr: the
// nil channel) and implements every operation; the directional ones are protected, and each
// public type (Self) makes public, with using-declarations, those its direction allows.
template <class T, class Self>
class ChanHandle {
  // Elements move under the channel lock (src/runtime/chan_core.hpp), so moves must not throw.
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "gocxx::Chan<T>: T must be nothrow-move-constructible (wrap it in std::unique_ptr)");

 protected:
  // Passkey of the adopting constructor: only the handles can name it, and `{}` cannot make one.
  struct Adopt {
    explicit Adopt() = default;
  };

 public:
  using value_type = T;

  // Takes over a reference to c (nullptr: the nil channel).
  ChanHandle(Adopt, ChanCore* c) noexcept : core_(c) {}
  // Chan<T> -> RecvChan<T> / SendChan<T>, implicitly as in Go (the views inherit these): shares
  // the Chan's channel, or takes over a temporary's reference.
  ChanHandle(const Chan<T>& chan) noexcept  // NOLINT(google-explicit-constructor)
    requires(!std::is_same_v<Self, Chan<T>>)
      : core_(shared(chan.core())) {}
  ChanHandle(Chan<T>&& chan) noexcept  // NOLINT(google-explicit-constructor)
    requires(!std::is_same_v<Self, Chan<T>>)
      : core_(std::exchange(static_cast<ChanHandle<T, Chan<T>>&>(chan).core_, nullptr)) {}
  ChanHandle(const ChanHandle& other) noexcept : core_(shared(other.core_)) {}
  ChanHandle(ChanHandle&& other) noexcept : core_(std::exchange(other.core_, nullptr)) {}
  ChanHandle& operator=(ChanHandle other) noexcept {
    std::swap(core_, other.core_);
    return *this;
  }
  ~ChanHandle() {
    if (core_) chan_release(core_);
  }

  // The nil channel: blocks forever on send and receive, never ready in select.
  static Self nil() noexcept { return Self(Adopt{}, nullptr); }

  std::size_t len() const { return chan_len(core_); }
  std::size_t cap() const { return chan_cap(core_); }
  bool is_nil() const noexcept { return core_ == nullptr; }
  ChanCore* core() const noexcept { return core_; }

  // Identity: two handles to the same channel. A Chan<T> compares with a RecvChan<T> or a
  // SendChan<T> through the implicit conversion, as in Go.
  friend bool operator==(const Self& a, const Self& b) noexcept { return a.core() == b.core(); }

 protected:
  using iterator = ChanIterator<T>;

  void send(T value) { chan_send(core_, &value); }
  // The next value; std::nullopt once the channel is closed and drained.
  std::optional<T> recv() { return chan_recv_value<T>(core_); }
  void close() { chan_close(core_); }
  // Range-for receives until the channel is closed and drained: for (T v : ch).
  iterator begin() { return iterator(core_); }
  iterator end() { return iterator(); }

 private:
  template <class, class>
  friend class ChanHandle;
  static ChanCore* shared(ChanCore* c) noexcept {
    if (c) chan_retain(c);
    return c;
  }
  ChanCore* core_;
};

}  // namespace detail

// Go's chan T: send, receive, close. A handle: copies share one channel.
template <class T>
class Chan : public detail::ChanHandle<T, Chan<T>> {
  using Base = detail::ChanHandle<T, Chan<T>>;

 public:
  using Base::Base;  // the adopting constructor, for nil()
  using typename Base::iterator;
  // An unbuffered channel.
  Chan() : Chan(std::size_t{0}) {}
  // A channel with a buffer of `capacity` elements (0: unbuffered).
  explicit Chan(std::size_t capacity)
      : Base(typename Base::Adopt{}, detail::chan_make(detail::elem_ops_for<T>, capacity)) {}
  using Base::begin;
  using Base::close;
  using Base::end;
  using Base::recv;
  using Base::send;
};

// Go's <-chan T: a receive-only view of a channel. A Chan<T> converts to it implicitly (sharing
// the channel, as a copy does); it converts back to nothing, and cannot send or close.
template <class T>
class RecvChan : public detail::ChanHandle<T, RecvChan<T>> {
  using Base = detail::ChanHandle<T, RecvChan<T>>;

 public:
  using Base::Base;  // RecvChan(const Chan<T>&), RecvChan(Chan<T>&&): implicit
  using typename Base::iterator;
  using Base::begin;
  using Base::end;
  using Base::recv;
};

// Go's chan<- T: a send-only view of a channel, which may also close it (as Go allows). A
// Chan<T> converts to it implicitly; it converts back to nothing, and cannot receive.
template <class T>
class SendChan : public detail::ChanHandle<T, SendChan<T>> {
  using Base = detail::ChanHandle<T, SendChan<T>>;

 public:
  using Base::Base;  // SendChan(const Chan<T>&), SendChan(Chan<T>&&): implicit
  using Base::close;
  using Base::send;
};

// ---- select -------------------------------------------------------------------------------

namespace detail {
// The handles a case may receive from (Chan, RecvChan) and those it may send on (Chan, SendChan):
// the channel handles whose direction makes recv or send public.
template <class C>
concept chan_handle = std::is_base_of_v<ChanHandle<typename C::value_type, C>, C>;
template <class C>
concept can_recv = chan_handle<C> && requires(C& c) { c.recv(); };
template <class C>
concept can_send = chan_handle<C> && requires(C& c, typename C::value_type v) {
  c.send(std::move(v));
};
}  // namespace detail

// A case refers to its channel without touching the reference count when given an lvalue (the
// channel outlives the select expression); a temporary channel is moved into the case. C is the
// handle type: Chan<T>, RecvChan<T> or SendChan<T>.
template <class C>
struct CaseChan {
  C owned = C::nil();
  detail::ChanCore* core = nullptr;
  explicit CaseChan(const C& c) : core(c.core()) {}
  explicit CaseChan(C&& c) : owned(std::move(c)), core(owned.core()) {}
};

template <class C, class F>
struct RecvCase {
  using T = typename C::value_type;
  CaseChan<C> chan;
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

template <class C, class F>
struct SendCase {
  CaseChan<C> chan;
  typename C::value_type value;
  F fn;
  void run(bool) { fn(); }
};

template <class F>
struct DefaultCase {
  F fn;
  void run(bool) { fn(); }
};

// A receive from `chan` (a Chan or a RecvChan); fn gets the value, or std::nullopt if the channel
// is closed.
template <class C, class F>
  requires detail::can_recv<std::decay_t<C>>
RecvCase<std::decay_t<C>, std::decay_t<F>> recv_case(C&& chan, F&& fn) {
  return {CaseChan<std::decay_t<C>>(std::forward<C>(chan)), std::forward<F>(fn), {}};
}
template <class C>
  requires detail::can_recv<std::decay_t<C>>
auto recv_case(C&& chan) {
  return recv_case(std::forward<C>(chan), [] {});
}

// A send of `value` on `chan` (a Chan or a SendChan); fn runs if this case is chosen.
template <class C, class U, class F, class T = typename std::decay_t<C>::value_type>
  requires detail::can_send<std::decay_t<C>>
SendCase<std::decay_t<C>, std::decay_t<F>> send_case(C&& chan, U&& value, F&& fn) {
  return {CaseChan<std::decay_t<C>>(std::forward<C>(chan)), T(std::forward<U>(value)),
          std::forward<F>(fn)};
}
template <class C, class U>
  requires detail::can_send<std::decay_t<C>>
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
template <class C, class F>
inline constexpr bool is_send_case<SendCase<C, F>> = true;

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
  detail::chaos_point();  // here, not in detail::select: the timer queue calls that locked
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
