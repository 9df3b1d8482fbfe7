#include "app/static_files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace colloquy {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
protected:
  void SetUp() override {
    base = fs::temp_directory_path() / ("colloquy-static-" + std::to_string(::getpid()));
    fs::remove_all(base);
    root = base / "dist";
    fs::create_directories(root / "assets");
    write(root / "index.html", "<!doctype html>");
    write(root / "assets" / "index-abc123.js", "console.log(1)");
    write(root / "assets" / "index-abc123.css", "body{}");
    write(root / ".env", "SECRET=1");
    write(base / "outside.txt", "not served");
    fs::create_symlink(base / "outside.txt", root / "link.txt");
  }
  void TearDown() override { fs::remove_all(base); }

  static void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

  fs::path base;
  fs::path root;
};

TEST_F(StaticFilesTest, RootAndRoomPathsServeTheClientPage) {
  for (const char* target : {"/", "/index.html", "/room/k3j5q2m7x4c8a9bd", "/room/abc?x=1", "/room/"}) {
    const auto file = resolve_static(root, target);
    ASSERT_TRUE(file) << target;
    EXPECT_EQ(file->path.filename(), "index.html") << target;
    EXPECT_EQ(file->content_type, "text/html; charset=utf-8");
    EXPECT_FALSE(file->immutable) << "the page must be revalidated so new builds are picked up";
  }
}

TEST_F(StaticFilesTest, HashedAssetsAreImmutableWithTheirContentType) {
  const auto js = resolve_static(root, "/assets/index-abc123.js");
  ASSERT_TRUE(js);
  EXPECT_TRUE(js->immutable);
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  const auto css = resolve_static(root, "/assets/index-abc123.css?v=2");
  ASSERT_TRUE(css);
  EXPECT_EQ(css->content_type, "text/css; charset=utf-8");
}

TEST_F(StaticFilesTest, UnknownFilesAndDirectoriesAreNotFound) {
  EXPECT_FALSE(resolve_static(root, "/nope.js"));
  EXPECT_FALSE(resolve_static(root, "/assets"));
  EXPECT_FALSE(resolve_static(root, "/assets/"));
  EXPECT_FALSE(resolve_static(root, ""));
  EXPECT_FALSE(resolve_static(root, "assets/index-abc123.js"));
}

TEST_F(StaticFilesTest, TraversalDotFilesAndEscapesAreRefused) {
  for (const char* target : {"/../outside.txt", "/assets/../../outside.txt", "/assets/../index.html", "/./index.html",
                             "/..%2foutside.txt", "/%2e%2e/outside.txt", "/assets\\..\\..\\outside.txt", "/.env",
                             "//etc/passwd", "/link.txt"}) {
    EXPECT_FALSE(resolve_static(root, target)) << target;
  }
  EXPECT_FALSE(resolve_static(root, std::string_view("/index.html\0.js", 15)));
}

TEST(AcceptsHtml, OnlyAnExplicitTextHtmlCounts) {
  // What Chromium and Firefox send when navigating to a page.
  EXPECT_TRUE(accepts_html("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"));
  EXPECT_TRUE(accepts_html("application/xhtml+xml, TEXT/HTML;q=0.9"));
  EXPECT_TRUE(accepts_html(" text/html "));
  for (const char* other : {"", "*/*", "application/json", "text/*", "text/html5", "text/htm", "application/json, text/plain"}) {
    EXPECT_FALSE(accepts_html(other)) << other;
  }
}

TEST(ContentType, KnownAndUnknownExtensions) {
  EXPECT_EQ(content_type_for("a.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("a.woff2"), "font/woff2");
  EXPECT_EQ(content_type_for("a.bin"), "application/octet-stream");
}

} // namespace
} // namespace colloquy
