// gocxx::context (Go's package context). docs/context.md describes the design; in short:
//
// * Every context is a Node. A node owns its parent (shared_ptr), so lookups of values, deadlines
//   and done channels walk up a chain that cannot disappear under them.
// * Cancellable contexts (with_cancel*, with_deadline*, with_timeout*) are CancelNodes. A
//   CancelNode registers with the nearest cancellable ancestor, which keeps a *weak* reference
//   to it (and a strong one to after_func entries). Cancelling a node walks its registrations
//   with an explicit work list (no recursion, no nested locks).
// * A CancelNode whose last owner goes away unregisters from its ancestor and stops its timer
//   (its destructor); the timer callback only holds a weak reference, so it never keeps a
//   context alive.
//
// Lock order: a CancelNode's mutex is never held while another node's mutex is taken. Under it
// we only close or create its done channel (channel lock -> Runtime lock) and create its timer
// (TimerQueue lock). Timers are stopped and children are cancelled after it is released.
#include "gocxx/context.hpp"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "gocxx/defer.hpp"
#include "gocxx/runtime.hpp"
#include "gocxx/sync.hpp"

namespace gocxx::detail {
// scheduler.cpp: spawns a goroutine from a thread that is not an M, if a run is active.
bool spawn_if_running(void* closure, const ClosureOps& ops);
}  // namespace gocxx::detail

namespace gocxx::context::detail {

class Canceler;
using Work = std::vector<std::shared_ptr<Canceler>>;

// Something a CancelNode cancels along with itself: a derived CancelNode or an after_func entry.
class Canceler {
 public:
  virtual ~Canceler() = default;
  // The node this was registered with has been cancelled with (err, cause). Called with no
  // lock held; appends whatever must be cancelled next to `work`.
  virtual void parent_canceled(const error& err, const error& cause, Work& work) = 0;
};

class Node {
 public:
  enum class Kind : unsigned char { kEmpty, kCancel, kValue, kWithoutCancel };
  Node(Kind k, std::shared_ptr<Node> p) : kind(k), parent(std::move(p)) {}
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  virtual ~Node() = default;

