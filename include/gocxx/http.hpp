// gocxx::http — Go's package net/http: an HTTP/1.1 server (one goroutine per connection, as
// Go's), ServeMux with Go 1.22 patterns, and a client with connection reuse.
//
//   gocxx::http::ServeMux mux;
//   mux.handle_func("GET /hello/{name}", [](gocxx::http::ResponseWriter& w, gocxx::http::Request& r) {
//     w.header().set("Content-Type", "text/plain");
//     (void)w.write("hello " + r.path_value("name"));
//   });
//   gocxx::http::Server srv{.addr = "127.0.0.1:8080", .handler = mux,
//                           .read_header_timeout = 5s, .idle_timeout = 60s};
//   gocxx::go([&] { (void)srv.listen_and_serve(); });   // http::err_server_closed after shutdown
//   ...
//   (void)srv.shutdown(ctx);                           // stop accepting, finish in-flight requests
//
// Messages are parsed by Debian's http-parser (libhttp-parser) behind a thin wrapper
// (src/pkg/http/parser.*). Defaults, limits and status codes are Go's: 1 MiB of request
// headers (431 beyond), malformed requests get 400 and the connection is closed, a handler that
// panics is recovered and logged with its stack, and the connection closed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gocxx/context.hpp"
#include "gocxx/errors.hpp"
#include "gocxx/net.hpp"
#include "gocxx/time.hpp"

namespace gocxx::http {

// ---- status codes ----------------------------------------------------------------------------

inline constexpr int status_continue = 100;
inline constexpr int status_ok = 200;
inline constexpr int status_created = 201;
inline constexpr int status_no_content = 204;
inline constexpr int status_moved_permanently = 301;
inline constexpr int status_found = 302;
inline constexpr int status_not_modified = 304;
inline constexpr int status_temporary_redirect = 307;
inline constexpr int status_permanent_redirect = 308;
inline constexpr int status_bad_request = 400;
inline constexpr int status_unauthorized = 401;
inline constexpr int status_forbidden = 403;
inline constexpr int status_not_found = 404;
inline constexpr int status_method_not_allowed = 405;
inline constexpr int status_request_timeout = 408;
inline constexpr int status_length_required = 411;
inline constexpr int status_request_entity_too_large = 413;
inline constexpr int status_expectation_failed = 417;
inline constexpr int status_too_many_requests = 429;
inline constexpr int status_request_header_fields_too_large = 431;
inline constexpr int status_internal_server_error = 500;
inline constexpr int status_not_implemented = 501;
inline constexpr int status_service_unavailable = 503;
inline constexpr int status_http_version_not_supported = 505;

// Go's http.StatusText: "Not Found" for 404; "" for an unknown code.
std::string_view status_text(int code);

// ---- headers ---------------------------------------------------------------------------------

// Go's textproto.CanonicalMIMEHeaderKey: "content-type" -> "Content-Type". A key with a byte
// that is not a token character is returned unchanged.
std::string canonical_header_key(std::string_view key);

// Go's http.Header: canonical keys, each with one or more values, in key order. Kept as a
// sorted vector: a message has a handful of headers, and a short scan of contiguous entries is
// faster than a tree's nodes (the server builds one Header per response).
class Header {
 public:
  using Entry = std::pair<std::string, std::vector<std::string>>;
  using Entries = std::vector<Entry>;

  void set(std::string_view key, std::string value);  // replaces every value of key
  void add(std::string_view key, std::string value);  // appends
  std::string get(std::string_view key) const;        // the first value, or ""
  const std::vector<std::string>* values(std::string_view key) const;  // nullptr if absent
  bool has(std::string_view key) const { return values(key) != nullptr; }
  void del(std::string_view key);
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  Entries::const_iterator begin() const { return entries_.begin(); }
  Entries::const_iterator end() const { return entries_.end(); }
  // Writes "Key: value\r\n" lines (Go's Header.Write): values with CR or LF have them replaced
  // by spaces, so a header can never inject another.
  void write(std::string& out) const { write_subset(out, {}); }
  // Go's Header.WriteSubset: as write, skipping the (canonical) keys in `exclude`.
  void write_subset(std::string& out, std::span<const std::string_view> exclude) const;

 private:
  // The entry for the canonical form of key, or where it would go.
  Entries::iterator slot(std::string_view key, bool& found);
  Entries::const_iterator find(std::string_view key) const;

  Entries entries_;
};

// ---- URLs ------------------------------------------------------------------------------------

// Go's url.Values: a query string's parameters.
class Values {
 public:
  std::string get(std::string_view key) const;  // the first value, or ""
  const std::vector<std::string>* values(std::string_view key) const;
  bool has(std::string_view key) const;
  void set(std::string key, std::string value);
  void add(std::string key, std::string value);
  void del(std::string_view key);
  std::string encode() const;  // Go's Values.Encode: sorted by key, query-escaped

