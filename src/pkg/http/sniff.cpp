// Go's http.DetectContentType (net/http/sniff.go, the WHATWG MIME sniffing algorithm): the
// server sets Content-Type from the first 512 bytes of a response when the handler did not.
#include <array>
#include <string_view>

#include "gocxx/http.hpp"

namespace gocxx::http {

namespace {

constexpr std::size_t kSniffLen = 512;

bool is_ws(unsigned char c) { return c == '\t' || c == '\n' || c == '\x0c' || c == '\r' || c == ' '; }
bool is_tag_end(unsigned char c) { return c == ' ' || c == '>'; }

std::string_view skip_ws(std::string_view d) {
  std::size_t i = 0;
  while (i < d.size() && is_ws(static_cast<unsigned char>(d[i]))) ++i;
  return d.substr(i);
}

// An HTML tag at the start of d (white space already skipped), case-insensitive, followed by
// ' ' or '>'. The tags are written in upper case.
bool html_tag(std::string_view d, std::string_view tag) {
  if (d.size() < tag.size() + 1) return false;
  for (std::size_t i = 0; i < tag.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(d[i]);
    if (c >= 'a' && c <= 'z') c = static_cast<unsigned char>(c - ('a' - 'A'));
    if (c != static_cast<unsigned char>(tag[i])) return false;
  }
  return is_tag_end(static_cast<unsigned char>(d[tag.size()]));
}

bool starts(std::string_view d, std::string_view prefix) { return d.substr(0, prefix.size()) == prefix; }

// "RIFF" + 4 bytes of length + a four-character form type.
bool riff(std::string_view d, std::string_view form) {
  return d.size() >= 12 && starts(d, "RIFF") && d.substr(8, form.size()) == form;
}

// Go's mp4Sig: a box of type "ftyp" whose brands include "mp4".
bool mp4(std::string_view d) {
  if (d.size() < 12) return false;
  std::size_t box = (std::size_t(static_cast<unsigned char>(d[0])) << 24) |
                    (std::size_t(static_cast<unsigned char>(d[1])) << 16) |
                    (std::size_t(static_cast<unsigned char>(d[2])) << 8) |
                    std::size_t(static_cast<unsigned char>(d[3]));
  if (d.size() < box || box % 4 != 0 || d.substr(4, 4) != "ftyp") return false;
  for (std::size_t st = 8; st + 3 <= box; st += 4) {
    if (st == 12) continue;  // the minor version, not a brand
    if (d.substr(st, 3) == "mp4") return true;
  }
  return false;
}

// Go's textSig: no byte that only binary data has.
bool looks_like_text(std::string_view d) {
  for (unsigned char c : d) {
    if (c <= 0x08 || c == 0x0b || (c >= 0x0e && c <= 0x1a) || (c >= 0x1c && c <= 0x1f)) return false;
  }
  return true;
}

struct Exact {
  std::string_view prefix;
  std::string_view type;
};

}  // namespace

std::string_view detect_content_type(std::string_view data) {
  std::string_view d = data.substr(0, kSniffLen);
  static constexpr std::array<std::string_view, 17> kHtmlTags = {
      "<!DOCTYPE HTML", "<HTML", "<HEAD", "<SCRIPT", "<IFRAME", "<H1", "<DIV", "<FONT", "<TABLE",
      "<A", "<STYLE", "<TITLE", "<B", "<BODY", "<BR", "<P", "<!--"};
  // Every signature is checked in Go's order, but most can be ruled out by their first byte.
  if (std::string_view t = skip_ws(d); !t.empty() && t[0] == '<') {
    for (std::string_view tag : kHtmlTags) {
      if (html_tag(t, tag)) return "text/html; charset=utf-8";
    }
    if (starts(t, "<?xml")) return "text/xml; charset=utf-8";
  }
  using namespace std::string_view_literals;
  static constexpr Exact kExact[] = {
      {"%PDF-", "application/pdf"},
      {"%!PS-Adobe-", "application/postscript"},
      {"\xFE\xFF", "text/plain; charset=utf-16be"},
      {"\xFF\xFE", "text/plain; charset=utf-16le"},
      {"\xEF\xBB\xBF", "text/plain; charset=utf-8"},
      {"\x00\x00\x01\x00"sv, "image/x-icon"},
      {"\x00\x00\x02\x00"sv, "image/x-icon"},
      {"BM", "image/bmp"},
      {"GIF87a", "image/gif"},
      {"GIF89a", "image/gif"},
      {"\x89PNG\x0D\x0A\x1A\x0A", "image/png"},
      {"\xFF\xD8\xFF", "image/jpeg"},
      {"ID3", "audio/mpeg"},
      {"OggS\x00"sv, "application/ogg"},
      {"MThd\x00\x00\x00\x06"sv, "audio/midi"},
      {"\x1A\x45\xDF\xA3", "video/webm"},
      {"\x00\x01\x00\x00"sv, "font/ttf"},
      {"OTTO", "font/otf"},
      {"ttcf", "font/collection"},
      {"wOFF", "font/woff"},
      {"wOF2", "font/woff2"},
      {"\x1F\x8B\x08", "application/x-gzip"},
      {"PK\x03\x04", "application/zip"},
      {"Rar!\x1A\x07\x00"sv, "application/x-rar-compressed"},
      {"Rar!\x1A\x07\x01\x00"sv, "application/x-rar-compressed"},
      {"\x00\x61\x73\x6D"sv, "application/wasm"},
  };
  for (const Exact& e : kExact) {
    if (!d.empty() && d[0] == e.prefix[0] && starts(d, e.prefix)) return e.type;
  }
  if (riff(d, "WEBPVP")) return "image/webp";
  if (d.size() >= 12 && starts(d, "FORM") && d.substr(8, 4) == "AIFF") return "audio/aiff";
  if (riff(d, "AVI ")) return "video/avi";
  if (riff(d, "WAVE")) return "audio/wave";
  if (mp4(d)) return "video/mp4";
  if (looks_like_text(d)) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

}  // namespace gocxx::http
