// Tests of lib/image.h: decoding, orientation, limits and the one-line errors.
// Every fixture is generated here into a TempDir.
#include <doctest/doctest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdlib>
#include <fstream>

#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "image.h"
#include "resources.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace facepipe;

namespace {

// Left half blue-ish, right half red-ish, so orientation and colour are checkable.
cv::Mat two_tone(int w, int h) {
    cv::Mat m(h, w, CV_8UC3, cv::Scalar(200, 60, 20));
    m(cv::Rect(w / 2, 0, w - w / 2, h)).setTo(cv::Scalar(20, 60, 200));
    return m;
}

std::string encode(const cv::Mat& m, const std::string& ext) {
    std::vector<uchar> buf;
    REQUIRE(cv::imencode(ext, m, buf));
    return std::string(buf.begin(), buf.end());
}

void write_bytes(const fs::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary) << bytes;
}


cv::Vec3b centre_of(const cv::Mat& m) { return m.at<cv::Vec3b>(m.rows / 2, m.cols / 2); }

}  // namespace

TEST_CASE("load_image returns upright 8-bit BGR with the file's sha256") {
    test::TempDir dir;
    const auto p = (dir / "a.png").string();
    const std::string bytes = encode(two_tone(40, 20), ".png");
    write_bytes(p, bytes);
    const LoadedImage img = load_image(p);
    CHECK(img.bgr.type() == CV_8UC3);
    CHECK(img.width == 40);
    CHECK(img.height == 20);
    CHECK(img.scale == 1.0);
    CHECK(img.sha256 == sha256_hex(bytes));
    CHECK(img.bgr.at<cv::Vec3b>(10, 5) == cv::Vec3b(200, 60, 20));
    CHECK(img.bgr.at<cv::Vec3b>(10, 35) == cv::Vec3b(20, 60, 200));
}

TEST_CASE("OpenCV's imdecode applies EXIF orientation 6 (rotate 90 clockwise)") {
    const std::string plain = encode(two_tone(40, 20), ".jpg");
    const LoadedImage img = decode_image(test::with_exif_orientation(plain, 6), "exif6.jpg");
    CHECK(img.bgr.cols == 20);
    CHECK(img.bgr.rows == 40);
    CHECK(img.width == 20);
    CHECK(img.height == 40);
    // The left (blue) half ends up on top after a clockwise turn.
    const cv::Vec3b top = img.bgr.at<cv::Vec3b>(5, 10), bottom = img.bgr.at<cv::Vec3b>(35, 10);
    CHECK(top[0] > top[2]);
    CHECK(bottom[2] > bottom[0]);
    // Orientation 1 leaves it as is.
    CHECK(decode_image(test::with_exif_orientation(plain, 1), "exif1.jpg").bgr.cols == 40);
}

TEST_CASE("bad files fail with one-line errors naming the file") {
    test::TempDir dir;
    SUBCASE("zero bytes") {
        write_bytes(dir / "empty.jpg", "");
        CHECK_THROWS_WITH_AS(load_image((dir / "empty.jpg").string()),
                             doctest::Contains("empty.jpg: empty file"), Error);
    }
    SUBCASE("text named .jpg") {
        write_bytes(dir / "notes.jpg", "hello, this is not a photo\n");
        CHECK_THROWS_WITH_AS(load_image((dir / "notes.jpg").string()),
                             doctest::Contains("notes.jpg: not a recognised image format"), Error);
    }
    SUBCASE("truncated JPEG (no end marker)") {
        // Noise, so that the cut lands in scan data: libjpeg would pad it with grey.
        cv::Mat noisy(256, 256, CV_8UC3);
        cv::randu(noisy, 0, 255);
        const std::string jpg = encode(noisy, ".jpg");
        write_bytes(dir / "cut.jpg", jpg.substr(0, jpg.size() * 2 / 3));
        CHECK_THROWS_WITH_AS(load_image((dir / "cut.jpg").string()),
                             doctest::Contains("cut.jpg: truncated JPEG"), Error);
        CHECK_THROWS_WITH_AS(decode_image(jpg.substr(0, 10), "head.jpg"),
                             doctest::Contains("truncated JPEG"), Error);
    }
    SUBCASE("truncated PNG (no IEND)") {
        const std::string png = encode(two_tone(64, 64), ".png");
        CHECK_THROWS_WITH_AS(decode_image(png.substr(0, png.size() - 12), "noend.png"),
                             doctest::Contains("noend.png: truncated PNG"), Error);
        CHECK_THROWS_WITH_AS(decode_image(png.substr(0, png.size() / 2), "half.png"),
                             doctest::Contains("truncated PNG"), Error);
    }
    SUBCASE("missing file") {
        CHECK_THROWS_WITH_AS(load_image((dir / "nope.jpg").string()),
                             doctest::Contains("nope.jpg: cannot open"), Error);
    }
    SUBCASE("over the file size limit") {
        write_bytes(dir / "big.png", encode(two_tone(64, 64), ".png"));
        ImageLimits limits;
        limits.max_file_bytes = 10;
        CHECK_THROWS_WITH_AS(load_image((dir / "big.png").string(), limits),
                             doctest::Contains("too large"), Error);
    }
}

