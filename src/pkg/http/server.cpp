// The HTTP/1.1 server (Go's net/http server.go): one goroutine per connection reading requests
// with MessageReader, the ResponseWriter that buffers, sizes or chunks the response, timeouts,
// graceful shutdown, and recovered handler panics.
//
// A connection's life: new -> (request head read) active -> (response done, keep-alive)
// idle -> active ... -> closed. Shutdown closes idle and new connections and waits for the
// active ones to finish their request; close() closes them all at once.
//
// Client disconnects: while a handler runs, once the request body has been read (or there is
// none), a watcher goroutine reads one byte from the connection (Go's backgroundRead). EOF or
// an error there cancels the request's context; a byte is kept for the next request
// (pipelining). When the handler returns, the watcher is stopped by moving the read deadline
// into the past, as Go does. Unlike Go, the watcher starts only once the handler (or anyone it
// passed the context to) observes r.context(): a disconnect is visible only through the
// context, and most handlers never look, so they pay for no goroutine, channel or deadline.
#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <ctime>
#include <cstdio>
#include <set>
#include <sstream>

#include "gocxx/defer.hpp"
#include "gocxx/http.hpp"
#include "gocxx/io.hpp"
#include "gocxx/metrics.hpp"
#include "gocxx/runtime.hpp"
#include "gocxx/sync.hpp"
#include "diag/goroutines.hpp"
#include "diag/stacktrace.hpp"
#include "pkg/http/parser.hpp"
#include "pkg/http/server_internal.hpp"
#include "pkg/http/text.hpp"

namespace gocxx::http {

namespace detail {

namespace {

constexpr std::size_t kBufferBeforeChunking = 2048;       // Go's bufferBeforeChunkingSize
const error err_body_not_allowed =
    errors::make("http: request method or response status code does not allow body");
constexpr std::size_t kMaxPostHandlerRead = 256 << 10;    // Go's maxPostHandlerReadBytes
constexpr auto kRstAvoidanceDelay = std::chrono::milliseconds(500);  // Go's rstAvoidanceDelay
constexpr std::size_t kSniffLen = 512;                    // what detect_content_type reads
const time::TimePoint kLongAgo{std::chrono::nanoseconds(1)};  // Go's aLongTimeAgo

// Go's http.TimeFormat, for the Date header: "Mon, 02 Jan 2006 15:04:05 GMT". Formatted once
// a second per thread (Go caches it too); nothing here can switch goroutines, so the
// thread_local is read and written on one thread.
std::string_view http_date() {
  struct Cache {
    std::time_t second = -1;
    char text[64] = {};
  };
  thread_local Cache cache;
  std::time_t now = std::time(nullptr);
  if (now != cache.second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(cache.text, sizeof cache.text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cache.second = now;
  }
  return cache.text;
}

bool body_allowed(int status) {
  return !((status >= 100 && status < 200) || status == 204 || status == 304);
}

time::TimePoint after(time::Duration d) {
  return d > time::Duration::zero() ? time::now() + d : time::TimePoint{};
}

void default_log(std::string_view line) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y/%m/%d %H:%M:%S ", &tm);
  std::string out = stamp + std::string(line);
  if (out.back() != '\n') out += '\n';
  std::fwrite(out.data(), 1, out.size(), stderr);
}

// Go's Server.ErrorLog, or the standard logger's format on stderr.
void log_error(const Server& config, std::string_view line) {
  if (config.error_log) {
    config.error_log(line);
  } else {
    default_log(line);
  }
}

// A fixed reply for a request that could not be read (Go writes these raw, then closes).
void reply_raw(net::Conn& c, int code, std::string_view body) {
  std::string msg = "HTTP/1.1 " + std::to_string(code) + " " + std::string(status_text(code)) +
                    "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n" +
                    std::string(body);
  (void)c.write(msg);
}

// Go's body for most of them: "400 Bad Request".
std::string code_and_text(int code) { return std::to_string(code) + " " + std::string(status_text(code)); }

// Every gocxx::http server's requests, in the default registry (served at /metrics). Methods
// outside the standard ones count as "other", so a client cannot grow the label set. The
// children are looked up once per (method, code) and kept: a labelled lookup hashes strings,
// which costs more than the rest of recording.
class RequestMetrics {
 public:
  void record(std::string_view method, int code, time::Duration elapsed) {
    std::size_t m = method_index(method);
    requests(m, code).inc();
    duration(m).observe(std::chrono::duration<double>(elapsed).count());
  }

