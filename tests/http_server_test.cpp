// gocxx::http's server and client, end to end over loopback: keep-alive, pipelining, bodies
// (sized, chunked), HEAD, 100-continue, Go's automatic headers, limits (431, 400, 413),
// recovered panics, request contexts, timeouts, shutdown and close.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <gocxx/gocxx.hpp>
#include <gocxx/http.hpp>

#include <atomic>
#include <string>

#include "test_util.hpp"

namespace {

namespace http = gocxx::http;
namespace net = gocxx::net;
using gocxx::error;
using gocxx::test::run_with;
using namespace std::chrono_literals;
using testing::HasSubstr;
using testing::StartsWith;

// A server on 127.0.0.1:<free port> serving `handler` until the test body returns.
class TestServer {
 public:
  explicit TestServer(http::HandlerRef handler) {
    srv.handler = std::move(handler);
    srv.error_log = [this](std::string_view line) {
      std::lock_guard lk(log_mu);
      log += std::string(line) + "\n";
    };
  }
  void start() {
    auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
    ASSERT_FALSE(err) << err;
    addr = ln.addr().string();
    url = "http://" + addr;
    gocxx::go([this, ln = ln]() mutable { served.send(srv.serve(std::move(ln))); });
  }
  error stop() {
    (void)srv.close();
    return *served.recv();
  }
  std::string logged() {
    std::lock_guard lk(log_mu);
    return log;
  }

