// gocxx::html — Go's package html: escaping text for HTML.
//
//   std::string cell = "<td>" + gocxx::html::escape_string(name) + "</td>";
//   // "<b>Tom & 'Jerry'</b>" -> "&lt;b&gt;Tom &amp; &#39;Jerry&#39;&lt;/b&gt;"
#pragma once

#include <string>
#include <string_view>

namespace gocxx::html {

// Go's html.EscapeString, byte for byte: <, >, &, ' and " become &lt; &gt; &amp; &#39; &#34;,
// so the result is safe as element text and inside a quoted attribute value.
std::string escape_string(std::string_view s);

}  // namespace gocxx::html