 private:
  static constexpr std::array<std::string_view, 10> kMethods = {
      "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE", "other"};
  static constexpr int kFirstCode = 100, kLastCode = 599;  // others are looked up every time

  static std::size_t method_index(std::string_view method) {
    std::size_t i = 0;
    while (i + 1 < kMethods.size() && kMethods[i] != method) ++i;
    return i;
  }

  // Racing first lookups find the same child; the cache only saves later ones.
  template <class M, class Lookup>
  static M& cached(std::atomic<M*>& slot, Lookup lookup) {
    if (M* m = slot.load(std::memory_order_acquire)) return *m;
    M& m = lookup();
    slot.store(&m, std::memory_order_release);
    return m;
  }

  metrics::Counter& requests(std::size_t m, int code) {
    auto lookup = [&]() -> metrics::Counter& {
      return requests_.with_label_values({std::to_string(code), kMethods[m]});
    };
    if (code < kFirstCode || code > kLastCode) return lookup();
    return cached(requests_cache_[m][code - kFirstCode], lookup);
  }

  metrics::Histogram& duration(std::size_t m) {
    return cached(duration_cache_[m], [&]() -> metrics::Histogram& { return duration_.with_label_values({kMethods[m]}); });
  }

  metrics::CounterVec& requests_ = metrics::default_registry().make_counter_vec(
      "gocxx_http_requests_total", "HTTP requests answered by gocxx::http servers.", {"code", "method"});
  metrics::HistogramVec& duration_ = metrics::default_registry().make_histogram_vec(
      "gocxx_http_request_duration_seconds",
      "Time from a request's head to the end of its response, gocxx::http servers.", {"method"});
  std::array<std::array<std::atomic<metrics::Counter*>, kLastCode - kFirstCode + 1>, kMethods.size()>
      requests_cache_{};
  std::array<std::atomic<metrics::Histogram*>, kMethods.size()> duration_cache_{};
};

RequestMetrics& request_metrics() {
  static RequestMetrics* m = new RequestMetrics;  // used by connection goroutines until exit
  return *m;
}

}  // namespace

ServerState& ServerStatePtr::get() const {
  if (!state_) state_ = std::make_shared<ServerState>();
  return *state_;
}

// ---- one connection --------------------------------------------------------------------------

class Connection;

// The request body as the handler reads it: the MessageReader's body, with Go's
// "100 Continue" sent before the first read if the client asked for it.
class RequestBody final : public BodySource {
 public:
  explicit RequestBody(Connection* c) : conn_(c) {}
  Result<std::size_t> read(std::span<char> buf) override;
  error close() override { return nullptr; }
  void detach() { conn_ = nullptr; }

 private:
  Connection* conn_;
};

class Response final : public ResponseWriter {
 public:
  Response(Connection& c, Request& req) : conn_(c), req_(req) {}
  Header& header() override { return header_; }
  void write_header(int status_code) override;
  Result<std::size_t> write(std::string_view data) override;
  void flush() override;

  // After the handler: sends what is left and ends the body. False if the connection must
  // close (the response could not be framed for keep-alive, or writing failed).
  bool finish();
  bool wrote_header() const { return wrote_header_; }
  int status() const { return status_; }
  bool written_anything() const { return wrote_header_ || !buffer_.empty(); }
  void close_after_reply() { close_after_ = true; }
  bool closing() const { return close_after_; }
  void mark_body_limit_hit() {
    body_limit_hit_ = true;
    close_after_ = true;
  }
  bool body_limit_hit() const { return body_limit_hit_; }

 private:
  // `first`: body bytes about to be sent after the head (sniffed if nothing is buffered).
  error send_head(bool final, std::string_view first = {});
  error send_chunk(std::string_view data);
  error write_out(std::string_view data);