 private:
  std::map<std::string, std::vector<std::string>, std::less<>> map_;
};

// Go's url.ParseQuery (invalid escapes are an error; the other parameters are still returned).
Result<Values> parse_query(std::string_view query);
// Go's url.QueryEscape / QueryUnescape / PathEscape / PathUnescape.
std::string query_escape(std::string_view s);
Result<std::string> query_unescape(std::string_view s);
std::string path_escape(std::string_view s);
Result<std::string> path_unescape(std::string_view s);

// The parts of a URL that HTTP needs (Go's url.URL, without user info and opaque forms).
struct URL {
  std::string scheme;     // "http"; empty in a server request's URL
  std::string host;       // "example.com:8080"; empty in a server request's URL
  std::string path;       // decoded: "/a b"
  std::string raw_path;   // the encoded path when it differs from escaping `path` ("/a%2Fb")
  std::string raw_query;  // without '?'
  std::string fragment;

  Values query() const;                // parse_query(raw_query), errors ignored (Go's Query)
  std::string escaped_path() const;    // raw_path if valid, else path escaped
  std::string request_uri() const;     // escaped path + "?" + raw_query
  std::string string() const;
};

// Go's url.Parse for absolute ("http://h/p?q") and origin-form ("/p?q") URLs.
Result<URL> parse_url(std::string_view raw);

// ---- bodies ----------------------------------------------------------------------------------

namespace detail {
class Connection;  // the server's side of a connection (server.cpp)

// Where a Body's bytes come from: a request body on a server connection, a response body on a
// client connection, an in-memory string.
class BodySource {
 public:
  virtual ~BodySource() = default;
  virtual Result<std::size_t> read(std::span<char> buf) = 0;
  virtual error close() = 0;
};
}  // namespace detail

// A message body (Go's io.ReadCloser for Request.Body / Response.Body). Reads return io::eof at
// the end. An empty Body (no source) reads as empty. Copies share the stream.
class Body {
 public:
  Body() = default;
  explicit Body(std::shared_ptr<detail::BodySource> source) : source_(std::move(source)) {}
  static Body from_string(std::string content);

  Result<std::size_t> read(std::span<char> buf);
  // Go's io.ReadAll: everything up to io::eof (err is nil then).
  Result<std::string> read_all();
  error close();
  explicit operator bool() const { return source_ != nullptr; }

 private:
  std::shared_ptr<detail::BodySource> source_;
};

// ---- requests --------------------------------------------------------------------------------

class Request {
 public:
  std::string method = "GET";
  URL url;
  std::string proto = "HTTP/1.1";
  int proto_major = 1;
  int proto_minor = 1;
  Header header;
  Body body;
  std::int64_t content_length = 0;               // -1: unknown (chunked)
  std::vector<std::string> transfer_encoding;    // {"chunked"}
  bool close = false;                            // Connection: close
  std::string host;                              // Host header or the URL's host
  std::string remote_addr;                       // server: the client's "ip:port"
  std::string request_uri;                       // server: the request target, unmodified
  std::string pattern;                           // server: the ServeMux pattern that matched

  // Server: cancelled when the client goes away, the server shuts down, or the handler
  // returns. Client: the context passed to with_context (background() otherwise).
  const context::Context& context() const;
  // A copy of the request with ctx as its context (Go's WithContext).
  Request with_context(context::Context ctx) const;

  // A {name} or {name...} wildcard's value from the ServeMux pattern that matched ("" if none).
  std::string path_value(std::string_view name) const;
  void set_path_value(std::string name, std::string value);
  // Go's FormValue for URL query parameters.
  std::string form_value(std::string_view key) const;

 private:
  friend class detail::Connection;  // sets ctx_ without with_context's copy
  context::Context ctx_;
  std::vector<std::pair<std::string, std::string>> path_values_;
};

// Go's http.NewRequest / NewRequestWithContext (client side). A body string sets
// content_length.
Result<Request> new_request(std::string_view method, std::string_view url, std::string body = {});
Result<Request> new_request_with_context(const context::Context& ctx, std::string_view method,
                                         std::string_view url, std::string body = {});

// ---- handlers --------------------------------------------------------------------------------

// Go's http.ResponseWriter, with http.Flusher's flush().
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  // The headers to send; changes after the first write or write_header are ignored.
  virtual Header& header() = 0;
  // Sends the status line and headers (once; a second call is logged and ignored, as Go's
  // "superfluous response.WriteHeader call").
  virtual void write_header(int status_code) = 0;
  // Writes body bytes, sending 200 and the headers first if write_header was not called.
  virtual Result<std::size_t> write(std::string_view data) = 0;
  // Sends what is buffered to the client now (the response becomes chunked if its length is
  // not known yet).
  virtual void flush() = 0;
};

