// server_request.h — small pure helpers `facepipe serve` uses to read
// requests and write URLs, kept apart so that they are tested on their own.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace facepipe {

// Standard base64 (RFC 4648, '+' '/', '=' padding), strictly: white space,
// other characters, a wrong length or misplaced padding give nullopt. A
// "data:<type>;base64," prefix (what a browser's FileReader gives) is skipped.
std::optional<std::string> decode_base64(std::string_view text);

// Percent-encodes everything but RFC 3986's unreserved characters, so that a
// person's name or a photo's file name can be one path segment or query value.
std::string url_encode(std::string_view text);

// The media type of a Content-Type header, lower-cased, without parameters:
// "Image/JPEG; charset=x" -> "image/jpeg".
std::string media_type(std::string_view content_type);

// "" when a request may come from where it says it comes from; else why not:
//   - a browser page of another site sending anything but GET/HEAD here (its
//     Origin header is not this server's scheme://Host): cross-site request forgery;
//   - on a loopback address, a Host that is not a loopback name (localhost,
//     127.x.y.z, [::1], with any port): a page of another site whose name was
//     re-pointed at 127.0.0.1 (DNS rebinding).
std::string cross_site_refusal(std::string_view method, std::string_view host, std::string_view origin,
                               bool loopback);

}  // namespace facepipe
