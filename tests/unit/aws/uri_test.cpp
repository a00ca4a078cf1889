// Percent-encoding and canonical path/query building, as tables of literal cases. Expected values follow the
// SigV4 rules (RFC 3986 unreserved kept, upper-case hex) and match Python's urllib.parse.quote(safe='-_.~'),
// which botocore uses.

#include "aws/uri.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace {

using tarius::aws::query_param;
namespace detail = tarius::aws::detail;

TEST(aws_uri, encode) {
    struct encode_case {
        std::string_view input;
        bool keep_slash;
        std::string_view expected;
    };
    const encode_case cases[] = {
        {"", false, ""},
        {"abcXYZ019", false, "abcXYZ019"},
        {"-_.~", false, "-_.~"},
        {"a b", false, "a%20b"},
        {"a+b", false, "a%2Bb"},
        {"a&b=c", false, "a%26b%3Dc"},
        {"!*()';=?", false, "%21%2A%28%29%27%3B%3D%3F"},
        {"100%", false, "100%25"},
        {"%20", false, "%2520"},
        {"\xc3\xa9", false, "%C3%A9"},         // é
        {"\xe1\x88\xb4", false, "%E1%88%B4"},  // U+1234, as in the suites' get-utf8
        {std::string_view("\x00\x7f\xff", 3), false, "%00%7F%FF"},
        {"a/b", false, "a%2Fb"},
        {"a/b", true, "a/b"},
        {"/dir/my key+&.txt", true, "/dir/my%20key%2B%26.txt"},
        {"//a//", true, "//a//"},
        {":@[]#", true, "%3A%40%5B%5D%23"},
    };
    for (const encode_case& c : cases) {
        EXPECT_EQ(detail::uri_encode(c.input, c.keep_slash), c.expected) << c.input;
    }
}

TEST(aws_uri, decode) {
    struct decode_case {
        std::string_view input;
        std::string_view expected;
    };
    const decode_case cases[] = {
        {"", ""},
        {"abc", "abc"},
        {"a%20b", "a b"},
        {"%41%4a%4A", "AJJ"},
        {"%C3%A9", "\xc3\xa9"},
        {"a+b", "a+b"},  // '+' is not a space in SigV4
        {"%", "%"},      // truncated escapes are kept literally
        {"%4", "%4"},
        {"a%", "a%"},
        {"%G1", "%G1"},  // not hex
        {"%%41", "%A"},
        {"%2520", "%20"},  // one level only
        {"%00", std::string_view("\0", 1)},
    };
    for (const decode_case& c : cases) {
        EXPECT_EQ(detail::uri_decode(c.input), c.expected) << c.input;
    }
}

TEST(aws_uri, normalize_path) {
    struct path_case {
        std::string_view input;
        std::string_view expected;
    };
    // Expected values are botocore's remove_dot_segments(), which also collapses empty segments.
    const path_case cases[] = {
        {"/", "/"},
        {"", "/"},
        {"/a/b", "/a/b"},
        {"/a/b/", "/a/b/"},
        {"//example//", "/example/"},
        {"/./", "/"},
        {"/./example", "/example"},
        {"/example/..", "/"},
        {"/example1/example2/../..", "/"},
        {"/a//b/../c", "/a/c"},
        {"/../../a", "/a"},
        {"/a/./b/.", "/a/b"},
        {"/a/%2E%2E/b", "/a/%2E%2E/b"},  // encoded dots are not dot segments
        {"/a/.../b", "/a/.../b"},
        {"a/b", "a/b"},
    };
    for (const path_case& c : cases) {
        std::string out;
        detail::append_normalized_path(out, c.input);
        EXPECT_EQ(out, c.expected) << c.input;
    }
}

TEST(aws_uri, canonical_path) {
    struct canonical_case {
        std::string_view input;
        bool double_encode;
        bool normalize;
        std::string_view expected;
    };
    const canonical_case cases[] = {
        {"", true, true, "/"},
        {"", false, false, "/"},
        {"/example space/", true, true, "/example%20space/"},
        {"/my%20key", true, true, "/my%2520key"},
        {"/my%20key", false, false, "/my%20key"},
        {"/a//b/../c", false, false, "/a//b/../c"},
        {"/a//b/../c", true, false, "/a//b/../c"},
        {"/a//b/../c", true, true, "/a/c"},
        {"/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", true, true,
         "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"},
    };
    for (const canonical_case& c : cases) {
        std::string out;
        detail::append_canonical_path(out, c.input, c.double_encode, c.normalize);
        EXPECT_EQ(out, c.expected) << c.input;
    }
}