  const Kind kind;
  const std::shared_ptr<Node> parent;  // nullptr only for background() and todo()
};

class EmptyNode final : public Node {
 public:
  explicit EmptyNode(const char* n) : Node(Kind::kEmpty, nullptr), name(n) {}
  const char* const name;
};

class ValueNode final : public Node {
 public:
  ValueNode(std::shared_ptr<Node> p, const void* k, const char* kname,
            std::shared_ptr<const void> v, DescribeFn d)
      : Node(Kind::kValue, std::move(p)), key(k), key_name(kname), value(std::move(v)),
        describe(d) {}
  const void* const key;
  const char* const key_name;
  const std::shared_ptr<const void> value;
  const DescribeFn describe;
};

class WithoutCancelNode final : public Node {
 public:
  explicit WithoutCancelNode(std::shared_ptr<Node> p) : Node(Kind::kWithoutCancel, std::move(p)) {}
};

void propagate(Work& work, const error& err, const error& cause) {
  while (!work.empty()) {
    std::shared_ptr<Canceler> next = std::move(work.back());
    work.pop_back();
    next->parent_canceled(err, cause, work);
    // `next` may be the last owner of a context: its destructor unregisters it (no lock held).
  }
}

// The channel every context cancelled before anyone asked for done() shares (Go's closedchan).
const Chan<std::monostate>& closed_chan() {
  static const auto* chan = [] {
    auto* c = new Chan<std::monostate>();
    c->close();
    return c;
  }();
  return *chan;
}

class CancelNode final : public Node,
                         public Canceler,
                         public std::enable_shared_from_this<CancelNode> {
 public:
  CancelNode(std::shared_ptr<Node> p, std::optional<time::TimePoint> d)
      : Node(Kind::kCancel, std::move(p)), deadline(d) {}

  ~CancelNode() override {
    // Nobody can reach this node any more (weak references fail from now on): stop the timer
    // and drop the registration, or they would outlive the context (Go leaves that to its GC).
    if (timer_) timer_->stop();
    if (registered) registered->remove_child(this);
  }

  // Set for with_deadline nodes (also when the deadline had already passed).
  const std::optional<time::TimePoint> deadline;
  // The ancestor that holds our registration; kept alive by our parent chain. Written before
  // the node is published, then read-only.
  CancelNode* registered = nullptr;

  Chan<std::monostate> done() {
    std::lock_guard lk(mu_);
    first_use_locked();
    if (done_.is_nil()) done_ = Chan<std::monostate>();
    return done_;
  }
  error err() {
    std::lock_guard lk(mu_);
    first_use_locked();
    return err_;
  }
  error cause() {
    std::lock_guard lk(mu_);
    first_use_locked();
    return cause_;
  }

  // Set before the node is published (with_cancel_on_first_use).
  void set_on_first_use(std::function<void()> f) { on_first_use_ = std::move(f); }

  // Go's cancelCtx.cancel. The first call wins; later calls do nothing.
  void cancel(bool remove_from_parent, const error& err, const error& cause) {
    error why = cause ? cause : err;
    Work work;
    if (!mark_canceled(err, why, work)) return;
    if (remove_from_parent && registered) registered->remove_child(this);
    propagate(work, err, why);
  }

  void parent_canceled(const error& err, const error& cause, Work& work) override {
    // The parent dropped its registration table, so there is nothing to remove.
    mark_canceled(err, cause, work);
  }

  // Registers child to be cancelled with this node (keep_alive: this node owns it); if this
  // node is already cancelled, cancels the child now instead.
  void adopt(const std::shared_ptr<Canceler>& child, bool keep_alive) {
    error err, why;
    {
      std::lock_guard lk(mu_);
      first_use_locked();
      if (!err_) {
        ChildRef ref;
        if (keep_alive) {
          ref.strong = child;
        } else {
          ref.weak = child;
        }
        children_.emplace(child.get(), std::move(ref));
        return;
      }
      err = err_;
      why = cause_;
    }
    Work work{child};
    propagate(work, err, why);
  }

  void remove_child(const Canceler* child) {
    ChildRef removed;  // released after the lock: it may own an after_func entry
    std::lock_guard lk(mu_);
    auto it = children_.find(child);
    if (it == children_.end()) return;
    removed = std::move(it->second);
    children_.erase(it);
  }

  std::size_t child_count() {
    std::lock_guard lk(mu_);
    return children_.size();
  }

  // Starts the deadline timer (Go's time.AfterFunc in WithDeadlineCause). The callback holds a
  // weak reference: a released context's destructor stops the timer, and a callback already
  // running finds the node gone.
  void arm_timer(time::Duration after, const error& why) {
    std::weak_ptr<CancelNode> self = weak_from_this();
    std::lock_guard lk(mu_);
    if (err_) return;
    timer_.emplace(time::after_func(after, [self, why] {
      if (auto node = self.lock()) node->cancel(true, deadline_exceeded, why);
    }));
  }

 private:
  struct ChildRef {
    std::weak_ptr<Canceler> weak;      // derived contexts: their handles decide their lifetime
    std::shared_ptr<Canceler> strong;  // after_func entries: owned by the context they watch
  };

  // Under mu_, so that clearing it when the context is cancelled also waits for a call in
  // progress: whoever set it may be gone once the context is cancelled.
  void first_use_locked() {
    if (on_first_use_) std::exchange(on_first_use_, nullptr)();
  }

  bool mark_canceled(const error& err, const error& why, Work& work) {
    std::optional<time::Timer> timer;
    {
      std::lock_guard lk(mu_);
      if (err_) return false;
      on_first_use_ = nullptr;
      err_ = err;
      cause_ = why ? why : err;
      if (done_.is_nil()) {
        done_ = closed_chan();
      } else {
        done_.close();
      }
      work.reserve(work.size() + children_.size());
      for (auto& entry : children_) {
        ChildRef& ref = entry.second;
        if (ref.strong) {
          work.push_back(std::move(ref.strong));
        } else if (auto alive = ref.weak.lock()) {
          work.push_back(std::move(alive));
        }
      }
      children_.clear();
      timer.swap(timer_);
    }
    if (timer) timer->stop();
    return true;
  }

  sync::Mutex mu_;
  Chan<std::monostate> done_ = Chan<std::monostate>::nil();  // created lazily, as Go does
  error err_;
  error cause_;
  std::unordered_map<const Canceler*, ChildRef> children_;
  std::optional<time::Timer> timer_;
  std::function<void()> on_first_use_;
};

void start_goroutine(std::function<void()> f) {
  if (gocxx::goroutine_id() != 0) {
    gocxx::go(std::move(f));
    return;
  }
  if (gocxx::detail::spawn_if_running(&f, gocxx::detail::closure_ops_for<std::function<void()>>)) {
    return;
  }
  std::thread(std::move(f)).detach();  // no gocxx::run active: a thread stands in
}

class AfterFuncEntry final : public Canceler {
 public:
  explicit AfterFuncEntry(std::function<void()> f) : f_(std::move(f)) {}

