#include "app/static_files.hpp"

#include <algorithm>
#include <cctype>
#include <system_error>

namespace colloquy {
namespace {

std::string_view path_of(std::string_view target) {
  const auto end = target.find_first_of("?#");
  return target.substr(0, end);
}

// Refuses anything that could name a file outside root or is not a plain path.
bool safe_relative(std::string_view path) {
  if (path.empty()) return false;
  if (path.find('\0') != std::string_view::npos || path.find('\\') != std::string_view::npos) return false;
  if (path.find('%') != std::string_view::npos) return false; // our files need no escapes; none are decoded
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto slash = path.find('/', start);
    const std::string_view segment = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (segment.empty() || segment == "." || segment == "..") return false;
    if (segment.front() == '.') return false; // no dot files
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

} // namespace

std::string_view content_type_for(const std::filesystem::path& path) {
  const std::string ext = path.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json" || ext == ".map") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".webp") return "image/webp";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  if (ext == ".webmanifest") return "application/manifest+json";
  return "application/octet-stream";
}

bool accepts_html(std::string_view accept) {
  std::size_t start = 0;
  while (start < accept.size()) {
    const auto comma = accept.find(',', start);
    std::string_view item = accept.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    item = item.substr(0, item.find(';'));
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.size() == 9) {
      bool same = true;
      for (std::size_t i = 0; i < item.size(); ++i) {
        same = same && std::tolower(static_cast<unsigned char>(item[i])) == "text/html"[i];
      }
      if (same) return true;
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return false;
}

std::optional<StaticFile> resolve_static(const std::filesystem::path& root, std::string_view target) {
  const std::string_view path = path_of(target);
  if (path.empty() || path.front() != '/') return std::nullopt;

  std::filesystem::path file;
  if (path == "/" || path == "/index.html" || path.starts_with("/room/")) {
    file = root / "index.html";
  } else {
    const std::string_view relative = path.substr(1);
    if (!safe_relative(relative)) return std::nullopt;
    file = root / std::filesystem::path(std::string(relative));
  }

  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return std::nullopt;
  // Symlinks inside the build output must not lead out of it either.
  const auto real_root = std::filesystem::weakly_canonical(root, ec);
  if (ec) return std::nullopt;
  const auto real_file = std::filesystem::weakly_canonical(file, ec);
  if (ec) return std::nullopt;
  const auto [root_end, file_it] = std::mismatch(real_root.begin(), real_root.end(), real_file.begin(), real_file.end());
  if (root_end != real_root.end()) return std::nullopt;

  const bool immutable = path.starts_with("/assets/");
  return StaticFile{file, content_type_for(file), immutable};
}

} // namespace colloquy