TEST(aws_uri, canonical_query_from_params) {
    struct params_case {
        std::vector<query_param> params;
        std::string_view expected;
    };
    const params_case cases[] = {
        {{}, ""},
        {{{"b", "2"}, {"a", "1"}}, "a=1&b=2"},
        {{{"a", "2"}, {"a", "10"}, {"a", "1"}}, "a=1&a=10&a=2"},
        {{{"Param-3", "Value3"}, {"Param", "Value2"}, {"\xe1\x88\xb4", "Value1"}},
         "%E1%88%B4=Value1&Param=Value2&Param-3=Value3"},
        {{{"Message", "h\xc3\xa9llo w\xc3\xb6rld & more+"}, {"Action", "Publish"}},
         "Action=Publish&Message=h%C3%A9llo%20w%C3%B6rld%20%26%20more%2B"},
        {{{"key", ""}, {"a", ""}}, "a=&key="},
        {{{"b", "x"}, {"B", "y"}, {"_", "z"}}, "B=y&_=z&b=x"},  // byte order: upper-case before '_' before lower
        {{{"k", "a/b~c"}}, "k=a%2Fb~c"},
    };
    for (const params_case& c : cases) {
        std::string out;
        detail::append_canonical_query(out, c.params);
        EXPECT_EQ(out, c.expected);
    }
}

TEST(aws_uri, canonical_query_from_wire) {
    struct wire_case {
        std::string_view query;
        std::string_view expected;
    };
    const wire_case cases[] = {
        {"", ""},
        {"Param1=value1", "Param1=value1"},
        {"Param1", "Param1="},
        {"Param2=value2&Param1=value1", "Param1=value1&Param2=value2"},
        {"Param1=value2&Param1=Value1", "Param1=Value1&Param1=value2"},
        {"%E1%88%B4=bar", "%E1%88%B4=bar"},
        {"\xe1\x88\xb4=bar", "%E1%88%B4=bar"},
        {"a=%7e&b=~", "a=~&b=~"},  // equivalent encodings sign alike
        {"a=%2a&b=*", "a=%2A&b=%2A"},
        {"a=b+c", "a=b%2Bc"},
        {"a=1&&b=2&", "a=1&b=2"},  // empty pairs skipped
        {"a==b", "a=%3Db"},        // only the first '=' separates
        {"prefix=a%2Fb&list-type=2", "list-type=2&prefix=a%2Fb"},
        {"x=%", "x=%25"},
    };
    for (const wire_case& c : cases) {
        std::string out;
        detail::append_canonical_query(out, c.query);
        EXPECT_EQ(out, c.expected) << c.query;
    }
}

TEST(aws_uri, split_url) {
    struct url_case {
        std::string_view url;
        bool ok;
        std::string_view scheme;
        std::string_view host;
        std::string_view path;
        std::string_view query;
        std::string_view host_header;
    };
    const url_case cases[] = {
        {"https://s3.amazonaws.com/b/k?x=1", true, "https", "s3.amazonaws.com", "/b/k", "x=1", "s3.amazonaws.com"},
        {"https://H.EXAMPLE:443", true, "https", "H.EXAMPLE:443", "", "", "h.example"},
        {"http://127.0.0.1:8000/?", true, "http", "127.0.0.1:8000", "/", "", "127.0.0.1:8000"},
        {"http://u:p@host:80/a#frag", true, "http", "host:80", "/a", "", "host"},
        {"http://[::1]:9000/x", true, "http", "[::1]:9000", "/x", "", "[::1]:9000"},
        {"http://[::1]/x", true, "http", "[::1]", "/x", "", "[::1]"},
        {"https://h?q", true, "https", "h", "", "q", "h"},
        {"/relative", false, "", "", "", "", ""},
        {"://nohost", false, "", "", "", "", ""},
    };
    for (const url_case& c : cases) {
        detail::url_parts parts;
        ASSERT_EQ(detail::split_url(c.url, parts), c.ok) << c.url;
        if (!c.ok) continue;
        EXPECT_EQ(parts.scheme, c.scheme) << c.url;
        EXPECT_EQ(parts.host, c.host) << c.url;
        EXPECT_EQ(parts.path, c.path) << c.url;
        EXPECT_EQ(parts.query, c.query) << c.url;
        EXPECT_EQ(detail::host_header_value(parts), c.host_header) << c.url;
    }
}

}  // namespace