  Connection& conn_;
  Request& req_;
  Header header_;
  int status_ = 0;
  bool wrote_header_ = false;   // the handler chose a status
  bool head_sent_ = false;      // the status line and headers are on the wire
  bool chunked_ = false;
  bool close_after_ = false;
  bool body_limit_hit_ = false;
  std::int64_t declared_length_ = -1;  // a handler-set Content-Length
  std::int64_t written_ = 0;
  std::string buffer_;
  error write_err_;
};

class Connection {
 public:
  // Keeps a copy of the server's configuration, which shares its state: a connection that is
  // still finishing after close() or after the Server object is gone uses neither freed.
  Connection(ServerState& server, const Server& config, net::Conn c)
      : server_(server), config_(config), conn_(std::move(c)),
        reader_(MessageReader::kRequest, [this](std::span<char> b) { return read_conn(b); },
                config.max_header_bytes ? config.max_header_bytes : default_max_header_bytes),
        remote_addr_(conn_.remote_addr().string()) {}

  void serve();
  net::Conn& conn() { return conn_; }
  MessageReader& reader() { return reader_; }
  Response* response() { return response_; }
  void send_continue_if_expected();
  // The request body reached its end, or the request's context was first observed: the
  // watcher (see the top) starts once both happened.
  void body_done();
  void context_observed();
  const Server& config() const { return config_; }
  // Written by the connection's goroutine, read by shutdown (Go's atomic curState; a connection
  // that turns active just as shutdown reads "idle" is closed, as in Go).
  ConnState state() const { return state_.load(std::memory_order_acquire); }

 private:
  void set_state(ConnState s) { state_.store(s, std::memory_order_release); }
  Result<std::size_t> read_conn(std::span<char> buf);
  bool serve_one();
  void handle(Request& req, Response& w);
  void start_watcher_locked();
  void stop_watcher();
  // Deadlines are set several times a request, mostly to what they already are (none): those
  // calls skip the poller. Only the connection's goroutine sets them.
  void set_read_deadline(time::TimePoint t) {
    if (t != read_deadline_) (void)conn_.set_read_deadline(read_deadline_ = t);
  }
  void set_write_deadline(time::TimePoint t) {
    if (t != write_deadline_) (void)conn_.set_write_deadline(write_deadline_ = t);
  }
  void log_panic(const std::exception_ptr& e);
  void linger();

  ServerState& server_;  // alive as long as config_.state_ refers to it
  const Server config_;
  net::Conn conn_;
  MessageReader reader_;
  Response* response_ = nullptr;
  bool expect_continue_ = false;
  bool awaiting_first_byte_ = false;
  bool unread_body_ = false;  // the connection closes with request body left unread
  std::atomic<ConnState> state_{ConnState::kNew};

  const std::string remote_addr_;  // formatted once (Go's conn.remoteAddr)
  context::Context conn_ctx_;      // the parent of every request's context
  time::TimePoint read_deadline_{};
  time::TimePoint write_deadline_{};

