#include "server_request.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cctype>

namespace facepipe {

std::optional<std::string> decode_base64(std::string_view text) {
    if (text.rfind("data:", 0) == 0) {
        const size_t comma = text.find(',');
        if (comma == std::string_view::npos || text.substr(0, comma).find(";base64") == std::string_view::npos)
            return std::nullopt;
        text.remove_prefix(comma + 1);
    }
    if (text.size() % 4 != 0) return std::nullopt;
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = text[i + k];
            if (c == '=') {
                // '=' only in the last group, only at its end (xx== or xxx=)
                if (!last || k < 2) return std::nullopt;
                ++pad;
                v[k] = 0;
                continue;
            }
            if (pad) return std::nullopt;  // data after padding
            v[k] = value(c);
            if (v[k] < 0) return std::nullopt;
        }
        const unsigned n = (unsigned(v[0]) << 18) | (unsigned(v[1]) << 12) | (unsigned(v[2]) << 6) | unsigned(v[3]);
        out += static_cast<char>((n >> 16) & 0xff);
        if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
        if (pad < 1) out += static_cast<char>(n & 0xff);
    }
    return out;
}

std::string url_encode(std::string_view text) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string media_type(std::string_view content_type) {
    const size_t semi = content_type.find(';');
    std::string_view t = content_type.substr(0, semi);
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    std::string out(t);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string cross_site_refusal(std::string_view method, std::string_view host, std::string_view origin,
                               bool loopback) {
    if (loopback && !host.empty()) {
        std::string_view name = host;
        const size_t colon = host.rfind(':');
        if (colon != std::string_view::npos && host.back() != ']' && host.find(':') == colon) name = host.substr(0, colon);
        else if (host.front() == '[' && colon != std::string_view::npos && host.back() != ']') name = host.substr(0, colon);
        if (name.size() >= 2 && name.front() == '[' && name.back() == ']') name = name.substr(1, name.size() - 2);
        const std::string n(name);
        in_addr v4{};
        in6_addr v6{};
        const bool loop = n == "localhost" || (inet_pton(AF_INET, n.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127) ||
                          (inet_pton(AF_INET6, n.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6));
        if (!loop)
            return "Host '" + std::string(host) +
                   "' is not a loopback name: this server answers localhost only (listen elsewhere with an API key)";
    }
    if (method != "GET" && method != "HEAD" && !origin.empty()) {
        const size_t scheme = origin.find("://");
        if (scheme == std::string_view::npos || origin.substr(scheme + 3) != host)
            return "a page of another site ('" + std::string(origin) + "') may not send requests here";
    }
    return "";
}

}  // namespace facepipe
