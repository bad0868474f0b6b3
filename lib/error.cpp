#include "error.h"

#include <cstdio>

namespace facepipe {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if there is none.
size_t utf8_length(std::string_view s, size_t i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k)
        if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return 0;
    return n;
}

}  // namespace

std::string printable(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        const size_t n = utf8_length(s, i);
        if (n > 1 || (n == 1 && c >= 0x20 && c != 0x7F)) {
            out.append(s.substr(i, n));
            i += n;
            continue;
        }
        char buf[8];
        if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c == '\r') out += "\\r";
        else std::snprintf(buf, sizeof buf, "\\x%02X", c), out += buf;
        ++i;
    }
    return out;
}

}  // namespace facepipe