  // The watcher (see the top). Guarded by watch_mu_: context_observed() may run on any
  // goroutine the handler handed its context to.
  gocxx::sync::Mutex watch_mu_;
  bool body_done_ = false;
  bool buffered_ = false;  // the next request's bytes are already read: nothing to watch
  bool observed_ = false;
  bool watching_ = false;
  int pending_byte_ = -1;
  Chan<std::monostate> watcher_done_ = Chan<std::monostate>::nil();
  context::CancelFunc cancel_request_;
};

Result<std::size_t> Connection::read_conn(std::span<char> buf) {
  if (buf.empty()) return {0, nullptr};
  {
    std::lock_guard lk(watch_mu_);
    if (pending_byte_ >= 0) {
      buf[0] = static_cast<char>(pending_byte_);
      pending_byte_ = -1;
      return {1, nullptr};
    }
  }
  auto r = conn_.read(buf);
  if (r.value > 0 && awaiting_first_byte_) {
    // The first byte of a request: the connection is active now, and the header timeout runs
    // from here (Go's readRequest after its idle Peek).
    awaiting_first_byte_ = false;
    set_state(ConnState::kActive);
    time::Duration hdr = config_.read_header_timeout > time::Duration::zero()
                             ? config_.read_header_timeout
                             : config_.read_timeout;
    set_read_deadline(after(hdr));
  }
  return r;
}

void Connection::send_continue_if_expected() {
  if (!expect_continue_) return;
  expect_continue_ = false;
  if (response_ && !response_->wrote_header()) (void)conn_.write("HTTP/1.1 100 Continue\r\n\r\n");
}

Result<std::size_t> RequestBody::read(std::span<char> buf) {
  if (!conn_) return {0, errors::make("http: invalid Read on closed Body")};
  conn_->send_continue_if_expected();
  auto r = conn_->reader().read_body(buf);
  if (r.err == io::eof) conn_->body_done();  // Go starts its background read here
  return r;
}

void Connection::body_done() {
  std::lock_guard lk(watch_mu_);
  if (body_done_) return;
  body_done_ = true;
  buffered_ = reader_.has_buffered();
  if (observed_) start_watcher_locked();
}

void Connection::context_observed() {
  std::lock_guard lk(watch_mu_);
  observed_ = true;
  if (body_done_) start_watcher_locked();
}

void Connection::start_watcher_locked() {
  if (watching_ || pending_byte_ >= 0 || buffered_) return;
  watching_ = true;
  watcher_done_ = Chan<std::monostate>(1);
  gocxx::go([this, done = watcher_done_]() mutable {
    char b;
    auto [n, err] = conn_.read({&b, 1});
    {
      std::lock_guard lk(watch_mu_);
      if (n == 1) pending_byte_ = static_cast<unsigned char>(b);
      watching_ = false;
    }
    // EOF or a reset: the client is gone. (The deadline moved by stop_watcher is not that.)
    if (err && !net::is_timeout(err)) cancel_request_();
    done.send({});
  });
}

// After the request's context is cancelled, so no observer can start a watcher any more.
void Connection::stop_watcher() {
  bool running;
  {
    std::lock_guard lk(watch_mu_);
    running = watching_;
    body_done_ = observed_ = false;
  }
  if (!watcher_done_.is_nil()) {
    if (running) set_read_deadline(kLongAgo);
    watcher_done_.recv();
    watcher_done_ = Chan<std::monostate>::nil();
    set_read_deadline(time::TimePoint{});
  }
}

void Connection::log_panic(const std::exception_ptr& e) {
  std::string value;
  std::string stack;
  try {
    std::rethrow_exception(e);
  } catch (const Panic& p) {
    if (const error* err = p.value().as<error>(); err && *err == err_abort_handler) return;
    value = p.value().message();
    stack = "goroutine " + std::to_string(goroutine_id()) + " [running]:\n" +
            diag::format_frames(diag::user_frames(p.stack()));
  } catch (const std::exception& ex) {
    value = ex.what();
  } catch (...) {
    value = "unknown exception";
  }
  std::string line = "http: panic serving " + remote_addr_ + ": " + value + "\n" + stack;
  log_error(config_, line);
}

void Connection::handle(Request& req, Response& w) {
  HandlerRef h = config_.handler ? config_.handler : HandlerRef(default_serve_mux());
  try {
    h.serve_http(w, req);
  } catch (...) {
    log_panic(std::current_exception());
    w.close_after_reply();
    throw;  // the caller closes the connection without finishing the response
  }
}

// Reads one request and answers it. False when the connection should close.
bool Connection::serve_one() {
  if (!reader_.has_buffered()) {
    // Waiting for the next request: idle (Go's StateIdle), with the idle timeout.
    set_state(ConnState::kIdle);
    time::Duration idle = config_.idle_timeout > time::Duration::zero() ? config_.idle_timeout
                                                                         : config_.read_timeout;
    set_read_deadline(after(idle));
    awaiting_first_byte_ = true;
  } else {
    set_state(ConnState::kActive);
  }
  if (server_.shutting_down()) return false;
  auto [head, err] = reader_.read_head();
  awaiting_first_byte_ = false;
  if (err) {
    if (auto* pe = errors::as<ProtocolError>(err)) {
      switch (pe->kind) {
        case ProtocolError::kHeaderTooLarge:
          reply_raw(conn_, status_request_header_fields_too_large, code_and_text(status_request_header_fields_too_large));
          break;
        case ProtocolError::kMalformed:
          reply_raw(conn_, status_bad_request, code_and_text(status_bad_request));
          break;
        case ProtocolError::kNotImplemented:
          reply_raw(conn_, status_not_implemented, "Unsupported transfer encoding");
          break;
      }
    }
    return false;  // EOF, timeouts and resets close silently, as Go's server does
  }
  if (head.proto_major != 1) {
    reply_raw(conn_, status_http_version_not_supported, code_and_text(status_http_version_not_supported));
    return false;
  }
  // The request is in: the body has what is left of read_timeout; the response has
  // write_timeout (Go sets both here).
  if (config_.read_timeout > time::Duration::zero()) {
    set_read_deadline(time::now() + config_.read_timeout);
  } else {
    set_read_deadline(time::TimePoint{});
  }
  set_write_deadline(after(config_.write_timeout));

  const time::TimePoint started = time::now();
  Request req;
  req.method = std::move(head.method);
  req.request_uri = head.target;
  auto [url, url_err] = parse_url(head.target);
  if (url_err) {
    reply_raw(conn_, status_bad_request, code_and_text(status_bad_request));
    return false;
  }
  req.url = std::move(url);
  req.proto = head.proto_minor == 1 && head.proto_major == 1
                  ? "HTTP/1.1"
                  : "HTTP/" + std::to_string(head.proto_major) + "." + std::to_string(head.proto_minor);
  req.proto_major = head.proto_major;
  req.proto_minor = head.proto_minor;
  req.header = std::move(head.header);
  req.host = req.header.get("Host");
  if (req.proto_minor >= 1 && !req.header.has("Host")) {
    reply_raw(conn_, status_bad_request, "400 Bad Request: missing required Host header");
    return false;
  }
  req.header.del("Host");               // Go moves it into Request.Host
  req.header.del("Transfer-Encoding");  // and this into Request.TransferEncoding
  req.content_length = head.chunked ? -1 : std::max<std::int64_t>(head.content_length, 0);
  if (head.chunked) req.transfer_encoding = {"chunked"};
  req.close = !head.keep_alive;
  req.remote_addr = remote_addr_;
  expect_continue_ = head.expect_continue && req.proto_minor >= 1;

  auto body = std::make_shared<RequestBody>(this);
  req.body = Body(body);
  auto [ctx, cancel] = context::detail::with_cancel_on_first_use(conn_ctx_,
                                                                  [this] { context_observed(); });
  cancel_request_ = cancel;
  req.ctx_ = std::move(ctx);

  Response w(*this, req);
  response_ = &w;
  if (req.close || !server_.keep_alives() || server_.shutting_down()) w.close_after_reply();
  if (reader_.body_done()) body_done();
  bool panicked = false;
  try {
    handle(req, w);
  } catch (...) {
    panicked = true;
  }
  cancel();  // Go cancels the request's context when the handler returns
  stop_watcher();
  body->detach();
  response_ = nullptr;
  if (panicked) return false;
  // The client still waits for "100 Continue" before sending a body nobody read: the
  // connection cannot be reused (Go closes it too).
  if (expect_continue_) w.close_after_reply();
  if (w.body_limit_hit() && !w.written_anything()) {
    error_reply(w, "http: request body too large", status_request_entity_too_large);
  }
  bool finished = w.finish();
  request_metrics().record(req.method, w.status(), time::now() - started);
  // Whatever the handler left of the body is read and dropped, up to a limit (Go's rule); a
  // larger remainder closes the connection instead.
  if (finished && !w.closing() && (reader_.body_done() || reader_.discard_body(kMaxPostHandlerRead))) return true;
  unread_body_ = !reader_.body_done();
  return false;
}

// The connection closes while the client may still be sending the body we did not read (a
// 413, a handler that answered early): closing now makes the kernel answer with a reset, which
// can destroy our response in the client's receive buffer before it is read
// (golang.org/issue/3595). So send FIN first, then read and drop what still comes until the
// client closes or kRstAvoidanceDelay passes (Go sleeps that long after CloseWrite).
void Connection::linger() {
  if (conn_.close_write()) return;
  (void)conn_.set_read_deadline(time::now() + kRstAvoidanceDelay);
  char scratch[16 << 10];
  while (!conn_.read(std::span<char>(scratch)).err) {
  }
}

void Connection::serve() {
  // Requests register with their connection's context, not with the server's, so they do not
  // all take the server context's lock (Go derives them the same way).
  auto [ctx, cancel] = context::with_cancel(server_.base_context());
  conn_ctx_ = std::move(ctx);
  while (serve_one()) {
  }
  cancel();
  if (unread_body_) linger();
  (void)conn_.close();
}

// ---- the response ----------------------------------------------------------------------------

void Response::write_header(int status_code) {
  if (wrote_header_) {
    std::string line = "http: superfluous response.WriteHeader call (status " +
                        std::to_string(status_code) + ")";
    log_error(conn_.config(), line);
    return;
  }
  if (status_code < 100 || status_code > 999) {
    gocxx::panic("invalid WriteHeader code " + std::to_string(status_code));
  }
  wrote_header_ = true;
  status_ = status_code;
  if (std::string cl = header_.get("Content-Length"); !cl.empty()) {
    try {
      declared_length_ = std::stoll(cl);
    } catch (...) {
      header_.del("Content-Length");  // Go logs and drops an invalid value
    }
  }
}

Result<std::size_t> Response::write(std::string_view data) {
  if (!wrote_header_) write_header(status_ok);
  if (write_err_) return {0, write_err_};
  if (!body_allowed(status_)) return {0, err_body_not_allowed};
  if (req_.method == "HEAD") {  // counted (Content-Length) and sniffed, never sent
    written_ += static_cast<std::int64_t>(data.size());
    if (!head_sent_ && buffer_.size() < kSniffLen) {
      buffer_.append(data.substr(0, kSniffLen - buffer_.size()));
    }
    return {data.size(), nullptr};
  }
  if (declared_length_ >= 0 && written_ + static_cast<std::int64_t>(data.size()) > declared_length_) {
    return {0, errors::make("http: wrote more than the declared Content-Length")};
  }
  written_ += static_cast<std::int64_t>(data.size());
  if (!head_sent_ && buffer_.size() + data.size() <= kBufferBeforeChunking) {
    buffer_.append(data);
    return {data.size(), nullptr};
  }
  if (!head_sent_) {
    if (error err = send_head(false, data)) return {0, err};
  }
  error err = chunked_ ? send_chunk(data) : write_out(data);
  return {err ? 0 : data.size(), err};
}

void Response::flush() {
  if (!wrote_header_) write_header(status_ok);
  if (!head_sent_) (void)send_head(false);
}

void append_decimal(std::string& out, std::int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// Sends the status line and headers. `final`: the handler is done, so a buffered body has a
// known length; otherwise the length is unknown unless declared, and the body is chunked
// (HTTP/1.1) or delimited by closing the connection (HTTP/1.0). What the server adds (Date,
// Content-Length, a sniffed Content-Type, Connection, Transfer-Encoding) goes on the wire
// after the handler's headers and is not added to header(), as Go's extraHeader.
error Response::send_head(bool final, std::string_view first) {
  head_sent_ = true;
  const Header& h = header_;
  const bool has_body = body_allowed(status_);
  const bool head = req_.method == "HEAD";
  const bool handler_te = h.has("Transfer-Encoding");
  std::string_view content_type;
  if (has_body && written_ > 0 && !handler_te && !h.has("Content-Type")) {
    content_type = detect_content_type(buffer_.empty() ? first : buffer_);
  }
  std::int64_t content_length = -1;
  std::string_view transfer_encoding;
  if (has_body && declared_length_ < 0) {
    if (final && !handler_te && (!head || written_ > 0)) {
      content_length = written_;
    } else if (!final && req_.proto_minor >= 1 && !head) {
      chunked_ = true;
      transfer_encoding = "chunked";
    } else if (!final && !head) {
      close_after_ = true;  // HTTP/1.0: the end of the body is the end of the connection
    }
  }
  std::string_view connection;
  if (close_after_) {
    connection = "close";
  } else if (req_.proto_minor == 0) {
    connection = "keep-alive";
  }
  std::string_view excluded[4];
  std::size_t n_excluded = 0;
  if (!has_body) {
    excluded[n_excluded++] = "Content-Length";
    excluded[n_excluded++] = "Transfer-Encoding";
  } else if (chunked_) {
    excluded[n_excluded++] = "Transfer-Encoding";
  }
  if (!connection.empty()) excluded[n_excluded++] = "Connection";

  std::string out;
  out.reserve(160 + (head ? 0 : buffer_.size()));
  out += "HTTP/1.1 ";
  append_decimal(out, status_);
  out += ' ';
  if (std::string_view text = status_text(status_); !text.empty()) {
    out += text;
  } else {
    out += "status code ";
    append_decimal(out, status_);
  }
  out += "\r\n";
  h.write_subset(out, {excluded, n_excluded});
  auto line = [&out](std::string_view key, std::string_view value) {
    out += key;
    out += ": ";
    out += value;
    out += "\r\n";
  };
  if (!h.has("Date")) line("Date", http_date());
  if (content_length >= 0) {
    out += "Content-Length: ";
    append_decimal(out, content_length);
    out += "\r\n";
  }
  if (!content_type.empty()) line("Content-Type", content_type);
  if (!connection.empty()) line("Connection", connection);
  if (!transfer_encoding.empty()) line("Transfer-Encoding", transfer_encoding);
  out += "\r\n";
  if (!buffer_.empty() && !head) {
    if (chunked_) {
      append_chunk(out, buffer_);
    } else {
      out += buffer_;
    }
  }
  buffer_.clear();
  return write_out(out);
}

error Response::send_chunk(std::string_view data) {
  if (data.empty()) return nullptr;
  std::string out;
  append_chunk(out, data);
  return write_out(out);
}

error Response::write_out(std::string_view data) {
  if (write_err_) return write_err_;
  if (auto r = conn_.conn().write(data); r.err) {
    write_err_ = r.err;
    close_after_ = true;
  }
  return write_err_;
}

bool Response::finish() {
  if (!wrote_header_) write_header(status_ok);
  if (!head_sent_) {
    if (write_err_ = send_head(true); write_err_) return false;
  } else if (chunked_) {
    if (write_out("0\r\n\r\n")) return false;
  }
  if (declared_length_ >= 0 && written_ != declared_length_ && req_.method != "HEAD") {
    return false;  // a short body: the client would wait for the rest
  }
  return !write_err_;
}

// ---- the server ------------------------------------------------------------------------------

ServerState::ServerState() {
  auto [ctx, cancel] = context::with_cancel(context::background());
  base_ctx_ = ctx;
  cancel_base_ = cancel;
}

bool ServerState::shutting_down() const { return shutting_down_.load(std::memory_order_acquire); }
bool ServerState::keep_alives() const { return keep_alives_.load(std::memory_order_acquire); }

bool ServerState::track_listener(const net::Listener& ln) {
  std::lock_guard lk(mu_);
  if (shutting_down()) return false;
  listeners_.push_back(ln);
  return true;
}

void ServerState::close_listeners() {
  std::vector<net::Listener> lns;
  {
    std::lock_guard lk(mu_);
    lns.swap(listeners_);
  }
  for (auto& ln : lns) (void)ln.close();
}

// Closes the connections in state `which` (all if nullopt). True if none is left.
bool ServerState::close_conns(bool idle_only) {
  std::lock_guard lk(mu_);
  for (Connection* c : conns_) {
    if (ConnState s = c->state(); !idle_only || s == ConnState::kIdle || s == ConnState::kNew) {
      (void)c->conn().close();  // its goroutine sees the error and leaves
    }
  }
  return conns_.empty();
}

error ServerState::serve(Server& config, net::Listener ln) {
  if (!track_listener(ln)) {
    (void)ln.close();
    return err_server_closed;
  }
  time::Duration backoff{};
  for (;;) {
    auto [c, err] = ln.accept();
    if (err) {
      if (shutting_down()) return err_server_closed;
      int code = os::errno_of(err);
      bool temporary = net::is_timeout(err) || code == EMFILE || code == ENFILE ||
                       code == ENOBUFS || code == ENOMEM || code == EINTR;
      if (!temporary) return err;
      // Go's accept loop: back off from 5 ms, doubling, up to 1 s, and keep serving.
      backoff = backoff == time::Duration::zero() ? std::chrono::milliseconds(5) : backoff * 2;
      if (backoff > std::chrono::seconds(1)) backoff = std::chrono::seconds(1);
      std::string line = "http: Accept error: " + err.message() + "; retrying in " +
                         std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(backoff).count()) + "ms";
      log_error(config, line);
      time::sleep(backoff);
      continue;
    }
    backoff = {};
    auto conn = std::make_shared<Connection>(*this, config, std::move(c));
    {
      std::lock_guard lk(mu_);
      conns_.insert(conn.get());
    }
    gocxx::go([this, conn] {
      conn->serve();
      std::lock_guard lk(mu_);
      conns_.erase(conn.get());
    });
  }
}

error ServerState::shutdown(const context::Context& ctx) {
  shutting_down_.store(true, std::memory_order_release);
  close_listeners();
  std::vector<std::function<void()>> hooks;
  {
    std::lock_guard lk(mu_);
    hooks.swap(on_shutdown_);
  }
  for (auto& f : hooks) gocxx::go(f);
  // Go polls with a growing interval (1 ms to 500 ms) until every connection is gone.
  time::Duration interval = std::chrono::milliseconds(1);
  for (;;) {
    if (close_conns(/*idle_only=*/true)) return nullptr;
    if (error err = ctx.err()) {
      cancel_base_();  // the handlers still running are told to give up
      return err;
    }
    gocxx::select(recv_case(ctx.done(), [] {}), recv_case(time::after(interval), [] {}));
    interval = std::min<time::Duration>(interval * 2, std::chrono::milliseconds(500));
  }
}

error ServerState::close() {
  shutting_down_.store(true, std::memory_order_release);
  close_listeners();
  cancel_base_();
  close_conns(/*idle_only=*/false);
  return nullptr;
}

void ServerState::set_keep_alives(bool on) {
  keep_alives_.store(on, std::memory_order_release);
  if (!on) close_conns(/*idle_only=*/true);
}

void ServerState::on_shutdown(std::function<void()> f) {
  std::lock_guard lk(mu_);
  on_shutdown_.push_back(std::move(f));
}

}  // namespace detail

// ---- public API ------------------------------------------------------------------------------

error Server::listen_and_serve() {
  if (state_.get().shutting_down()) return err_server_closed;
  auto [ln, err] = net::listen("tcp", addr.empty() ? ":http" : addr);
  if (err) return err;
  return serve(std::move(ln));
}

error Server::serve(net::Listener ln) { return state_.get().serve(*this, std::move(ln)); }
error Server::shutdown(const context::Context& ctx) { return state_.get().shutdown(ctx); }
error Server::close() { return state_.get().close(); }
void Server::set_keep_alives_enabled(bool on) { state_.get().set_keep_alives(on); }
void Server::register_on_shutdown(std::function<void()> f) { state_.get().on_shutdown(std::move(f)); }

error listen_and_serve(std::string_view addr, HandlerRef handler) {
  Server srv;
  srv.addr = std::string(addr);
  srv.handler = std::move(handler);
  return srv.listen_and_serve();
}

error serve(net::Listener ln, HandlerRef handler) {
  Server srv;
  srv.handler = std::move(handler);
  return srv.serve(std::move(ln));
}

// Go's MaxBytesReader: counts what the handler reads; past n, fails with MaxBytesError and
// tells the response to close the connection (and to answer 413 if the handler does not).
namespace {
class MaxBytesBody final : public detail::BodySource {
 public:
  MaxBytesBody(ResponseWriter& w, Body body, std::int64_t n) : w_(w), body_(std::move(body)), left_(n), limit_(n) {}
  Result<std::size_t> read(std::span<char> buf) override {
    if (err_) return {0, err_};
    if (buf.empty()) return {0, nullptr};
    // Read one byte more than allowed, to tell "exactly n" from "more than n".
    std::size_t want = std::min<std::size_t>(buf.size(), static_cast<std::size_t>(left_) + 1);
    auto [n, err] = body_.read(buf.first(want));
    if (static_cast<std::int64_t>(n) <= left_) {
      left_ -= static_cast<std::int64_t>(n);
      return {n, err};
    }
    n = static_cast<std::size_t>(left_);
    left_ = 0;
    err_ = errors::make_as<MaxBytesError>(limit_);
    if (auto* resp = dynamic_cast<detail::Response*>(&w_)) resp->mark_body_limit_hit();
    return {n, err_};
  }
  error close() override { return body_.close(); }

 private:
  ResponseWriter& w_;
  Body body_;
  std::int64_t left_;
  std::int64_t limit_;
  error err_;
};
}  // namespace

Body max_bytes_reader(ResponseWriter& w, Body body, std::int64_t n) {
  return Body(std::make_shared<MaxBytesBody>(w, std::move(body), std::max<std::int64_t>(n, 0)));
}

}  // namespace gocxx::http
