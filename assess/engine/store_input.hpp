// The store's input checks: what a write refuses before any database sees it. Each throws
// std::invalid_argument naming the field; the store adds the operation. They do not depend on
// SQLite: another backend uses the same checks.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "engine/store.hpp"

namespace assess::input {

// The index of the first byte that does not belong to well-formed UTF-8 (overlong forms,
// surrogates and code points past U+10FFFF are not), or npos.
std::size_t invalid_utf8_at(std::string_view s);

// A bank-style id (item, dimension): [a-z0-9][a-z0-9._-]*, at most kMaxIdBytes.
void check_id(std::string_view field, std::string_view v);
// A one-line name people type (handle, rule name): non-empty, at most `max` bytes, UTF-8,
// no control characters, no leading or trailing space.
void check_label(std::string_view field, std::string_view v, std::size_t max);
// Like check_label, but may be empty.
void check_text(std::string_view field, std::string_view v, std::size_t max);

void check_config(const SessionConfig& c);
void check_presentation(const Presentation& p);
void check_answer(const AnswerRecord& a, const std::vector<Estimate>& estimates,
                  const std::vector<RuleFiring>& firings);
void check_params(const ItemParams& p);

}  // namespace assess::input
