// POST bodies: application/x-www-form-urlencoded only, size-capped, UTF-8, known field names;
// typed getters that refuse what is not strictly what they expect. A refusal is a FormError
// carrying the HTTP status to answer with (400, 413, 415).
//
//   web::Form f = web::read_form(w, r, 64 << 10, {"csrf", "handle", "dimension", "file:*"});
//   int n = f.integer("max_items", 1, 1000);       // "12" only: no sign, space or "12abc"
//   std::vector<std::string> dims = f.all("dimension");
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gocxx/http.hpp>

namespace assess::web {

// Statuses gocxx::http has no constant for (Go's StatusConflict, StatusUnsupportedMediaType).
inline constexpr int kConflict = 409;
inline constexpr int kUnsupportedMediaType = 415;

class FormError : public std::runtime_error {
 public:
  FormError(int status, const std::string& what) : std::runtime_error(what), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

class Form {
 public:
  // Parses a urlencoded body; `fields` are the names allowed ("file:*" allows every name with
  // that prefix). Throws FormError(400) for a bad escape, invalid UTF-8 or an unknown field.
  static Form parse(std::string_view body, const std::vector<std::string_view>& fields);

  bool has(std::string_view name) const { return values_.count(std::string(name)) > 0; }
  // The field's one value; FormError(400) when it is missing or given twice.
  const std::string& get(std::string_view name) const;
  // The field's one value, or `def` when absent.
  std::string get_or(std::string_view name, std::string def) const;
  // Every value of the field (checkboxes), in order.
  std::vector<std::string> all(std::string_view name) const;
  // Decimal digits only, from lo to hi.
  long long integer(std::string_view name, long long lo, long long hi) const;
  // A checkbox: present ("on") or absent.
  bool flag(std::string_view name) const;
  // The fields whose names start with prefix, prefix removed, with their one value.
  std::map<std::string, std::string> with_prefix(std::string_view prefix) const;

 private:
  std::map<std::string, std::vector<std::string>, std::less<>> values_;
};

// The request's form: FormError(415) unless the Content-Type is urlencoded, FormError(413)
// beyond max_bytes (read through http::max_bytes_reader), then Form::parse.
Form read_form(gocxx::http::ResponseWriter& w, gocxx::http::Request& r, std::size_t max_bytes,
               const std::vector<std::string_view>& fields);

// Strict decimal: digits only, no sign or space, within lo..hi; nullopt otherwise.
std::optional<long long> parse_integer(std::string_view s, long long lo, long long hi);

}  // namespace assess::web