  void parent_canceled(const error&, const error&, Work&) override {
    if (claimed_.exchange(true, std::memory_order_acq_rel)) return;
    start_goroutine(std::move(f_));
  }

  bool stop() {
    if (claimed_.exchange(true, std::memory_order_acq_rel)) return false;
    f_ = nullptr;  // release what f captured now, as the registration goes away
    if (auto node = target.lock()) node->remove_child(this);
    return true;
  }

  std::weak_ptr<CancelNode> target;  // written before publication

 private:
  std::function<void()> f_;
  std::atomic<bool> claimed_{false};  // Go's sync.Once shared by stop() and the cancellation
};

struct Access {
  static const std::shared_ptr<Node>& node(const Context& c) { return c.node_; }
  static Context context(std::shared_ptr<Node> n) {
    Context c;
    c.node_ = std::move(n);
    return c;
  }
  static const std::shared_ptr<CancelNode>& node(const CancelFunc& f) { return f.node_; }
  static const std::shared_ptr<CancelNode>& node(const CancelCauseFunc& f) { return f.node_; }
  static const std::shared_ptr<AfterFuncEntry>& entry(const StopFunc& f) { return f.entry_; }
  static CancelFunc cancel_func(std::shared_ptr<CancelNode> n) {
    CancelFunc f;
    f.node_ = std::move(n);
    return f;
  }
  static CancelCauseFunc cancel_cause_func(std::shared_ptr<CancelNode> n) {
    CancelCauseFunc f;
    f.node_ = std::move(n);
    return f;
  }
  static StopFunc stop_func(std::shared_ptr<AfterFuncEntry> e) {
    StopFunc f;
    f.entry_ = std::move(e);
    return f;
  }
};

namespace {

const Node& checked(const std::shared_ptr<Node>& n) {
  if (!n) gocxx::panic("runtime error: invalid memory address or nil pointer dereference");
  return *n;
}

const std::shared_ptr<Node>& parent_node(const Context& parent) {
  const std::shared_ptr<Node>& n = Access::node(parent);
  if (!n) gocxx::panic("cannot create context from nil parent");
  return n;
}

// The context whose cancellation `n` observes (value nodes are transparent), or nullptr if n
// can never be cancelled.
CancelNode* nearest_canceler(const Node* n) {
  for (;;) {
    switch (n->kind) {
      case Node::Kind::kValue:
        n = n->parent.get();
        continue;
      case Node::Kind::kCancel:
        return static_cast<CancelNode*>(const_cast<Node*>(n));
      default:
        return nullptr;
    }
  }
}

// The deadline n observes: that of the nearest cancellable context (n or an ancestor) that has
// one. It is the earliest: with_deadline_cause never sets one later than the parent's.
std::optional<time::TimePoint> deadline_of(const Node* n) {
  for (const CancelNode* c = nearest_canceler(n); c; c = nearest_canceler(c->parent.get())) {
    if (c->deadline) return c->deadline;
  }
  return std::nullopt;
}

// A new CancelNode under parent, registered with the nearest cancellable ancestor (Go's
// propagateCancel). Cancelled at once if that ancestor already is.
std::shared_ptr<CancelNode> new_cancel_node(const Context& parent,
                                            std::optional<time::TimePoint> deadline) {
  const std::shared_ptr<Node>& p = parent_node(parent);
  auto node = std::make_shared<CancelNode>(p, deadline);
  if (CancelNode* target = nearest_canceler(p.get())) {
    node->registered = target;
    target->adopt(node, false);
  }
  return node;
}

// Go's Duration.String: "1.5s", "250ms", "1h0m0s", "-2µs".
std::string go_duration(std::chrono::nanoseconds d) {
  std::int64_t v = d.count();
  if (v == 0) return "0s";
  std::uint64_t u = v < 0 ? std::uint64_t(0) - std::uint64_t(v) : std::uint64_t(v);
  auto with_fraction = [](std::uint64_t whole, std::uint64_t rem, int digits) {
    std::string s = std::to_string(whole);
    if (rem != 0) {
      std::string f = std::to_string(rem);
      f.insert(0, std::size_t(digits) - f.size(), '0');
      while (!f.empty() && f.back() == '0') f.pop_back();
      s += "." + f;
    }
    return s;
  };
  std::string out;
  if (u < 1000) {
    out = std::to_string(u) + "ns";
  } else if (u < 1000000) {
    out = with_fraction(u / 1000, u % 1000, 3) + "\u00b5s";
  } else if (u < 1000000000) {
    out = with_fraction(u / 1000000, u % 1000000, 6) + "ms";
  } else {
    std::uint64_t secs = u / 1000000000, rem = u % 1000000000;
    std::uint64_t h = secs / 3600, m = secs / 60 % 60, s = secs % 60;
    if (h) out += std::to_string(h) + "h";
    if (h || m) out += std::to_string(m) + "m";
    out += with_fraction(s, rem, 9) + "s";
  }
  return v < 0 ? "-" + out : out;
}

// Deadlines further away than this get no timer: it could never fire within a program's life,
// and the timer heap's arithmetic (now + d in nanoseconds) would overflow.
constexpr auto kForever = std::chrono::hours(24 * 365 * 100);

}  // namespace

Context with_value(const Context& parent, const void* key, const char* key_name,
                   std::shared_ptr<const void> value, DescribeFn describe) {
  return Access::context(std::make_shared<ValueNode>(parent_node(parent), key, key_name,
                                                     std::move(value), describe));
}

std::pair<Context, CancelFunc> with_cancel_on_first_use(const Context& parent,
                                                        std::function<void()> on_first_use) {
  auto node = new_cancel_node(parent, std::nullopt);
  node->set_on_first_use(std::move(on_first_use));
  return {Access::context(node), Access::cancel_func(node)};
}

std::size_t registered_children(const Context& ctx) {
  CancelNode* n = nearest_canceler(&checked(Access::node(ctx)));
  return n ? n->child_count() : 0;
}

}  // namespace gocxx::context::detail

