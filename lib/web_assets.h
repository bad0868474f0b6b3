// web_assets.h — the files `facepipe serve` serves from its own binary: the
// pages under web/ (web/F at /F) and docs/openapi.json at /api/openapi.json.
// The build compiles them in (cmake/embed_files.cmake), so an installed binary
// needs no files beside it and the pages load nothing from elsewhere.
#pragma once
#include <cstddef>
#include <string_view>

namespace facepipe {

struct WebAsset {
    const char* path;            // the URL path, "/index.html"
    const unsigned char* data;
    std::size_t size;
};

// Every embedded file, ended by an entry whose path is null.
extern const WebAsset kWebAssets[];

// The file served at `path`, or null. "/" and a folder's "/" mean its
// index.html; "/enrol" means "/enrol.html" (pages have clean URLs).
const WebAsset* find_web_asset(std::string_view path);

// The Content-Type for a path, from its extension (html, css, js, json, svg,
// png, jpg, ico, txt, webmanifest); "application/octet-stream" otherwise.
const char* web_content_type(std::string_view path);

}  // namespace facepipe