TEST_CASE("content decides the format, not the extension: WebP named .jpg") {
    test::TempDir dir;
    write_bytes(dir / "really_webp.jpg", encode(two_tone(40, 20), ".webp"));
    const LoadedImage img = load_image((dir / "really_webp.jpg").string());
    CHECK(img.width == 40);
    CHECK(img.height == 20);
    CHECK(img.bgr.at<cv::Vec3b>(10, 35)[2] > 150);
}

TEST_CASE("16-bit, RGBA and grayscale PNGs decode to 8-bit BGR") {
    SUBCASE("16-bit") {
        cv::Mat m16(20, 30, CV_16UC3, cv::Scalar(1000, 30000, 65535));
        const LoadedImage img = decode_image(encode(m16, ".png"), "deep.png");
        CHECK(img.bgr.type() == CV_8UC3);
        const cv::Vec3b px = centre_of(img.bgr);
        CHECK(px[0] == 1000 / 256);
        CHECK(px[1] == 30000 / 256);
        CHECK(px[2] == 255);
    }
    SUBCASE("RGBA") {
        cv::Mat m4(20, 30, CV_8UC4, cv::Scalar(10, 20, 30, 128));
        const LoadedImage img = decode_image(encode(m4, ".png"), "alpha.png");
        CHECK(img.bgr.type() == CV_8UC3);
        CHECK(centre_of(img.bgr) == cv::Vec3b(10, 20, 30));
    }
    SUBCASE("grayscale") {
        cv::Mat g(20, 30, CV_8UC1, cv::Scalar(77));
        const LoadedImage img = decode_image(encode(g, ".png"), "grey.png");
        CHECK(img.bgr.type() == CV_8UC3);
        CHECK(centre_of(img.bgr) == cv::Vec3b(77, 77, 77));
    }
}

TEST_CASE("a CMYK JPEG decodes to sensible BGR colours") {
    SKIP_IF(test::tool_missing("convert", "apt install imagemagick"));
    test::TempDir dir;
    const cv::Mat rgb = two_tone(64, 32);
    write_bytes(dir / "rgb.jpg", encode(rgb, ".jpg"));
    const std::string cmd = "convert '" + (dir / "rgb.jpg").string() + "' -colorspace CMYK '" +
                            (dir / "cmyk.jpg").string() + "'";
    REQUIRE(std::system(cmd.c_str()) == 0);
    const std::string bytes = read_file((dir / "cmyk.jpg").string());
    // The SOF0 header must say 4 components, or the test proves nothing.
    const size_t sof = bytes.find("\xFF\xC0");
    REQUIRE(sof != std::string::npos);
    REQUIRE(static_cast<unsigned char>(bytes[sof + 9]) == 4);
    const LoadedImage img = decode_image(bytes, "cmyk.jpg");
    REQUIRE(img.bgr.type() == CV_8UC3);
    const cv::Vec3b left = img.bgr.at<cv::Vec3b>(16, 8), right = img.bgr.at<cv::Vec3b>(16, 56);
    for (int c = 0; c < 3; ++c) {
        CHECK(std::abs(left[c] - rgb.at<cv::Vec3b>(16, 8)[c]) < 30);
        CHECK(std::abs(right[c] - rgb.at<cv::Vec3b>(16, 56)[c]) < 30);
    }
}

