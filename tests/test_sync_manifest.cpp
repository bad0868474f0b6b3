// Tests of lib/sync_manifest.h: the manifest that travels with artifacts through a bucket.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "e2e_script.h"
#include "error.h"
#include "fsutil.h"
#include "sync_manifest.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace facepipe;
using namespace facepipe::test;

namespace {

// The Error message parse_manifest gives for `text`, or "" when it accepts it.
std::string parse_error(const std::string& text) {
    try {
        parse_manifest(text, "m.json");
        return "";
    } catch (const Error& e) {
        return e.what();
    }
}

std::string verify_error(const SyncManifest& m, const fs::path& dir) {
    try {
        verify_manifest(m, artifacts_in(dir));
        return "";
    } catch (const Error& e) {
        return e.what();
    }
}

void flip_byte(const fs::path& p, std::size_t at) {
    std::string bytes = slurp_file(p);
    REQUIRE(at < bytes.size());
    bytes[at] ^= 0x01;
    spit(p, bytes);
}

}  // namespace

TEST_CASE("a sync manifest describes the artifacts and survives JSON") {
    TempDir d;
    write_synthetic_artifacts(d.path(), 3);
    const SyncManifest m = make_manifest(artifacts_in(d.path()));
    CHECK(m.people == 3);
    CHECK(m.encodings == 9);
    CHECK(m.training_id.size() == 64);
    REQUIRE(m.files.size() == 3);
    CHECK(m.files.at("model.bin").bytes == fs::file_size(d / "model.bin"));
    CHECK(m.created.size() == 20);  // 2026-11-28T01:02:03Z

    const std::string text = to_json(m);
    const auto j = nlohmann::json::parse(text);
    CHECK(j["format"] == "facepipe-sync-manifest");
    CHECK(j["version"] == 1);
    const SyncManifest back = parse_manifest(text, "m.json");
    CHECK(back.training_id == m.training_id);
    CHECK(back.files.at("labels.bin").sha256 == m.files.at("labels.bin").sha256);
    CHECK(verify_error(back, d.path()) == "");
}

TEST_CASE("verify_manifest refuses changed, truncated and mismatched artifacts") {
    TempDir a, b;
    write_synthetic_artifacts(a.path(), 3);
    write_synthetic_artifacts(b.path(), 2);
    const SyncManifest m = make_manifest(artifacts_in(a.path()));

    flip_byte(a / "model.bin", fs::file_size(a / "model.bin") / 2);
    CHECK(verify_error(m, a.path()).find("model.bin: checksum differs from the manifest") != std::string::npos);
    flip_byte(a / "model.bin", fs::file_size(a / "model.bin") / 2);  // restored
    CHECK(verify_error(m, a.path()) == "");

    const std::string labels = slurp_file(a / "labels.bin");
    spit(a / "labels.bin", labels.substr(0, labels.size() - 5));  // a half-finished download
    CHECK(verify_error(m, a.path()).find("incomplete") != std::string::npos);
    spit(a / "labels.bin", labels);

    fs::copy_file(b / "encodings.bin", a / "encodings.bin", fs::copy_options::overwrite_existing);
    CHECK(verify_error(m, a.path()).find("encodings.bin") != std::string::npos);
    CHECK_THROWS_AS(verify_manifest(m, artifacts_in(a / "missing")), Error);
}

TEST_CASE("parse_manifest refuses wrong, newer, incomplete and hostile manifests") {
    TempDir d;
    write_synthetic_artifacts(d.path(), 2);
    const auto good = nlohmann::json::parse(to_json(make_manifest(artifacts_in(d.path()))));
    auto with = [&](const std::function<void(nlohmann::json&)>& edit) {
        nlohmann::json j = good;
        edit(j);
        return parse_error(j.dump());
    };
    CHECK(parse_error(good.dump()) == "");
    CHECK(parse_error("") .find("not JSON") != std::string::npos);
    CHECK(parse_error(good.dump().substr(0, 100)).find("not JSON") != std::string::npos);  // truncated
    CHECK(parse_error("[1,2]").find("not a facepipe sync manifest") != std::string::npos);
    CHECK(with([](auto& j) { j["format"] = "other"; }).find("not a facepipe sync manifest") != std::string::npos);
    CHECK(with([](auto& j) { j["version"] = 2; }).find("newer than this facepipe supports (1); upgrade") !=
          std::string::npos);
    CHECK(with([](auto& j) { j["version"] = 0; }).find("version is not a positive integer") != std::string::npos);
    CHECK(with([](auto& j) { j["version"] = "1"; }).find("version") != std::string::npos);
    CHECK(with([](auto& j) { j.erase("training_id"); }).find("training_id is missing") != std::string::npos);
    CHECK(with([](auto& j) { j["people"] = -3; }).find("people is not a non-negative integer") != std::string::npos);
    CHECK(with([](auto& j) { j["files"]["model.bin"]["sha256"] = "abc"; })
              .find("files.model.bin.sha256 is not 64 hex digits") != std::string::npos);
    CHECK(with([](auto& j) { j["files"].erase("labels.bin"); }).find("files.labels.bin is missing") !=
          std::string::npos);
    // A manifest may never name other files: pull would otherwise write where it says.
    CHECK(with([](auto& j) { j["files"]["../../etc/passwd"] = j["files"]["model.bin"]; })
              .find("unexpected file '../../etc/passwd'") != std::string::npos);
    CHECK(with([](auto& j) { j["comment"] = "added by a later version"; }) == "");  // unknown keys are fine

    spit(d / "big.json", std::string(kMaxManifestBytes + 1, ' '));
    CHECK_THROWS_AS(read_manifest(d / "big.json"), Error);
}
