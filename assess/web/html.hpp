// HTML output: escaping (every value a page shows goes through escape), the tiny Markdown subset
// item statements may use, the page layout, and the headers every response carries.
//
//   std::string body = "<h1>" + web::escape(candidate.name) + "</h1>" + web::markdown(statement);
//   web::send_page(w, 200, "Assessment 7", body, web::Nav::interviewer);
//   web::send_error(w, 403, "this link belongs to another assessment");
#pragma once

#include <string>
#include <string_view>

#include <gocxx/http.hpp>

namespace assess::web {

// Go's html.EscapeString (gocxx/html.hpp): safe in element content and quoted attribute values.
std::string escape(std::string_view s);

// A statement (CommonMark) as HTML, by Debian's libcmark in its safe mode: raw HTML in the
// text is left out (an HTML comment says so) and links to javascript: and the like lose their
// target. Statements come from the bank, but the page must not trust them either.
std::string markdown(std::string_view text);

// The headers every response gets (CSP without inline script or style, nosniff, no referrer,
// no framing); no_store adds Cache-Control: no-store (pages behind a login).
void security_headers(gocxx::http::Header& h, bool no_store);

enum class Nav { none, interviewer, candidate };

// A whole page: the layout, the stylesheet and script (static files), then `body`. The CSRF
// token goes into a <meta> for the script (the forms carry it as a hidden field).
void send_page(gocxx::http::ResponseWriter& w, int status, std::string_view title, std::string_view body,
               Nav nav, std::string_view csrf = {});
// An error page; the message is escaped.
void send_error(gocxx::http::ResponseWriter& w, int status, std::string_view message);

// <input type="hidden" name="csrf" value="...">
std::string csrf_field(std::string_view csrf);

}  // namespace assess::web