TEST_CASE("a PNG claiming 20000x20000 is refused from its header, before decoding") {
    const std::string png = test::png_claiming_size(20000, 20000);
    CHECK_THROWS_WITH_AS(decode_image(png, "bomb.png"),
                         "bomb.png: image is 20000x20000 (400 MP), over the 60 MP limit", Error);
}

TEST_CASE("over-limit WebP is refused; over-limit JPEG is reduced, or refused past 1/8") {
    ImageLimits small;
    small.max_pixels = 300;
    CHECK_THROWS_WITH_AS(decode_image(encode(two_tone(40, 20), ".webp"), "w.webp", small),
                         "w.webp: image is 40x20 (800 pixels), over the 300 pixels limit", Error);
    const LoadedImage half = decode_image(encode(two_tone(40, 20), ".jpg"), "j.jpg", small);
    CHECK(half.bgr.cols == 20);
    CHECK(half.bgr.rows == 10);
    CHECK(half.scale == 2.0);
    CHECK(half.width == 40);
    CHECK(half.height == 20);
    small.max_pixels = 10;  // 1/8 gives 5x3 = 15 pixels: still too many
    CHECK_THROWS_WITH_AS(decode_image(encode(two_tone(40, 20), ".jpg"), "j.jpg", small),
                         doctest::Contains("j.jpg: image is 40x20"), Error);
}

TEST_CASE("a 9000x8000 JPEG is decoded at half size, still EXIF-upright") {
    std::string jpg;
    {
        cv::Mat big(8000, 9000, CV_8UC3, cv::Scalar(90, 120, 150));
        jpg = encode(big, ".jpg");
    }
    const LoadedImage img = decode_image(test::with_exif_orientation(jpg, 6), "big.jpg");
    CHECK(img.scale == 2.0);
    CHECK(img.bgr.cols == 4000);  // turned: 8000 wide / 2
    CHECK(img.bgr.rows == 4500);
    CHECK(img.width == 8000);
    CHECK(img.height == 9000);
}

TEST_CASE("paths with spaces and non-ASCII characters load") {
    test::TempDir dir;
    const fs::path sub = dir / "Zoë Ünïcode folder";
    fs::create_directories(sub);
    const fs::path p = sub / "photo 1 ✓ 李.jpg";
    write_bytes(p, encode(two_tone(40, 20), ".jpg"));
    CHECK(load_image(p.string()).width == 40);
}

TEST_CASE("looks_like_image_path goes by extension, case-insensitively") {
    for (const char* ok : {"a.jpg", "a.JPEG", "b.png", "c.Bmp", "d.webp", "e.tif", "f.TIFF",
                           "g.pgm", "h.ppm", "dir.x/zoë.JpG"})
        CHECK_MESSAGE(looks_like_image_path(ok), ok);
    for (const char* no : {"a.txt", "jpg", "a.jpg.tmp", "a.gif", "noext", ".jpg.swp"})
        CHECK_MESSAGE(!looks_like_image_path(no), no);
}

TEST_CASE("decode_image hashes the bytes, or takes the caller's hash of them") {
    const std::string png = encode(two_tone(8, 6), ".png");
    CHECK(decode_image(png, "a.png").sha256 == sha256_hex(png));
    // A caller that already hashed the bytes (encode, augment) passes the hash on.
    const std::string given(64, 'a');
    CHECK(decode_image(png, "a.png", {}, given).sha256 == given);
}

// ---- hostile sizes: every format refused from its header, before allocating ----

