// The HTTP/1.1 client (Go's net/http client.go + transport.go, much reduced): one request at a
// time per connection, keep-alive connections pooled per host, the client's timeout and the
// request's context enforced through the connection's deadlines (an expired deadline or a
// cancelled context moves them into the past, which wakes any blocked read or write).
#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

#include "gocxx/http.hpp"
#include "gocxx/sync.hpp"
#include "pkg/http/parser.hpp"
#include "pkg/http/text.hpp"

namespace gocxx::http {

namespace detail {

namespace {

const time::TimePoint kLongAgo{std::chrono::nanoseconds(1)};

// A context's end as the client reports it: a deadline is a timeout (is_timeout), as Go's
// client reports its Timeout.
error context_error(const error& err) {
  return err == context::deadline_exceeded ? os::err_deadline_exceeded : err;
}

// Go's *url.Error: `Get "http://127.0.0.1:1/": dial tcp 127.0.0.1:1: connect: connection refused`.
class UrlError final : public WrappingError {
 public:
  UrlError(std::string op, std::string url, error err)
      : op_(std::move(op)), url_(std::move(url)), err_(std::move(err)) {}
  std::string message() const override { return op_ + " \"" + url_ + "\": " + err_.message(); }
  gocxx::error unwrap() const override { return err_; }

 private:
  std::string op_;
  std::string url_;
  gocxx::error err_;
};

// Go's urlErrorOp: "GET" -> "Get".
std::string op_name(std::string_view method) {
  std::string op(method);
  for (std::size_t i = 1; i < op.size(); ++i) op[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(op[i])));
  return op;
}

}  // namespace

// A kept-alive connection with its response reader.
struct PooledConn {
  net::Conn conn;
  MessageReader reader;
  explicit PooledConn(net::Conn c)
      : conn(std::move(c)),
        reader(MessageReader::kResponse, [c = conn](std::span<char> b) mutable { return c.read(b); },
               default_max_header_bytes) {}
};

class Transport {
 public:
  // An idle connection to host_port, or a new one. *reused says which.
  Result<std::shared_ptr<PooledConn>> get(const std::string& host_port, const context::Context& ctx,
                                          bool* reused) {
    {
      std::lock_guard lk(mu_);
      auto it = idle_.find(host_port);
      if (it != idle_.end() && !it->second.empty()) {
        auto pc = std::move(it->second.back());
        it->second.pop_back();
        *reused = true;
        return {pc, nullptr};
      }
    }
    *reused = false;
    auto [c, err] = net::dial_context(ctx, "tcp", host_port);
    if (err) return {nullptr, err};
    return {std::make_shared<PooledConn>(std::move(c)), nullptr};
  }

  void put(const std::string& host_port, std::shared_ptr<PooledConn> pc, std::size_t max_idle) {
    (void)pc->conn.set_deadline(time::TimePoint{});
    std::lock_guard lk(mu_);
    auto& list = idle_[host_port];
    if (list.size() >= max_idle || closed_) {
      (void)pc->conn.close();
      return;
    }
    list.push_back(std::move(pc));
  }

  void close_idle() {
    std::map<std::string, std::vector<std::shared_ptr<PooledConn>>> idle;
    {
      std::lock_guard lk(mu_);
      idle.swap(idle_);
    }
    for (auto& [host, list] : idle) {
      for (auto& pc : list) (void)pc->conn.close();
    }
  }

 private:
  gocxx::sync::Mutex mu_;
  std::map<std::string, std::vector<std::shared_ptr<PooledConn>>> idle_;
  bool closed_ = false;
};

std::shared_ptr<Transport> TransportPtr::get() const {
  if (!transport_) transport_ = std::make_shared<Transport>();
  return transport_;
}

namespace {

// Watches the request's context while the exchange runs: when it is done, the connection's
// deadlines move into the past, so a blocked call fails at once.
class CancelWatch {
 public:
  CancelWatch(const context::Context& ctx, const net::Conn& conn) : ctx_(ctx) {
    if (ctx.done().is_nil()) return;
    auto state = std::make_shared<State>();
    state->conn = conn;
    state_ = state;
    stop_ = context::after_func(ctx, [state] {
      std::lock_guard lk(state->mu);
      if (!state->finished) (void)state->conn.set_deadline(kLongAgo);
    });
  }
  // Ends the watch; once this returns the callback will not touch the connection.
  void finish() {
    if (!state_) return;
    {
      std::lock_guard lk(state_->mu);
      state_->finished = true;
    }
    if (stop_) (*stop_)();
    state_.reset();
    ctx_ = context::Context{};
  }

