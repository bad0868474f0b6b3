#include "image.h"

#include <spdlog/spdlog.h>

#include <opencv2/imgcodecs.hpp>  // the IMREAD_ flags
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <vector>

#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "media.h"

namespace facepipe {
namespace {

enum class Format { jpeg, png, webp, tiff, bmp, pnm, unknown };

// What the header says, read without decoding a single pixel.
struct Header {
    Format format = Format::unknown;
    std::uint64_t width = 0, height = 0;  // 0 when the header does not say
};

bool starts_with(const std::string& b, std::string_view magic, size_t at = 0) {
    return b.size() >= at + magic.size() && std::string_view(b).substr(at, magic.size()) == magic;
}

unsigned byte(const std::string& b, size_t i) { return static_cast<unsigned char>(b[i]); }
unsigned be16(const std::string& b, size_t i) { return byte(b, i) << 8 | byte(b, i + 1); }
std::uint32_t be32(const std::string& b, size_t i) { return std::uint32_t(be16(b, i)) << 16 | be16(b, i + 2); }
unsigned le16(const std::string& b, size_t i) { return byte(b, i) | byte(b, i + 1) << 8; }
unsigned le24(const std::string& b, size_t i) { return le16(b, i) | byte(b, i + 2) << 16; }
std::uint32_t le32(const std::string& b, size_t i) { return le24(b, i) | std::uint32_t(byte(b, i + 3)) << 24; }

bool is_sof(unsigned marker) {
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range.
    return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

// Walks the marker segments up to the first scan. OpenCV (libjpeg) pads a
// truncated scan with grey and reports success, so we insist on an EOI marker
// after the scan starts; entropy-coded data cannot contain FF D9 (FF is stuffed).
Header sniff_jpeg(const std::string& b, const std::string& name) {
    Header h{Format::jpeg};
    size_t pos = 2;
    for (;;) {
        while (pos < b.size() && byte(b, pos) == 0xFF && pos + 1 < b.size() && byte(b, pos + 1) == 0xFF) ++pos;
        if (pos + 4 > b.size()) throw Error(name, "truncated JPEG");
        if (byte(b, pos) != 0xFF) throw Error(name, "corrupt JPEG (bad marker)");
        const unsigned marker = byte(b, pos + 1);
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // no payload
            pos += 2;
            continue;
        }
        if (marker == 0xD9) throw Error(name, "corrupt JPEG (ends before any image data)");
        if (marker == 0xDA) break;
        const size_t len = be16(b, pos + 2);
        if (len < 2 || pos + 2 + len > b.size()) throw Error(name, "truncated JPEG");
        if (is_sof(marker) && len >= 7) {
            h.height = be16(b, pos + 5);
            h.width = be16(b, pos + 7);
        }
        pos += 2 + len;
    }
    if (b.find("\xFF\xD9", pos) == std::string::npos) throw Error(name, "truncated JPEG");
    return h;
}

// Walks the chunks: IHDR must come first and IEND must be reached, otherwise
// libpng's partial rows would come back as a silently half-grey image.
Header sniff_png(const std::string& b, const std::string& name) {
    Header h{Format::png};
    for (size_t pos = 8, n = 0;; ++n) {
        if (pos + 12 > b.size()) throw Error(name, "truncated PNG");
        const std::uint64_t len = be32(b, pos);
        const std::string_view type = std::string_view(b).substr(pos + 4, 4);
        if (len > 0x7FFFFFFFu) throw Error(name, "corrupt PNG (bad chunk length)");
        if (pos + 12 + len > b.size()) throw Error(name, "truncated PNG");
        if (n == 0) {
            if (type != "IHDR" || len != 13) throw Error(name, "corrupt PNG (no IHDR header)");
            h.width = be32(b, pos + 8);
            h.height = be32(b, pos + 12);
        }
        if (type == "IEND") return h;
        pos += 12 + len;
    }
}

Header sniff_webp(const std::string& b, const std::string& name) {
    Header h{Format::webp};
    if (b.size() < 30) throw Error(name, "truncated WebP");
    if (std::uint64_t(le32(b, 4)) + 8 > b.size()) throw Error(name, "truncated WebP");
    if (starts_with(b, "VP8 ", 12) && starts_with(b, "\x9d\x01\x2a", 23)) {  // lossy
        h.width = le16(b, 26) & 0x3FFF;
        h.height = le16(b, 28) & 0x3FFF;
    } else if (starts_with(b, "VP8L", 12) && byte(b, 20) == 0x2F) {  // lossless
        const std::uint32_t bits = le32(b, 21);
        h.width = (bits & 0x3FFF) + 1;
        h.height = ((bits >> 14) & 0x3FFF) + 1;
    } else if (starts_with(b, "VP8X", 12)) {  // extended: canvas size
        h.width = le24(b, 24) + 1;
        h.height = le24(b, 27) + 1;
    } else {
        throw Error(name, "corrupt WebP (unknown chunk layout)");
    }
    return h;
}

// TIFF and BigTIFF: ImageWidth (256) and ImageLength (257) of the first IFD,
// the one OpenCV decodes, in either byte order.
Header sniff_tiff(const std::string& b, const std::string& name) {
    Header h{Format::tiff};
    const bool le = b[0] == 'I';
    const auto u16 = [&](size_t i) -> std::uint64_t { return le ? le16(b, i) : be16(b, i); };
    const auto u32 = [&](size_t i) -> std::uint64_t { return le ? le32(b, i) : be32(b, i); };
    const auto u64 = [&](size_t i) -> std::uint64_t {
        return le ? u32(i) | u32(i + 4) << 32 : u32(i) << 32 | u32(i + 4);
    };
    const bool big = u16(2) == 43;
    if (b.size() < (big ? 16u : 8u)) throw Error(name, "truncated TIFF");
    if (big && (u16(4) != 8 || u16(6) != 0)) throw Error(name, "corrupt TIFF (bad BigTIFF header)");
    const std::uint64_t ifd = big ? u64(8) : u32(4);
    const size_t count_bytes = big ? 8 : 2, entry_bytes = big ? 20 : 12;
    if (ifd < (big ? 16u : 8u) || ifd > b.size() || b.size() - ifd < count_bytes) throw Error(name, "truncated TIFF");
    const std::uint64_t entries = big ? u64(ifd) : u16(ifd);
    if (entries > (b.size() - ifd - count_bytes) / entry_bytes) throw Error(name, "truncated TIFF");
    for (std::uint64_t i = 0; i < entries; ++i) {
        const size_t e = ifd + count_bytes + i * entry_bytes;
        const std::uint64_t tag = u16(e), type = u16(e + 2), value_at = e + (big ? 12 : 8);
        if (tag != 256 && tag != 257) continue;
        std::uint64_t v = 0;
        if (type == 3) v = u16(value_at);                 // SHORT
        else if (type == 4) v = u32(value_at);            // LONG
        else if (type == 16 && big) v = u64(value_at);    // LONG8
        else throw Error(name, "corrupt TIFF (bad image size field)");
        // (A LONG8 past 32 bits is absurd: clamped, so that width * height cannot wrap.)
        (tag == 256 ? h.width : h.height) = std::min<std::uint64_t>(v, 0xFFFFFFFFu);
    }
    if (h.width == 0 || h.height == 0) throw Error(name, "corrupt TIFF (no image size)");
    return h;
}

// BMP: BITMAPCOREHEADER (12 bytes: u16 sizes) or any later one (i32 sizes; a
// negative height means top-down rows).
Header sniff_bmp(const std::string& b, const std::string& name) {
    Header h{Format::bmp};
    if (b.size() < 26) throw Error(name, "truncated BMP");
    if (le32(b, 14) == 12) {
        h.width = le16(b, 18);
        h.height = le16(b, 20);
    } else {
        const auto i32 = [&](size_t i) { return static_cast<std::int64_t>(static_cast<std::int32_t>(le32(b, i))); };
        h.width = static_cast<std::uint64_t>(std::llabs(i32(18)));
        h.height = static_cast<std::uint64_t>(std::llabs(i32(22)));
    }
    return h;
}

// PBM, PGM, PPM (P1-P6): "P<n>", then width and height as decimal numbers,
// separated by whitespace and '#' comments that run to the end of the line.
Header sniff_pnm(const std::string& b, const std::string& name) {
    Header h{Format::pnm};
    size_t pos = 2;
    const auto number = [&]() -> std::uint64_t {
        for (;;) {
            while (pos < b.size() && std::isspace(static_cast<unsigned char>(b[pos]))) ++pos;
            if (pos < b.size() && b[pos] == '#') {
                while (pos < b.size() && b[pos] != '\n' && b[pos] != '\r') ++pos;
                continue;
            }
            break;
        }
        if (pos >= b.size()) throw Error(name, "truncated PNM");
        if (!std::isdigit(static_cast<unsigned char>(b[pos]))) throw Error(name, "corrupt PNM (bad size)");
        std::uint64_t v = 0;
        for (; pos < b.size() && std::isdigit(static_cast<unsigned char>(b[pos])); ++pos) {
            v = v * 10 + static_cast<unsigned>(b[pos] - '0');
            if (v > 0xFFFFFFFFu) throw Error(name, "corrupt PNM (bad size)");
        }
        return v;
    };
    h.width = number();
    h.height = number();
    return h;
}

Header sniff(const std::string& b, const std::string& name) {
    if (starts_with(b, "\xFF\xD8\xFF")) return sniff_jpeg(b, name);
    if (starts_with(b, "\x89PNG\r\n\x1a\n")) return sniff_png(b, name);
    if (starts_with(b, "RIFF") && starts_with(b, "WEBP", 8)) return sniff_webp(b, name);
    if (starts_with(b, std::string_view("II*\0", 4)) || starts_with(b, std::string_view("MM\0*", 4)) ||
        starts_with(b, std::string_view("II+\0", 4)) || starts_with(b, std::string_view("MM\0+", 4)))
        return sniff_tiff(b, name);
    if (starts_with(b, "BM")) return sniff_bmp(b, name);
    if (b.size() >= 3 && b[0] == 'P' && b[1] >= '1' && b[1] <= '6' && std::isspace(static_cast<unsigned char>(b[2])))
        return sniff_pnm(b, name);
    // OpenCV knows more (PAM, PFM, Sun raster, Radiance HDR, JPEG 2000, ...), but
    // their sizes are not checked here, so they never reach its decoder.
    throw Error(name, "not a recognised image format");
}

std::string describe_pixels(std::uint64_t n) {
    if (n >= 10'000'000) return std::to_string((n + 500'000) / 1'000'000) + " MP";
    char buf[32];
    if (n >= 1'000'000) {
        std::snprintf(buf, sizeof buf, "%.1f MP", n / 1e6);
        return buf;
    }
    return std::to_string(n) + " pixels";
}

[[noreturn]] void refuse_size(const std::string& name, std::uint64_t w, std::uint64_t h,
                              const ImageLimits& limits) {
    throw LimitError(name, "image is " + size_over_limit(w, h, limits.max_pixels));
}

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

// The smallest JPEG DCT reduction (1, 2, 4, 8) that fits the limit, if any.
std::optional<int> jpeg_reduction(const Header& h, const ImageLimits& limits) {
    for (int f : {1, 2, 4, 8})
        if (ceil_div(h.width, f) * ceil_div(h.height, f) <= limits.max_pixels) return f;
    return std::nullopt;
}

int imread_flags_for(int reduction) {
    switch (reduction) {
        case 2: return cv::IMREAD_REDUCED_COLOR_2;
        case 4: return cv::IMREAD_REDUCED_COLOR_4;
        case 8: return cv::IMREAD_REDUCED_COLOR_8;
        default: return cv::IMREAD_COLOR;
    }
}

const char* format_name(Format f) {
    switch (f) {
        case Format::jpeg: return "JPEG";
        case Format::png: return "PNG";
        case Format::webp: return "WebP";
        case Format::tiff: return "TIFF";
        case Format::bmp: return "BMP";
        case Format::pnm: return "PNM";
        default: return "image";
    }
}

cv::Mat imdecode_or_throw(const std::string& bytes, int flags, Format format, const std::string& name) {
    cv::Mat out;
    try {
        const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8UC1,
                          const_cast<char*>(bytes.data()));  // imdecode only reads
        out = media::imdecode(raw, flags);
    } catch (const cv::Exception& e) {
        throw Error(name, std::string("cannot decode ") + format_name(format) + ": " + e.err);
    }
    if (out.empty()) {
        if (format == Format::unknown) throw Error(name, "not a recognised image format");
        throw Error(name, std::string("cannot decode ") + format_name(format) + " data (corrupt?)");
    }
    return out;
}

}  // namespace

LoadedImage decode_image(const std::string& bytes, const std::string& name, const ImageLimits& limits,
                         std::string sha256) {
    if (bytes.empty()) throw Error(name, "empty file");
    if (bytes.size() > limits.max_file_bytes)
        throw LimitError(name, "file is too large (" + std::to_string(bytes.size()) + " bytes, limit " +
                              std::to_string(limits.max_file_bytes) + ")");
    if (bytes.size() > static_cast<size_t>(INT32_MAX)) throw LimitError(name, "file is too large");
    const Header h = sniff(bytes, name);

    int reduction = 1;
    if (h.width == 0 || h.height == 0) throw Error(name, std::string("corrupt ") + format_name(h.format) + " (no image size)");
    if (h.width * h.height > limits.max_pixels) {
        const bool reducible = h.format == Format::jpeg && h.width * h.height <= limits.max_jpeg_pixels;
        const auto r = reducible ? jpeg_reduction(h, limits) : std::nullopt;
        if (!r) refuse_size(name, h.width, h.height, limits);
        reduction = *r;
        spdlog::debug("{}: {}x{} JPEG decoded at 1/{} size to stay under the pixel limit", name,
                      h.width, h.height, reduction);
    }

    LoadedImage img;
    img.bgr = imdecode_or_throw(bytes, imread_flags_for(reduction), h.format, name);
    if (img.bgr.type() != CV_8UC3) throw Error(name, "decoder returned an unexpected pixel type");
    img.scale = reduction;
    img.width = img.bgr.cols;
    img.height = img.bgr.rows;
    if (reduction > 1) {
        // Report the full upright size: the header's, swapped if EXIF turned it.
        const bool same_way = std::uint64_t(img.bgr.cols) == ceil_div(h.width, reduction) &&
                              std::uint64_t(img.bgr.rows) == ceil_div(h.height, reduction);
        img.width = static_cast<int>(same_way ? h.width : h.height);
        img.height = static_cast<int>(same_way ? h.height : h.width);
    } else if (std::uint64_t(img.bgr.total()) > limits.max_pixels) {
        // Only a decoder disagreeing with the header gets here: refuse all the same.
        refuse_size(name, img.bgr.cols, img.bgr.rows, limits);
    }
    img.sha256 = sha256.empty() ? sha256_hex(bytes) : std::move(sha256);
    return img;
}

std::string size_over_limit(std::uint64_t w, std::uint64_t h, std::uint64_t max_pixels) {
    return std::to_string(w) + "x" + std::to_string(h) + " (" + describe_pixels(w * h) + "), over the " +
           describe_pixels(max_pixels) + " limit";
}

LoadedImage load_image(const std::string& path, const ImageLimits& limits) {
    return decode_image(read_file(path, limits.max_file_bytes), path, limits);
}

bool looks_like_image_path(const std::filesystem::path& path) {
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    static const char* const known[] = {".jpg", ".jpeg", ".png", ".bmp", ".webp",
                                        ".tif", ".tiff", ".pgm", ".ppm"};
    return std::find(std::begin(known), std::end(known), ext) != std::end(known);
}

}  // namespace facepipe