namespace gocxx::context {

using detail::Access;
using detail::CancelNode;
using detail::Node;

RecvChan<std::monostate> Context::done() const {
  CancelNode* n = detail::nearest_canceler(&detail::checked(node_));
  return n ? n->done() : Chan<std::monostate>::nil();
}

error Context::err() const {
  CancelNode* n = detail::nearest_canceler(&detail::checked(node_));
  return n ? n->err() : nullptr;
}

std::optional<time::TimePoint> Context::deadline() const {
  return detail::deadline_of(&detail::checked(node_));
}

const void* Context::find_value(const void* key) const {
  for (const Node* n = &detail::checked(node_); n; n = n->parent.get()) {
    if (n->kind == Node::Kind::kValue) {
      auto* v = static_cast<const detail::ValueNode*>(n);
      if (v->key == key) return v->value.get();
    }
  }
  return nullptr;
}

std::string Context::string() const {
  std::vector<const Node*> chain;
  for (const Node* n = &detail::checked(node_); n; n = n->parent.get()) chain.push_back(n);
  std::string out;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const Node* n = *it;
    switch (n->kind) {
      case Node::Kind::kEmpty:
        out += static_cast<const detail::EmptyNode*>(n)->name;
        break;
      case Node::Kind::kCancel:
        if (auto d = static_cast<const CancelNode*>(n)->deadline) {
          // Go prints the wall-clock deadline and, in brackets, the time until it; a steady
          // clock has no calendar form, so only the bracketed part remains.
          out += ".WithDeadline([" + detail::go_duration(*d - time::Clock::now()) + "])";
        } else {
          out += ".WithCancel";
        }
        break;
      case Node::Kind::kValue: {
        auto* v = static_cast<const detail::ValueNode*>(n);
        out += ".WithValue(" + std::string(v->key_name) + ", " + v->describe(v->value.get()) + ")";
        break;
      }
      case Node::Kind::kWithoutCancel:
        out += ".WithoutCancel";
        break;
    }
  }
  return out;
}

