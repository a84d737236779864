#include "web/html.hpp"

#include <cmark.h>

#include <cstdlib>
#include <new>

#include <gocxx/html.hpp>

#include "web/static.hpp"

namespace assess::web {

namespace http = gocxx::http;

std::string escape(std::string_view s) { return gocxx::html::escape_string(s); }


std::string markdown(std::string_view text) {
  // CMARK_OPT_DEFAULT is cmark's safe mode: raw HTML becomes a comment, and javascript:,
  // vbscript:, file: and most data: link targets are dropped.
  char* html = cmark_markdown_to_html(text.data(), text.size(), CMARK_OPT_DEFAULT);
  if (!html) throw std::bad_alloc();
  std::string out(html);
  std::free(html);
  return out;
}

void security_headers(http::Header& h, bool no_store) {
  h.set("Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'");
  h.set("X-Content-Type-Options", "nosniff");
  // same-origin, not no-referrer: links carry tokens, so no other site may see a URL of ours;
  // but under no-referrer browsers send "Origin: null" with our own form posts (the Fetch
  // standard), which the Origin check must refuse.
  h.set("Referrer-Policy", "same-origin");
  h.set("X-Frame-Options", "DENY");
  if (no_store) h.set("Cache-Control", "no-store");
}

std::string csrf_field(std::string_view csrf) {
  return "<input type=\"hidden\" name=\"csrf\" value=\"" + escape(csrf) + "\">";
}

void send_page(http::ResponseWriter& w, int status, std::string_view title, std::string_view body, Nav nav,
               std::string_view csrf) {
  std::string html =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>" + escape(title) + " · assess</title>"
      "<link rel=\"stylesheet\" href=\"" + asset_url("app.css") + "\">"
      "<script src=\"" + asset_url("app.js") + "\" defer></script></head>\n<body>"
      "<header class=\"top\"><span class=\"brand\">assess</span>";
  if (nav == Nav::interviewer) {
    html += "<nav><a href=\"/i/\">Assessments</a> <a href=\"/i/new\">New</a> <a href=\"/i/compare\">Compare</a> <a href=\"/i/checklists\">Checklists</a> "
            "<form method=\"post\" action=\"/logout\" class=\"inline\">" + csrf_field(csrf) +
            "<button type=\"submit\" class=\"link\">Log out</button></form></nav>";
  }
  html += "</header>\n<main>";
  html += body;
  html += "</main></body></html>\n";
  w.header().set("Content-Type", "text/html; charset=utf-8");
  w.write_header(status);
  (void)w.write(html);
}

void send_error(http::ResponseWriter& w, int status, std::string_view message) {
  send_page(w, status, std::to_string(status) + " " + std::string(http::status_text(status)),
            "<h1>" + std::to_string(status) + " " + escape(http::status_text(status)) + "</h1><p>" + escape(message) +
                "</p>",
            Nav::none);
}

}  // namespace assess::web
