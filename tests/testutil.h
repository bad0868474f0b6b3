// testutil.h — helpers shared by the test files.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>

namespace facepipe::test {

// A fresh empty folder under the system temp dir, removed when this object dies.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

// A whole file's bytes ("" if it cannot be read).
std::string slurp_file(const std::filesystem::path& p);

// ../shared/data beside the repository (or $FACEPIPE_SHARED_DATA); empty when absent,
// in which case tests that need it print why and skip.
std::filesystem::path shared_data();

// `jpeg` with an EXIF APP1 segment carrying this Orientation tag (1-8) inserted
// after SOI, so an EXIF-aware decoder turns the pixels upright.
std::string with_exif_orientation(std::string jpeg, int orientation);

// A structurally valid PNG (correct CRCs) whose header claims width x height but
// holds no pixel data: tests size limits without allocating the image.
std::string png_claiming_size(std::uint32_t width, std::uint32_t height);

}  // namespace facepipe::test
