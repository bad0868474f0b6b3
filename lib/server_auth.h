// server_auth.h — who may use `facepipe serve`: one API key.
//
// With a key, every API call and every page needs it, in the `x-api-key`
// header (CompreFace's) or in the session cookie the login form sets. The
// cookie holds not the key but a token derived from it (HMAC-SHA256 of a fixed
// text under the key): it cannot be turned back into the key, and changing the
// key logs every browser out. Keys and tokens are compared in constant time
// (OpenSSL's CRYPTO_memcmp over SHA-256 digests, so that neither the content
// nor the length leaks through timing), and never logged.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>

namespace facepipe {

// read_api_key_file(path)
//   ensures: the file's first line without surrounding white space; warns
//            (log) when the file is readable by group or others. The file may
//            be a pipe (`--api-key-file <(pass show facepipe)`): fsutil.h's
//            read_file_or_pipe.
//   throws:  UsageError("--api-key-file", ...) when the file cannot be read,
//            the key is empty, longer than 4096 bytes, or holds control
//            characters.
std::string read_api_key_file(const std::filesystem::path& path);

// The same checks on a key given in FACEPIPE_API_KEY (subject "FACEPIPE_API_KEY").
std::string checked_api_key(std::string key, const std::string& subject);

// a == b, in time independent of their contents and lengths.
bool same_secret(std::string_view a, std::string_view b);

class ApiKeyAuth {
public:
    static constexpr const char* kCookie = "facepipe_session";

    // "" = no key: everything is allowed.
    explicit ApiKeyAuth(std::string key = {});

    bool enabled() const { return !key_.empty(); }

    // True when no key is set, or `api_key_header` is the key, or the cookie
    // header carries the session token.
    bool allows(std::string_view api_key_header, std::string_view cookie_header) const;

    // True when `typed` is the key (the login form's field).
    bool is_key(std::string_view typed) const;

    // The Set-Cookie value that logs a browser in: HttpOnly, SameSite=Strict,
    // Path=/, and Secure when served over TLS. `clear` = the one that logs out.
    std::string set_cookie(bool secure, bool clear = false) const;

private:
    std::string key_, token_;
};

// The value of cookie `name` in a Cookie header ("a=1; b=2"), "" if absent.
std::string cookie_value(std::string_view cookie_header, std::string_view name);

// `next` from the login form when it is a safe local path to go back to
// ("/live", "/enrol?x=1"), else "/": never another site ("//evil", "http:").
std::string safe_redirect_target(std::string_view next);

}  // namespace facepipe