namespace {

std::string le16s(unsigned v) { return {char(v & 0xFF), char(v >> 8 & 0xFF)}; }
std::string le32s(std::uint32_t v) { return le16s(v & 0xFFFF) + le16s(v >> 16); }
std::string le64s(std::uint64_t v) { return le32s(std::uint32_t(v)) + le32s(std::uint32_t(v >> 32)); }
std::string be16s(unsigned v) { return {char(v >> 8 & 0xFF), char(v & 0xFF)}; }
std::string be32s(std::uint32_t v) { return be16s(v >> 16) + be16s(v & 0xFFFF); }

// An uncompressed 8-bit greyscale TIFF whose first IFD claims w x h, with a few
// bytes of pixel data: classic in either byte order, or BigTIFF.
std::string tiff_claiming(std::uint64_t w, std::uint64_t h, bool little, bool big = false) {
    const auto u16 = [&](unsigned v) { return little ? le16s(v) : be16s(v); };
    const auto u32 = [&](std::uint32_t v) { return little ? le32s(v) : be32s(v); };
    const auto u64 = [&](std::uint64_t v) {
        return little ? le64s(v) : be32s(std::uint32_t(v >> 32)) + be32s(std::uint32_t(v));
    };
    struct Tag { unsigned tag, type; std::uint64_t value; };
    const unsigned size_type = big && (w > 0xFFFFFFFFu || h > 0xFFFFFFFFu) ? 16 : 4;  // LONG8 or LONG
    const std::vector<Tag> tags = {{256, size_type, w}, {257, size_type, h}, {258, 3, 8}, {259, 3, 1}, {262, 3, 1},
                                   {273, 4, 0 /* data offset, below */}, {277, 3, 1}, {278, 4, h}, {279, 4, 64}};
    std::string out = std::string(little ? "II" : "MM");
    const std::size_t ifd_at = big ? 16 : 8;
    const std::size_t data_at = ifd_at + (big ? 8 + tags.size() * 20 + 8 : 2 + tags.size() * 12 + 4);
    out += big ? u16(43) + u16(8) + u16(0) + u64(ifd_at) : u16(42) + u32(std::uint32_t(ifd_at));
    out += big ? u64(tags.size()) : u16(unsigned(tags.size()));
    for (const auto& t : tags) {
        const std::uint64_t v = t.tag == 273 ? data_at : t.value;
        out += u16(t.tag) + u16(t.type);
        out += big ? u64(1) : u32(1);
        std::string field = t.type == 3 ? u16(unsigned(v)) : t.type == 16 ? u64(v) : u32(std::uint32_t(v));  // left-justified
        field.resize(big ? 8 : 4, '\0');
        out += field;
    }
    out += big ? u64(0) : u32(0);  // no next IFD
    return out + std::string(64, '\x80');
}

std::string bmp_claiming(std::int32_t w, std::int32_t h) {
    std::string info = le32s(40) + le32s(std::uint32_t(w)) + le32s(std::uint32_t(h)) + le16s(1) + le16s(24) +
                       le32s(0) + le32s(0) + le32s(2835) + le32s(2835) + le32s(0) + le32s(0);
    return "BM" + le32s(54 + 64) + le32s(0) + le32s(54) + info + std::string(64, '\x80');
}

std::string webp_vp8x_claiming(std::uint32_t w, std::uint32_t h) {
    const auto le24s = [](std::uint32_t v) { return le32s(v).substr(0, 3); };
    const std::string chunk = "VP8X" + le32s(10) + le32s(0) + le24s(w - 1) + le24s(h - 1);
    return "RIFF" + le32s(std::uint32_t(4 + chunk.size())) + "WEBP" + chunk;
}

std::string jpeg_claiming(unsigned w, unsigned h) {
    std::string jpg = encode(cv::Mat(16, 16, CV_8UC3, cv::Scalar(128, 128, 128)), ".jpg");
    const auto sof = jpg.find("\xFF\xC0");
    REQUIRE(sof != std::string::npos);
    jpg.replace(sof + 5, 4, be16s(h) + be16s(w));
    return jpg;
}

// Decodes `bytes` in a child and returns "<error line>" (or "decoded WxH"), and
// checks that the child's peak memory grew by less than `max_growth_mib`.
std::string decode_in_child(const std::string& bytes, const std::string& name, long max_growth_mib = 32) {
    const test::ChildOutcome r = test::run_in_child([&] {
        try {
            const LoadedImage img = decode_image(bytes, name);
            return "decoded " + std::to_string(img.bgr.cols) + "x" + std::to_string(img.bgr.rows);
        } catch (const LimitError& e) {
            return std::string("LimitError: ") + e.what();
        } catch (const Error& e) {
            return std::string("Error: ") + e.what();
        }
    });
    MESSAGE(name, ": peak RSS grew by ", r.peak_rss_growth_kib, " KiB: ", r.text);
    CHECK(r.peak_rss_growth_kib < max_growth_mib * 1024);
    return r.text;
}

}  // namespace