 private:
  context::Context ctx_;  // kept alive while watched: a released context never fires
  struct State {
    gocxx::sync::Mutex mu;
    bool finished = false;
    net::Conn conn;
  };
  std::shared_ptr<State> state_;
  std::optional<context::StopFunc> stop_;
};

// The response body: reads through the connection's reader; at its end the connection goes
// back to the pool (if both sides keep it alive), else it is closed.
class ResponseBody final : public BodySource {
 public:
  ResponseBody(std::shared_ptr<Transport> t, std::string host_port, std::shared_ptr<PooledConn> pc, bool keep,
               std::size_t max_idle, std::shared_ptr<CancelWatch> watch)
      : transport_(std::move(t)), host_port_(std::move(host_port)), pc_(std::move(pc)), keep_(keep),
        max_idle_(max_idle), watch_(std::move(watch)) {}
  ~ResponseBody() override { (void)close(); }

  Result<std::size_t> read(std::span<char> buf) override {
    if (!pc_) return {0, done_err_ ? done_err_ : io::eof};
    auto r = pc_->reader.read_body(buf);
    if (r.err) release(r.err == io::eof, r.err);
    return r;
  }

  error close() override {
    if (!pc_) return nullptr;
    // A body closed before its end closes the connection, as in Go: reading the rest to reuse
    // the connection could wait forever (an event stream, a server that stalls).
    release(pc_->reader.body_done(), errors::make("http: read on closed response body"));
    return nullptr;
  }

 private:
  void release(bool reusable, error why) {
    watch_->finish();
    if (reusable && keep_) {
      transport_->put(host_port_, std::move(pc_), max_idle_);
    } else {
      (void)pc_->conn.close();
    }
    pc_.reset();
    done_err_ = why == io::eof ? nullptr : why;
  }

  std::shared_ptr<Transport> transport_;
  std::string host_port_;
  std::shared_ptr<PooledConn> pc_;
  bool keep_;
  std::size_t max_idle_;
  std::shared_ptr<CancelWatch> watch_;
  error done_err_;
};

// The request line and headers, then the body (sized or chunked).
error write_request(net::Conn& c, Request& req) {
  std::string out = req.method + " " + (req.url.request_uri().empty() ? "/" : req.url.request_uri()) +
                    " HTTP/1.1\r\nHost: " + (req.host.empty() ? req.url.host : req.host) + "\r\n";
  if (!req.header.has("User-Agent")) out += "User-Agent: gocxx-http-client/1.1\r\n";
  bool has_body = static_cast<bool>(req.body);
  bool chunked = has_body && req.content_length < 0;
  if (chunked) {
    out += "Transfer-Encoding: chunked\r\n";
  } else if (req.content_length > 0 || (has_body && req.method != "GET" && req.method != "HEAD")) {
    out += "Content-Length: " + std::to_string(std::max<std::int64_t>(req.content_length, 0)) + "\r\n";
  } else if (req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
    out += "Content-Length: 0\r\n";
  }
  if (req.close) out += "Connection: close\r\n";
  Header h = req.header;
  h.del("Host");
  h.del("Content-Length");
  h.del("Transfer-Encoding");
  h.write(out);
  out += "\r\n";
  if (auto r = c.write(out); r.err) return r.err;
  if (!has_body) return nullptr;
  char buf[32 << 10];
  for (;;) {
    auto [n, err] = req.body.read(buf);
    if (n > 0) {
      std::string chunk;
      if (chunked) {
        append_chunk(chunk, {buf, n});
      } else {
        chunk.assign(buf, n);
      }
      if (auto r = c.write(chunk); r.err) return r.err;
    }
    if (err == io::eof) break;
    if (err) return err;
  }
  if (chunked) {
    if (auto r = c.write("0\r\n\r\n"); r.err) return r.err;
  }
  return nullptr;
}

// The peer closed the connection under us: a reset, or a write after its close.
bool broken(const error& err) { return os::errno_of(err) == ECONNRESET || os::errno_of(err) == EPIPE; }

}  // namespace

}  // namespace detail