  http::Server srv;
  std::string addr;
  std::string url;
  gocxx::Chan<error> served{1};
  gocxx::sync::Mutex log_mu;
  std::string log;
};

// Reads from c until `until` appears in what was read (or EOF / error).
std::string read_until(net::Conn& c, std::string_view until) {
  std::string got;
  char buf[4096];
  while (got.find(until) == std::string::npos) {
    auto [n, err] = c.read(buf);
    got.append(buf, n);
    if (err) break;
  }
  return got;
}

std::string read_all(net::Conn& c) {
  std::string got;
  char buf[4096];
  for (;;) {
    auto [n, err] = c.read(buf);
    got.append(buf, n);
    if (err) return got;
  }
}

std::string body_of(http::Response& r) {
  auto [s, err] = r.body.read_all();
  EXPECT_FALSE(err) << err;
  return s;
}

TEST(HttpServer, HelloWithGoHeaders) {
  run_with(2, [] {
    http::ServeMux mux;
    mux.handle_func("GET /hello/{name}", [](http::ResponseWriter& w, http::Request& r) {
      (void)w.write("hello " + r.path_value("name"));
    });
    TestServer ts(mux);
    ts.start();
    auto [resp, err] = http::get(ts.url + "/hello/gopher");
    ASSERT_FALSE(err) << err;
    EXPECT_EQ(resp.status_code, 200);
    EXPECT_EQ(resp.status, "200 OK");
    EXPECT_EQ(resp.header.get("Content-Length"), "12");
    EXPECT_EQ(resp.header.get("Content-Type"), "text/plain; charset=utf-8");
    EXPECT_THAT(resp.header.get("Date"), testing::EndsWith(" GMT"));
    EXPECT_EQ(body_of(resp), "hello gopher");
    auto [r404, e404] = http::get(ts.url + "/nothing");
    ASSERT_FALSE(e404) << e404;
    EXPECT_EQ(r404.status_code, 404);
    EXPECT_EQ(body_of(r404), "404 page not found\n");
    auto [r405, e405] = http::post(ts.url + "/hello/x", "text/plain", "x");
    ASSERT_FALSE(e405) << e405;
    EXPECT_EQ(r405.status_code, 405);
    EXPECT_EQ(r405.header.get("Allow"), "GET, HEAD");
    (void)r405.body.close();
    EXPECT_EQ(ts.stop(), http::err_server_closed);
  });
}

TEST(HttpServer, KeepAliveReusesOneConnection) {
  run_with(2, [] {
    std::vector<std::string> peers;
    gocxx::sync::Mutex mu;
    TestServer ts([&](http::ResponseWriter& w, http::Request& r) {
      std::lock_guard lk(mu);
      peers.push_back(r.remote_addr);
      (void)w.write("ok");
    });
    ts.start();
    http::Client client;
    for (int i = 0; i < 5; ++i) {
      auto [resp, err] = client.get(ts.url + "/");
      ASSERT_FALSE(err) << err;
      EXPECT_EQ(body_of(resp), "ok");
    }
    ASSERT_EQ(peers.size(), 5u);
    for (auto& p : peers) EXPECT_EQ(p, peers[0]) << "a new connection per request";
    client.close_idle_connections();
    (void)ts.stop();
  });
}

// Closing a response body before its end (an event stream that never ends) returns at once and
// drops the connection, as Go's client does: the server sees its client leave.
TEST(HttpServer, ClosingAnEndlessBodyDropsTheConnection) {
  run_with(2, [] {
    gocxx::Chan<bool> handler_saw_client_leave(1);
    TestServer ts([&](http::ResponseWriter& w, http::Request& r) {
      w.header().set("Content-Type", "text/event-stream");
      (void)w.write("data: first\n\n");
      w.flush();
      (void)r.context().done().recv();  // until the client goes away
      handler_saw_client_leave.send(true);
    });
    ts.start();
    http::Client client;
    auto [resp, err] = client.get(ts.url + "/events");
    ASSERT_FALSE(err) << err;
    char buf[64];
    auto [n, rerr] = resp.body.read(buf);
    ASSERT_FALSE(rerr) << rerr;
    EXPECT_EQ(std::string_view(buf, n), "data: first\n\n");
    EXPECT_FALSE(resp.body.close());
    EXPECT_TRUE(handler_saw_client_leave.recv().value_or(false));
    (void)ts.stop();
  });
}

TEST(HttpServer, PipelinedRequestsAreAnsweredInOrder) {
  run_with(2, [] {
    TestServer ts([](http::ResponseWriter& w, http::Request& r) { (void)w.write("path=" + r.url.path); });
    ts.start();
    auto [c, err] = net::dial("tcp", ts.addr);
    ASSERT_FALSE(err) << err;
    ASSERT_FALSE(c.write("GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\n"
                         "GET /three HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").err);
    std::string all = read_all(c);
    auto one = all.find("path=/one"), two = all.find("path=/two"), three = all.find("path=/three");
    ASSERT_NE(one, std::string::npos) << all;
    ASSERT_NE(two, std::string::npos) << all;
    ASSERT_NE(three, std::string::npos) << all;
    EXPECT_LT(one, two);
    EXPECT_LT(two, three);
    EXPECT_THAT(all, HasSubstr("Connection: close"));
    (void)ts.stop();
  });
}

TEST(HttpServer, RequestBodiesSizedAndChunked) {
  run_with(2, [] {
    TestServer ts([](http::ResponseWriter& w, http::Request& r) {
      auto [body, err] = r.body.read_all();
      if (err) {
        http::error_reply(w, err.message(), 400);
        return;
      }
      (void)w.write(std::to_string(r.content_length) + ":" + body);
    });
    ts.start();
    auto [resp, err] = http::post(ts.url + "/", "text/plain", "hello body");
    ASSERT_FALSE(err) << err;
    EXPECT_EQ(body_of(resp), "10:hello body");

    auto [c, derr] = net::dial("tcp", ts.addr);
    ASSERT_FALSE(derr) << derr;
    ASSERT_FALSE(c.write("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                         "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: t\r\n\r\n").err);
    std::string all = read_all(c);
    EXPECT_THAT(all, StartsWith("HTTP/1.1 200 OK\r\n"));
    EXPECT_THAT(all, HasSubstr("-1:hello world"));
    (void)ts.stop();
  });
}

TEST(HttpServer, LargeResponsesAreChunkedAndHeadHasNoBody) {
  run_with(2, [] {
    const std::string big(100000, 'z');
    TestServer ts([&](http::ResponseWriter& w, http::Request&) { (void)w.write(big); });
    ts.start();
    auto [resp, err] = http::get(ts.url + "/");
    ASSERT_FALSE(err) << err;
    EXPECT_EQ(resp.content_length, -1);
    ASSERT_EQ(resp.transfer_encoding.size(), 1u);
    EXPECT_EQ(resp.transfer_encoding[0], "chunked");
    EXPECT_EQ(body_of(resp), big);

    auto [c, derr] = net::dial("tcp", ts.addr);
    ASSERT_FALSE(derr) << derr;
    ASSERT_FALSE(c.write("HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").err);
    std::string all = read_all(c);
    EXPECT_THAT(all, StartsWith("HTTP/1.1 200 OK\r\n"));
    EXPECT_EQ(all.find("zzz"), std::string::npos) << "HEAD response carried a body";
    (void)ts.stop();
  });
}

TEST(HttpServer, ExpectContinueGetsOneHundredBeforeTheBody) {
  run_with(2, [] {
    TestServer ts([](http::ResponseWriter& w, http::Request& r) {
      auto [body, err] = r.body.read_all();
      (void)w.write(err ? err.message() : "got " + body);
    });
    ts.start();
    auto [c, derr] = net::dial("tcp", ts.addr);
    ASSERT_FALSE(derr) << derr;
    ASSERT_FALSE(c.write("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n"
                         "Connection: close\r\n\r\n").err);
    std::string interim = read_until(c, "\r\n\r\n");
    EXPECT_THAT(interim, StartsWith("HTTP/1.1 100 Continue\r\n\r\n"));
    ASSERT_FALSE(c.write("data").err);
    std::string rest = read_all(c);
    EXPECT_THAT(interim + rest, HasSubstr("got data"));
    (void)ts.stop();
  });
}

TEST(HttpServer, LimitsAnswer431And400And413) {
  run_with(2, [] {
    TestServer ts([](http::ResponseWriter& w, http::Request& r) {
      http::Body limited = http::max_bytes_reader(w, r.body, 8);
      auto [body, err] = limited.read_all();
      if (gocxx::errors::as<http::MaxBytesError>(err)) return;  // the server answers 413
      (void)w.write(body);
    });
    ts.start();
    {  // headers beyond 1 MiB
      auto [c, err] = net::dial("tcp", ts.addr);
      ASSERT_FALSE(err) << err;
      std::string huge = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(1100000, 'a') + "\r\n\r\n";
      (void)c.write(huge);
      EXPECT_THAT(read_until(c, "\r\n\r\n"), StartsWith("HTTP/1.1 431 Request Header Fields Too Large"));
    }
    {  // malformed
      auto [c, err] = net::dial("tcp", ts.addr);
      ASSERT_FALSE(err) << err;
      ASSERT_FALSE(c.write("GARBAGE\r\n\r\n").err);
      EXPECT_THAT(read_all(c), StartsWith("HTTP/1.1 400 Bad Request"));
    }
    {  // body over max_bytes_reader's limit
      auto [resp, err] = http::post(ts.url + "/", "text/plain", "0123456789abcdef");
      ASSERT_FALSE(err) << err;
      EXPECT_EQ(resp.status_code, 413);
      EXPECT_EQ(resp.header.get("Connection"), "close");
      (void)resp.body.close();
    }
    // A body far over the limit, still being sent when the server answers: the 413 reaches the
    // client (the server half-closes and drains instead of closing into a reset) every time.
    for (int i = 0; i < 20; ++i) {
      auto [resp, err] = http::post(ts.url + "/", "text/plain", std::string(4 << 20, 'x'));
      ASSERT_FALSE(err) << "try " << i << ": " << err;
      EXPECT_EQ(resp.status_code, 413);
      (void)resp.body.close();
    }
    {  // within the limit
      auto [resp, err] = http::post(ts.url + "/", "text/plain", "small");
      ASSERT_FALSE(err) << err;
      EXPECT_EQ(body_of(resp), "small");
    }
    (void)ts.stop();
  });
}

TEST(HttpServer, PanickingHandlerIsLoggedAndTheServerGoesOn) {
  run_with(2, [] {
    TestServer ts([](http::ResponseWriter& w, http::Request& r) {
      if (r.url.path == "/boom") gocxx::panic("handler exploded");
      (void)w.write("fine");
    });
    ts.start();
    auto [resp, err] = http::get(ts.url + "/boom");
    EXPECT_TRUE(err) << "a panicking handler's connection is closed without a response";
    auto [ok, err2] = http::get(ts.url + "/fine");
    ASSERT_FALSE(err2) << err2;
    EXPECT_EQ(body_of(ok), "fine");
    std::string log = ts.logged();
    EXPECT_THAT(log, HasSubstr("http: panic serving 127.0.0.1:"));
    EXPECT_THAT(log, HasSubstr(": handler exploded\ngoroutine "));
    EXPECT_THAT(log, HasSubstr("[running]:"));
    (void)ts.stop();
  });
}

TEST(HttpServer, RequestContextEndsWhenTheClientGoesAway) {
  run_with(2, [] {
    gocxx::Chan<std::string> seen(1);
    TestServer ts([&](http::ResponseWriter&, http::Request& r) {
      gocxx::select(gocxx::recv_case(r.context().done(), [&] { seen.send(r.context().err().message()); }),
                    gocxx::recv_case(gocxx::time::after(30s), [&] { seen.send("still waiting"); }));
    });
    ts.start();
    auto [c, err] = net::dial("tcp", ts.addr);
    ASSERT_FALSE(err) << err;
    ASSERT_FALSE(c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n").err);
    gocxx::time::sleep(50ms);  // the handler is waiting (not a timing assertion: order only)
    (void)c.close();
    EXPECT_EQ(*seen.recv(), "context canceled");
    (void)ts.stop();
  });
}

TEST(HttpServer, RequestContextEndsWhenTheClientLeavesAfterSendingABody) {
  run_with(2, [] {
    gocxx::Chan<std::string> seen(1);
    TestServer ts([&](http::ResponseWriter&, http::Request& r) {
      auto [body, err] = r.body.read_all();  // the watcher starts at the body's end
      gocxx::select(gocxx::recv_case(r.context().done(), [&] { seen.send(body + ": " + r.context().err().message()); }),
                    gocxx::recv_case(gocxx::time::after(30s), [&] { seen.send("still waiting"); }));
    });
    ts.start();
    auto [c, err] = net::dial("tcp", ts.addr);
    ASSERT_FALSE(err) << err;
    ASSERT_FALSE(c.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody").err);
    gocxx::time::sleep(50ms);
    (void)c.close();
    EXPECT_EQ(*seen.recv(), "body: context canceled");
    (void)ts.stop();
  });
}

TEST(HttpServer, RequestContextObservedBeforeTheBodyEndsStillSeesTheClientGo) {
  run_with(2, [] {
    gocxx::Chan<std::string> seen(1);
    TestServer ts([&](http::ResponseWriter&, http::Request& r) {
      auto done = r.context().done();  // observed first: the watch waits for the body's end
      auto [body, err] = r.body.read_all();
      gocxx::select(gocxx::recv_case(done, [&] { seen.send(body + ": " + r.context().err().message()); }),
                    gocxx::recv_case(gocxx::time::after(30s), [&] { seen.send("still waiting"); }));
    });
    ts.start();
    auto [c, err] = net::dial("tcp", ts.addr);
    ASSERT_FALSE(err) << err;
    ASSERT_FALSE(c.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbo").err);
    gocxx::time::sleep(20ms);  // the handler reads part of the body first (order only)
    ASSERT_FALSE(c.write("dy").err);
    gocxx::time::sleep(50ms);
    (void)c.close();
    EXPECT_EQ(*seen.recv(), "body: context canceled");
    (void)ts.stop();
  });
}

TEST(HttpServer, RequestContextObservedAfterTheHandlerIsCanceledAndTheConnectionGoesOn) {
  run_with(2, [] {
    gocxx::Chan<gocxx::context::Context> handed(1);
    TestServer ts([&](http::ResponseWriter& w, http::Request& r) {
      if (r.url.path == "/first") handed.send(r.context());  // looked at only after we return
      (void)w.write("path=" + r.url.path);
    });
    ts.start();
    auto [c, err] = net::dial("tcp", ts.addr);
    ASSERT_FALSE(err) << err;
    ASSERT_FALSE(c.write("GET /first HTTP/1.1\r\nHost: x\r\n\r\n").err);
    EXPECT_THAT(read_until(c, "path=/first"), HasSubstr("200 OK"));
    auto ctx = *handed.recv();
    EXPECT_EQ(ctx.err(), gocxx::context::canceled);  // Go cancels it when the handler returns
    (void)ctx.done().recv();
    // Observing it started no watcher on the connection: the next request is served whole.
    ASSERT_FALSE(c.write("GET /second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").err);
    EXPECT_THAT(read_all(c), HasSubstr("path=/second"));
    (void)ts.stop();
  });
}

TEST(HttpServer, ServerHeadersFollowTheHandlersInGosOrderAndStayOutOfHeader) {
  run_with(2, [] {
    gocxx::Chan<std::string> after_write(1);
    TestServer ts([&](http::ResponseWriter& w, http::Request&) {
      w.header().set("X-Zeta", "z");
      w.header().set("Cache-Control", "no-store");
      (void)w.write("hello");
      std::string keys;
      for (const auto& [k, v] : w.header()) keys += k + ";";
      after_write.send(keys);
    });
    ts.start();
    auto [c, err] = net::dial("tcp", ts.addr);
    ASSERT_FALSE(err) << err;
    ASSERT_FALSE(c.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").err);
    std::string all = read_all(c);
    EXPECT_THAT(all, testing::MatchesRegex("HTTP/1\\.1 200 OK\r\nCache-Control: no-store\r\nX-Zeta: z\r\n"
                                           "Date: [A-Z][a-z][a-z], [0-9][0-9] [A-Z][a-z][a-z] [0-9]+ "
                                           "[0-9][0-9]:[0-9][0-9]:[0-9][0-9] GMT\r\n"
                                           "Content-Length: 5\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                           "Connection: close\r\n\r\nhello"));
    // As in Go, what the server adds goes on the wire, not into the handler's Header.
    EXPECT_EQ(*after_write.recv(), "Cache-Control;X-Zeta;");
    (void)ts.stop();
  });
}

TEST(HttpServer, UnreadExpectContinueBodyClosesTheConnection) {
  run_with(2, [] {
    TestServer ts([](http::ResponseWriter& w, http::Request&) {
      http::error_reply(w, "no thanks", 403);  // never reads the body, so no 100 Continue
    });
    ts.start();
    auto [c, err] = net::dial("tcp", ts.addr);
    ASSERT_FALSE(err) << err;
    ASSERT_FALSE(c.write("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n"
                         "Expect: 100-continue\r\n\r\n").err);
    (void)c.set_read_deadline(gocxx::time::now() + 20s);  // hang guard
    std::string all = read_all(c);
    EXPECT_THAT(all, StartsWith("HTTP/1.1 403 Forbidden\r\n"));
    EXPECT_EQ(all.find("100 Continue"), std::string::npos);
    EXPECT_THAT(all, HasSubstr("Connection: close"));
    EXPECT_THAT(all, HasSubstr("no thanks\n"));
    (void)ts.stop();
  });
}

TEST(HttpServer, ShutdownFinishesInFlightRequests) {
  run_with(2, [] {
    gocxx::Chan<int> entered(1);
    gocxx::Chan<int> release;
    TestServer ts([&](http::ResponseWriter& w, http::Request&) {
      entered.send(1);
      release.recv();
      (void)w.write("finished");
    });
    ts.start();
    gocxx::Chan<std::string> got(1);
    gocxx::go([&] {
      auto [resp, err] = http::Client{}.get(ts.url + "/");
      got.send(err ? err.message() : body_of(resp));
    });
    entered.recv();
    gocxx::Chan<error> shut(1);
    gocxx::go([&] { shut.send(ts.srv.shutdown(gocxx::context::background())); });
    // New connections are refused once the listener is closed.
    gocxx::time::sleep(20ms);
    release.send(1);
    EXPECT_EQ(*got.recv(), "finished");
    EXPECT_FALSE(*shut.recv());
    EXPECT_EQ(*ts.served.recv(), http::err_server_closed);
    auto [c, err] = net::dial("tcp", ts.addr);
    EXPECT_TRUE(err) << "the listener is closed after shutdown";
  });
}

TEST(HttpServer, SlowHeadersAreCutOffByReadHeaderTimeout) {
  run_with(2, [] {
    TestServer ts([](http::ResponseWriter& w, http::Request&) { (void)w.write("x"); });
    ts.srv.read_header_timeout = 100ms;
    ts.start();
    auto [c, err] = net::dial("tcp", ts.addr);
    ASSERT_FALSE(err) << err;
    ASSERT_FALSE(c.write("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ").err);  // and never more
    (void)c.set_read_deadline(gocxx::time::now() + 20s);                // hang guard
    char b[64];
    auto [n, rerr] = c.read(b);
    EXPECT_EQ(rerr, gocxx::io::eof) << "the server closes the slowloris connection: " << rerr;
    (void)ts.stop();
  });
}

TEST(HttpClient, TimeoutAndRefusedErrorsReadAsGos) {
  run_with(2, [] {
    TestServer ts([](http::ResponseWriter& w, http::Request&) {
      gocxx::time::sleep(2s);
      (void)w.write("late");
    });
    ts.start();
    http::Client client{.timeout = 100ms};
    auto [resp, err] = client.get(ts.url + "/");
    ASSERT_TRUE(err);
    EXPECT_TRUE(net::is_timeout(err)) << err;
    EXPECT_THAT(err.message(), StartsWith("Get \"" + ts.url + "/\": "));
    (void)ts.stop();

    auto [l, lerr] = net::listen("tcp", "127.0.0.1:0");
    ASSERT_FALSE(lerr) << lerr;
    std::string closed = l.addr().string();
    (void)l.close();
    auto [r2, e2] = http::get("http://" + closed + "/");
    ASSERT_TRUE(e2);
    EXPECT_EQ(e2.message(), "Get \"http://" + closed + "/\": dial tcp " + closed +
                                ": connect: connection refused");
  });
}

}  // namespace
