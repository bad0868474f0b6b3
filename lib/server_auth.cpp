#include "server_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "error.h"
#include "fsutil.h"
#include "hash.h"

namespace facepipe {
namespace {

constexpr size_t kMaxKey = 4096;

std::string trim(std::string s) {
    const char* ws = " \t\r\n";
    const auto b = s.find_first_not_of(ws);
    if (b == std::string::npos) return "";
    return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

std::string hmac_hex(std::string_view key, std::string_view text) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(text.data()),
         text.size(), out, &n);
    static const char* hex = "0123456789abcdef";
    std::string s;
    for (unsigned int i = 0; i < n; ++i) {
        s += hex[out[i] >> 4];
        s += hex[out[i] & 15];
    }
    return s;
}

}  // namespace

std::string checked_api_key(std::string key, const std::string& subject) {
    key = trim(std::move(key));
    if (key.empty()) throw UsageError(subject, "the API key is empty");
    if (key.size() > kMaxKey) throw UsageError(subject, "the API key is longer than 4096 bytes");
    for (unsigned char c : key)
        if (c < 0x20 || c == 0x7f) throw UsageError(subject, "the API key holds control characters");
    return key;
}

std::string read_api_key_file(const std::filesystem::path& path) {
    std::string bytes;
    try {
        bytes = read_file_or_pipe(path.string(), 1 << 16);
    } catch (const Error& e) {
        throw UsageError("--api-key-file", e.what());
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077))
        spdlog::warn("{}: the API key file is readable by other users (chmod 600 it)", printable(path.string()));
    const auto eol = bytes.find('\n');
    return checked_api_key(eol == std::string::npos ? bytes : bytes.substr(0, eol),
                           "--api-key-file " + path.string());
}

bool same_secret(std::string_view a, std::string_view b) {
    const std::string da = sha256_raw(a), db = sha256_raw(b);
    return CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0;
}

ApiKeyAuth::ApiKeyAuth(std::string key) : key_(std::move(key)) {
    if (!key_.empty()) token_ = hmac_hex(key_, "facepipe serve session v1");
}

bool ApiKeyAuth::allows(std::string_view api_key_header, std::string_view cookie_header) const {
    if (!enabled()) return true;
    // Both are checked, always, so that timing doesn't tell which one failed.
    const bool header_ok = same_secret(api_key_header, key_);
    const bool cookie_ok = same_secret(cookie_value(cookie_header, kCookie), token_);
    return header_ok || cookie_ok;
}

bool ApiKeyAuth::is_key(std::string_view typed) const { return enabled() && same_secret(typed, key_); }

std::string ApiKeyAuth::set_cookie(bool secure, bool clear) const {
    std::string c = std::string(kCookie) + "=" + (clear ? "" : token_) + "; Path=/; HttpOnly; SameSite=Strict";
    if (clear) c += "; Max-Age=0";
    if (secure) c += "; Secure";
    return c;
}

std::string cookie_value(std::string_view header, std::string_view name) {
    size_t i = 0;
    while (i < header.size()) {
        size_t end = header.find(';', i);
        if (end == std::string_view::npos) end = header.size();
        std::string_view part = header.substr(i, end - i);
        while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
        const size_t eq = part.find('=');
        if (eq != std::string_view::npos && part.substr(0, eq) == name) {
            std::string_view v = part.substr(eq + 1);
            while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
            if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
            return std::string(v);
        }
        i = end + 1;
    }
    return "";
}

std::string safe_redirect_target(std::string_view next) {
    if (next.empty() || next.size() > 2048 || next[0] != '/') return "/";
    if (next.size() > 1 && (next[1] == '/' || next[1] == '\\')) return "/";
    for (unsigned char c : next)
        if (c < 0x21 || c == 0x7f || c == '\\') return "/";
    return std::string(next);
}

}  // namespace facepipe