// Go's http.Handler.
class Handler {
 public:
  virtual ~Handler() = default;
  virtual void serve_http(ResponseWriter& w, Request& r) = 0;
};

// Go's http.HandlerFunc.
using HandlerFunc = std::function<void(ResponseWriter&, Request&)>;

// What Server::handler and ServeMux::handle accept: a Handler held by reference (it must
// outlive its use: a ServeMux, usually) or a shared Handler, or a function held by value. An
// empty HandlerRef is nil.
class HandlerRef {
 public:
  HandlerRef() = default;
  HandlerRef(Handler& h) : ref_(&h) {}  // NOLINT: implicit, as Go passes handlers around
  HandlerRef(std::shared_ptr<Handler> h) : owned_(std::move(h)), ref_(owned_.get()) {}  // NOLINT
  HandlerRef(HandlerFunc f);  // NOLINT
  template <class F>
    requires(std::is_invocable_v<F&, ResponseWriter&, Request&> &&
             !std::is_base_of_v<Handler, std::remove_cvref_t<F>>)
  HandlerRef(F f) : HandlerRef(HandlerFunc(std::move(f))) {}  // NOLINT
  explicit operator bool() const { return ref_ != nullptr; }
  void serve_http(ResponseWriter& w, Request& r) const { ref_->serve_http(w, r); }
  Handler* get() const { return ref_; }

 private:
  std::shared_ptr<Handler> owned_;
  Handler* ref_ = nullptr;
};

// Go's http.DetectContentType: the MIME type of data from its first 512 bytes (Go's sniffing
// algorithm); "application/octet-stream" if nothing matches.
std::string_view detect_content_type(std::string_view data);

// Go's http.Error: replies with code and msg as text/plain (and X-Content-Type-Options: nosniff).
void error_reply(ResponseWriter& w, std::string_view msg, int code);
// Go's http.NotFound: 404 "404 page not found".
void not_found(ResponseWriter& w, Request& r);
// Go's http.Redirect.
void redirect(ResponseWriter& w, Request& r, std::string_view url, int code);
// Go's http.MaxBytesReader: a Body that fails with a MaxBytesError after n bytes, and makes the
// server reply 413 and close the connection if the handler has not responded yet.
Body max_bytes_reader(ResponseWriter& w, Body body, std::int64_t n);
// Go's *http.MaxBytesError: "http: request body too large".
class MaxBytesError final : public ErrorBase {
 public:
  explicit MaxBytesError(std::int64_t limit) : limit(limit) {}
  std::string message() const override { return "http: request body too large"; }
  std::int64_t limit;
};
// Go's http.StripPrefix.
HandlerRef strip_prefix(std::string prefix, HandlerRef h);

// Go 1.22's ServeMux: patterns "[METHOD ][HOST]/PATH" with {name} and {name...} wildcards and
// {$} for an exact trailing slash; the most specific pattern wins; a path that matches only
// patterns of other methods gets 405 with Allow; GET patterns also match HEAD. Registering an
// invalid pattern, or one that conflicts with a registered one (neither more specific), is a
// panic with Go's message.
class ServeMux : public Handler {
 public:
  ServeMux();
  ~ServeMux() override;
  ServeMux(const ServeMux&) = delete;
  ServeMux& operator=(const ServeMux&) = delete;

  void handle(std::string_view pattern, HandlerRef handler);
  void handle_func(std::string_view pattern, HandlerFunc handler);
  void serve_http(ResponseWriter& w, Request& r) override;
  // Go's ServeMux.Handler: the handler and pattern that would serve r (a 404/405/redirect
  // handler and "" when no pattern matches).
  std::pair<HandlerRef, std::string> handler(Request& r) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Go's http.DefaultServeMux and the package-level Handle/HandleFunc.
ServeMux& default_serve_mux();
void handle(std::string_view pattern, HandlerRef handler);
void handle_func(std::string_view pattern, HandlerFunc handler);

// ---- server ----------------------------------------------------------------------------------

// Go's http.ErrServerClosed: what listen_and_serve/serve return after shutdown or close.
inline const error err_server_closed = errors::make("http: Server closed");
// Go's http.ErrAbortHandler: a handler that panics with it is not logged.
inline const error err_abort_handler = errors::make("net/http: abort Handler");

namespace detail {
class ServerState;
// The server's private state, shared by copies of a Server (made on first use).
class ServerStatePtr {
 public:
  ServerState& get() const;

