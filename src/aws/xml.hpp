#pragma once
// A minimal XML reader for AWS responses (errors, STS): elements, attributes skipped, text with the five
// predefined entities and character references, CDATA, comments and processing instructions skipped.
// DTDs are refused outright, so no entity expansion can be triggered by a response.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tarius/result.hpp"

namespace tarius::aws::detail {

/// One element: its local name (namespace prefix removed), its direct text and its child elements.
struct xml_element {
    std::string name;                   ///< local name
    std::string text;                   ///< concatenated character data directly inside this element
    std::vector<xml_element> children;  ///< child elements in order

    /// The first child called `child_name`, or nullptr.
    [[nodiscard]] const xml_element* child(std::string_view child_name) const;
    /// Follows a path of child names ("Error", "Code"); nullptr when any step is missing.
    [[nodiscard]] const xml_element* find(std::initializer_list<std::string_view> path) const;
    /// The first element called `element_name` at any depth (this one included), or nullptr.
    [[nodiscard]] const xml_element* descendant(std::string_view element_name) const;
};

/// Parses a document into its root element; errc::DECODE on malformed input, DTDs or nesting deeper than 64.
[[nodiscard]] result<xml_element> parse_xml(std::string_view text);

}  // namespace tarius::aws::detail
