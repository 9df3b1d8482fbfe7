#pragma once
// Maps a request path to a file of the built web client, safely (no escaping the root).
#include <filesystem>
#include <optional>
#include <string_view>

namespace colloquy {

struct StaticFile {
  std::filesystem::path path;
  std::string_view content_type;
  bool immutable = false; // hashed asset names under /assets/ may be cached for a long time
};

// "/" and "/room/<anything>" map to index.html (the client routes them); other paths map to the
// file of that name under root if it exists and is a regular file. Paths with "..", NUL, or
// backslashes, and anything outside root, yield nothing.
std::optional<StaticFile> resolve_static(const std::filesystem::path& root, std::string_view target);

std::string_view content_type_for(const std::filesystem::path& path);

// Whether an Accept header names text/html (a browser navigating; `*/*` alone does not count):
// such a request for an unknown path gets the client's page with status 404, which shows its
// "Page not found" view, instead of the JSON error.
bool accepts_html(std::string_view accept);

} // namespace colloquy