TEST_CASE("a JPEG header claiming 60000x60000 is refused before decoding, even at 1/8") {
    const std::string jpg = jpeg_claiming(60000, 60000);
    CHECK(decode_in_child(jpg, "huge.jpg") ==
          "LimitError: huge.jpg: image is 60000x60000 (3600 MP), over the 60 MP limit");
}

TEST_CASE("a PNG header claiming 60000x60000, and a real PNG bomb, are refused before decoding") {
    CHECK(decode_in_child(test::png_claiming_size(60000, 60000), "huge.png") ==
          "LimitError: huge.png: image is 60000x60000 (3600 MP), over the 60 MP limit");
    const std::string bomb = test::png_bomb(30000, 30000);
    CHECK(bomb.size() < (1u << 20));  // under a megabyte on disk, 900 MP decoded
    CHECK(decode_in_child(bomb, "bomb.png") ==
          "LimitError: bomb.png: image is 30000x30000 (900 MP), over the 60 MP limit");
}

TEST_CASE("TIFF sizes are read from the first IFD: both byte orders and BigTIFF") {
    for (const bool little : {true, false})
        for (const bool big : {false, true}) {
            CAPTURE(little);
            CAPTURE(big);
            // Within the limit: decodes (the header parser agrees with libtiff).
            if (!big) CHECK(decode_in_child(tiff_claiming(8, 8, little), "ok.tif") == "decoded 8x8");
            CHECK(decode_in_child(tiff_claiming(60000, 60000, little, big), "huge.tif") ==
                  "LimitError: huge.tif: image is 60000x60000 (3600 MP), over the 60 MP limit");
            // Under OpenCV's own 1 GP guard, over ours: refused all the same.
            CHECK(decode_in_child(tiff_claiming(30000, 30000, little, big), "big.tif") ==
                  "LimitError: big.tif: image is 30000x30000 (900 MP), over the 60 MP limit");
        }
    // BigTIFF's 64-bit sizes: 2^32 x 2^32 must not wrap to a small product.
    CHECK(decode_in_child(tiff_claiming(1ull << 32, 1ull << 32, true, true), "wrap.tif") ==
          "LimitError: wrap.tif: image is 4294967295x4294967295 (18446744065120 MP), over the 60 MP limit");
    CHECK(decode_in_child(tiff_claiming(60000, 60000, true).substr(0, 20), "cut.tif") ==
          "Error: cut.tif: truncated TIFF");
}

TEST_CASE("WebP, BMP and PNM headers with absurd sizes are refused before decoding") {
    CHECK(decode_in_child(webp_vp8x_claiming(60000, 60000), "huge.webp") ==
          "LimitError: huge.webp: image is 60000x60000 (3600 MP), over the 60 MP limit");
    CHECK(decode_in_child(bmp_claiming(30000, -30000), "huge.bmp") ==
          "LimitError: huge.bmp: image is 30000x30000 (900 MP), over the 60 MP limit");
    CHECK(decode_in_child(bmp_claiming(4, 4) , "ok.bmp") == "decoded 4x4");
    CHECK(decode_in_child("P5\n# a comment\n30000 30000\n255\n" + std::string(64, '\0'), "huge.pgm") ==
          "LimitError: huge.pgm: image is 30000x30000 (900 MP), over the 60 MP limit");
    CHECK(decode_in_child("P6 2 2 255\n" + std::string(12, '\x40'), "ok.ppm") == "decoded 2x2");
}

TEST_CASE("formats OpenCV knows but facepipe cannot size-check never reach the decoder") {
    // A Sun raster claiming 30000x30000 (OpenCV would allocate it), a PAM, a PFM.
    const std::string sun = be32s(0x59a66a95) + be32s(30000) + be32s(30000) + be32s(24) + be32s(64) + be32s(1) +
                            be32s(0) + be32s(0) + std::string(64, '\0');
    CHECK(decode_in_child(sun, "x.ras") == "Error: x.ras: not a recognised image format");
    CHECK(decode_in_child("P7\nWIDTH 30000\nHEIGHT 30000\nDEPTH 3\nMAXVAL 255\nTUPLTYPE RGB\nENDHDR\n", "x.pam") ==
          "Error: x.pam: not a recognised image format");
    CHECK(decode_in_child("PF\n30000 30000\n-1.0\n", "x.pfm") == "Error: x.pfm: not a recognised image format");
}