 private:
  mutable std::shared_ptr<ServerState> state_;
};
}  // namespace detail

// Go's http.Server. An aggregate, so that it can be configured with designated initializers.
// Zero durations mean no timeout; read_header_timeout zero falls back to read_timeout (Go's rule).
struct Server {
  std::string addr;             // "host:port"; ":http" (80) if empty
  HandlerRef handler;           // nil: default_serve_mux()
  time::Duration read_timeout{};         // whole request, headers and body
  time::Duration read_header_timeout{};  // request line and headers
  time::Duration write_timeout{};        // from the end of the headers to the end of the response
  time::Duration idle_timeout{};         // between keep-alive requests (read_timeout if zero)
  std::size_t max_header_bytes = 0;      // 0: default_max_header_bytes
  // Where errors go (Go's ErrorLog): accept failures, recovered panics with their stacks.
  // Default: stderr, prefixed "http: ".
  std::function<void(std::string_view)> error_log;

  // Listens on addr and serves; returns err_server_closed after shutdown/close, else the error.
  [[nodiscard]] error listen_and_serve();
  // Serves the connections ln accepts, one goroutine each (takes ownership of ln).
  [[nodiscard]] error serve(net::Listener ln);
  // Go's Shutdown: closes the listeners, then waits until every connection is idle and closed,
  // or until ctx is done (its error is returned; the remaining connections are left running).
  error shutdown(const context::Context& ctx);
  // Go's Close: closes the listeners and every connection now.
  error close();
  // Go's SetKeepAlivesEnabled (default on).
  void set_keep_alives_enabled(bool on);
  // Go's RegisterOnShutdown.
  void register_on_shutdown(std::function<void()> f);

  detail::ServerStatePtr state_;  // internal
};

inline constexpr std::size_t default_max_header_bytes = 1 << 20;  // Go's DefaultMaxHeaderBytes

// Go's http.ListenAndServe / Serve with a one-off Server.
[[nodiscard]] error listen_and_serve(std::string_view addr, HandlerRef handler);
[[nodiscard]] error serve(net::Listener ln, HandlerRef handler);

// ---- client ----------------------------------------------------------------------------------

struct Response {
  std::string status;       // "200 OK"
  int status_code = 0;
  std::string proto = "HTTP/1.1";
  int proto_major = 1;
  int proto_minor = 1;
  Header header;
  Body body;                // close() it (or read it to the end) so the connection is reused
  std::int64_t content_length = -1;
  std::vector<std::string> transfer_encoding;
  bool close = false;
};

namespace detail {
class Transport;
class TransportPtr {
 public:
  // The transport, made on first use; response bodies share it (they may outlive the Client).
  std::shared_ptr<Transport> get() const;

 private:
  mutable std::shared_ptr<Transport> transport_;
};
}  // namespace detail

// Go's http.Client: keep-alive connections are reused per host. timeout bounds the whole
// exchange, reading the body included (zero: none). Redirects are not followed (Go follows up
// to 10; gocxx returns the 3xx response).
struct Client {
  time::Duration timeout{};
  std::size_t max_idle_conns_per_host = 2;  // Go's DefaultMaxIdleConnsPerHost

  // Go's Client.Do (`do` is a C++ keyword). Only "http" URLs.
  [[nodiscard]] Result<Response> send(Request& req);
  [[nodiscard]] Result<Response> get(std::string_view url);
  [[nodiscard]] Result<Response> head(std::string_view url);
  [[nodiscard]] Result<Response> post(std::string_view url, std::string_view content_type,
                                      std::string body);
  // Closes the idle connections (Go's CloseIdleConnections).
  void close_idle_connections();

  detail::TransportPtr transport_;  // internal
};

// Go's http.DefaultClient and the package-level Get/Head/Post.
Client& default_client();
[[nodiscard]] Result<Response> get(std::string_view url);
[[nodiscard]] Result<Response> head(std::string_view url);
[[nodiscard]] Result<Response> post(std::string_view url, std::string_view content_type,
                                    std::string body);

}  // namespace gocxx::http

namespace gocxx::debug {

// Go's `import _ "net/http/pprof"` and client_golang's promhttp.Handler() in one call: serves
// /debug/pprof/ (index), /debug/pprof/goroutine?debug=0|1|2 (0: the gzipped profile that
// `go tool pprof http://host/debug/pprof/goroutine` reads), /debug/pprof/cmdline,
// /debug/pprof/trace?seconds=N (N <= 60, one at a time; Chrome Trace Event JSON, not Go's
// binary format), /debug/gocxx/leaks (the leak check's table and the watchdog's state),
// /debug/gocxx/flightrecorder (the flight recorder's window, gocxx/trace.hpp) and /metrics
// (Prometheus text format: gocxx::metrics' default registry with the runtime's own metrics).
// These expose every goroutine's stack: register them on a loopback or protected
// server only. docs/diagnostics.md documents each.
void register_handlers(http::ServeMux& mux);

}  // namespace gocxx::debug
