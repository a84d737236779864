// gocxx::io — the error values of Go's package io, and read_full / write_string helpers that
// work on anything with Go's Read / Write shape (gocxx::net::Conn, ...).
#pragma once

#include <cstddef>
#include <span>

#include "gocxx/errors.hpp"

namespace gocxx::io {

// Go's io.EOF: a read found no more data (the peer closed its side of a connection).
inline const error eof = errors::make("EOF");
// Go's io.ErrUnexpectedEOF: EOF in the middle of a fixed-size read (read_full).
inline const error err_unexpected_eof = errors::make("unexpected EOF");
// Go's io.ErrShortWrite.
inline const error err_short_write = errors::make("short write");

// Go's io.ReadFull: reads exactly buf.size() bytes. On EOF after some bytes the error is
// err_unexpected_eof; on EOF before any, eof.
template <class Reader>
Result<std::size_t> read_full(Reader& r, std::span<char> buf) {
  std::size_t done = 0;
  while (done < buf.size()) {
    auto [n, err] = r.read(buf.subspan(done));
    done += n;
    if (err) {
      if (err == eof && done > 0 && done < buf.size()) err = err_unexpected_eof;
      if (done == buf.size()) err = nullptr;
      return {done, err};
    }
  }
  return {done, nullptr};
}

}  // namespace gocxx::io
