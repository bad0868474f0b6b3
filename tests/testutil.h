// testutil.h — helpers shared by the test files.
#pragma once
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

// ../shared/data beside the repository (or $FACEPIPE_SHARED_DATA); empty when absent,
// in which case tests that need it print why and skip.
std::filesystem::path shared_data();

}  // namespace facepipe::test
