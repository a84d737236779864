// Helpers shared by the HTTP tests.
#pragma once

#include <gocxx/http.hpp>

#include <string>

namespace gocxx::test {

// The part of Go's httptest.ResponseRecorder these tests need: records the status, headers
// and body a handler produces, without a connection.
class ResponseRecorder final : public http::ResponseWriter {
 public:
  http::Header& header() override { return header_; }
  void write_header(int code) override {
    if (wrote_) return;
    wrote_ = true;
    code_ = code;
  }
  Result<std::size_t> write(std::string_view data) override {
    if (!wrote_) write_header(200);
    body_ += data;
    return {data.size(), nullptr};
  }
  void flush() override {}

  int code() const { return wrote_ ? code_ : 200; }
  const std::string& body() const { return body_; }
  const http::Header& headers() const { return header_; }

 private:
  http::Header header_;
  int code_ = 0;
  bool wrote_ = false;
  std::string body_;
};

}  // namespace gocxx::test
