#include "web_assets.h"

#include <string>

namespace facepipe {
namespace {

const WebAsset* exact(std::string_view path) {
    for (const WebAsset* a = kWebAssets; a->path; ++a)
        if (path == a->path) return a;
    return nullptr;
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

const WebAsset* find_web_asset(std::string_view path) {
    if (path.empty() || path[0] != '/') return nullptr;
    if (path.back() == '/') return exact(std::string(path) + "index.html");
    if (const WebAsset* a = exact(path)) return a;
    return exact(std::string(path) + ".html");
}

const char* web_content_type(std::string_view path) {
    struct Type {
        const char* ext;
        const char* type;
    };
    static const Type types[] = {
        {".html", "text/html; charset=utf-8"},  {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"}, {".json", "application/json"},
        {".svg", "image/svg+xml"},               {".png", "image/png"},
        {".jpg", "image/jpeg"},                  {".jpeg", "image/jpeg"},
        {".ico", "image/x-icon"},                {".txt", "text/plain; charset=utf-8"},
        {".webmanifest", "application/manifest+json"},
    };
    for (const Type& t : types)
        if (ends_with(path, t.ext)) return t.type;
    return "application/octet-stream";
}

}  // namespace facepipe