Result<Response> Client::send(Request& req) {
  const std::string op = detail::op_name(req.method);
  const std::string url = req.url.string();
  auto fail = [&](error err) { return Result<Response>{Response{}, errors::make_as<detail::UrlError>(op, url, err)}; };
  if (req.url.scheme != "http") {
    return fail(errors::make("unsupported protocol scheme \"" + req.url.scheme + "\""));
  }
  if (req.url.host.empty()) return fail(errors::make("http: no Host in request URL"));
  std::string host_port = req.url.host;
  if (auto [h, p, e] = net::split_host_port(host_port); e) host_port = net::join_host_port(host_port, "80");

  context::Context ctx = req.context();
  if (timeout > time::Duration::zero()) {
    // Lives as long as the exchange: the CancelWatch (kept by the body) holds it; when the
    // last handle goes, its timer stops.
    ctx = context::with_timeout(ctx, timeout).first;
  }
  std::shared_ptr<detail::Transport> transport = transport_.get();
  // A reused connection may have been closed by the server meanwhile: try once more on a
  // fresh one if nothing of the response arrived (Go retries such requests too).
  for (int attempt = 0;; ++attempt) {
    if (error err = ctx.err()) return fail(detail::context_error(err));
    bool reused = false;
    auto [pc, dial_err] = transport->get(host_port, ctx, &reused);
    if (dial_err) return fail(dial_err);
    auto watch = std::make_shared<detail::CancelWatch>(ctx, pc->conn);
    const error write_err = detail::write_request(pc->conn, req);
    // A server may answer before it has read the whole body (413, an early error) and close its
    // side: the write fails, yet the response can be waiting in the receive buffer (Go's
    // transport reads it too).
    error err = detail::broken(write_err) ? nullptr : write_err;
    detail::MessageHead head;
    if (!err) {
      // Skip informational responses the server sends unasked (100 Continue).
      do {
        auto r = pc->reader.read_head(req.method == "HEAD");
        head = std::move(r.value);
        err = r.err;
      } while (!err && head.status_code >= 100 && head.status_code < 200);
    }
    if (err) {
      if (write_err) err = write_err;  // no response came: the write's failure is the news
      watch->finish();
      (void)pc->conn.close();
      if (reused && attempt == 0 && (err == io::eof || detail::broken(err)) && !req.body) continue;
      if (ctx.err()) err = detail::context_error(ctx.err());
      return fail(err);
    }
    Response resp;
    resp.status_code = head.status_code;
    resp.status = std::to_string(head.status_code) + " " + head.reason;
    resp.proto = "HTTP/" + std::to_string(head.proto_major) + "." + std::to_string(head.proto_minor);
    resp.proto_major = head.proto_major;
    resp.proto_minor = head.proto_minor;
    resp.header = std::move(head.header);
    resp.content_length = head.chunked ? -1 : head.content_length;
    if (head.chunked) resp.transfer_encoding = {"chunked"};
    resp.header.del("Transfer-Encoding");  // Go keeps it in Response.TransferEncoding only
    resp.close = !head.keep_alive;
    bool keep = !write_err && head.keep_alive && !req.close;
    resp.body = Body(std::make_shared<detail::ResponseBody>(transport, host_port, pc, keep,
                                                            std::max<std::size_t>(max_idle_conns_per_host, 1),
                                                            watch));
    return {std::move(resp), nullptr};
  }
}

Result<Response> Client::get(std::string_view url) {
  auto [req, err] = new_request("GET", url);
  if (err) return {Response{}, err};
  return send(req);
}

Result<Response> Client::head(std::string_view url) {
  auto [req, err] = new_request("HEAD", url);
  if (err) return {Response{}, err};
  return send(req);
}

Result<Response> Client::post(std::string_view url, std::string_view content_type, std::string body) {
  auto [req, err] = new_request("POST", url, std::move(body));
  if (err) return {Response{}, err};
  req.header.set("Content-Type", std::string(content_type));
  return send(req);
}

void Client::close_idle_connections() { transport_.get()->close_idle(); }

Client& default_client() {
  static Client* c = new Client;  // used by goroutines until exit
  return *c;
}

Result<Response> get(std::string_view url) { return default_client().get(url); }
Result<Response> head(std::string_view url) { return default_client().head(url); }
Result<Response> post(std::string_view url, std::string_view content_type, std::string body) {
  return default_client().post(url, content_type, std::move(body));
}

}  // namespace gocxx::http