void CancelFunc::operator()() const {
  if (node_) node_->cancel(true, canceled, nullptr);
}

void CancelCauseFunc::operator()(error why) const {
  if (node_) node_->cancel(true, canceled, why);
}

bool StopFunc::operator()() const { return entry_ ? entry_->stop() : false; }

Context background() {
  static const auto* node =
      new std::shared_ptr<Node>(std::make_shared<detail::EmptyNode>("context.Background"));
  return Access::context(*node);
}

Context todo() {
  static const auto* node =
      new std::shared_ptr<Node>(std::make_shared<detail::EmptyNode>("context.TODO"));
  return Access::context(*node);
}

std::pair<Context, CancelFunc> with_cancel(const Context& parent) {
  auto node = detail::new_cancel_node(parent, std::nullopt);
  return {Access::context(node), Access::cancel_func(node)};
}

std::pair<Context, CancelCauseFunc> with_cancel_cause(const Context& parent) {
  auto node = detail::new_cancel_node(parent, std::nullopt);
  return {Access::context(node), Access::cancel_cause_func(node)};
}

std::pair<Context, CancelFunc> with_deadline_cause(const Context& parent, time::TimePoint deadline,
                                                   error why) {
  const std::shared_ptr<Node>& p = detail::parent_node(parent);
  if (auto current = detail::deadline_of(p.get()); current && *current < deadline) {
    return with_cancel(parent);  // the parent's earlier deadline cancels us first
  }
  auto node = detail::new_cancel_node(parent, deadline);
  time::TimePoint now = time::Clock::now();
  if (deadline <= now) {
    node->cancel(true, deadline_exceeded, why);  // the deadline has already passed
  } else if (deadline - now < detail::kForever) {
    node->arm_timer(deadline - now, why);
  }
  return {Access::context(node), Access::cancel_func(node)};
}

std::pair<Context, CancelFunc> with_deadline(const Context& parent, time::TimePoint deadline) {
  return with_deadline_cause(parent, deadline, nullptr);
}

std::pair<Context, CancelFunc> with_timeout_cause(const Context& parent, time::Duration timeout,
                                                  error why) {
  time::TimePoint now = time::Clock::now();
  time::TimePoint deadline =
      timeout > time::TimePoint::max() - now ? time::TimePoint::max() : now + timeout;
  return with_deadline_cause(parent, deadline, std::move(why));
}

std::pair<Context, CancelFunc> with_timeout(const Context& parent, time::Duration timeout) {
  return with_timeout_cause(parent, timeout, nullptr);
}

Context without_cancel(const Context& parent) {
  return Access::context(std::make_shared<detail::WithoutCancelNode>(detail::parent_node(parent)));
}

StopFunc after_func(const Context& ctx, std::function<void()> f) {
  const Node& n = detail::checked(Access::node(ctx));
  if (!f) gocxx::panic("context: after_func with an empty function");
  auto entry = std::make_shared<detail::AfterFuncEntry>(std::move(f));
  if (CancelNode* target = detail::nearest_canceler(&n)) {
    entry->target = target->weak_from_this();
    target->adopt(entry, true);
  }
  // A context that can never be done keeps no registration: f never runs, stop() returns true.
  return Access::stop_func(std::move(entry));
}

error cause(const Context& ctx) {
  CancelNode* n = detail::nearest_canceler(&detail::checked(Access::node(ctx)));
  return n ? n->cause() : nullptr;
}

}  // namespace gocxx::context
