#pragma once
// The live view's page, compiled into the server: the files of python/etcdlab/view/static as
// they were at build time (embed_view.cmake generates the definition). Served at
// /etcdlab/view/<path> when --enable-view is on (view_handlers.h).

#include <span>
#include <string_view>

namespace etcdlab::gateway {

struct ViewAsset {
  std::string_view path;  // relative to the static folder: "index.html", "js/view.js"
  std::string_view content_type;
  std::string_view bytes;
};

// Sorted by path; empty when the folder held nothing at build time.
std::span<const ViewAsset> view_assets();

}  // namespace etcdlab::gateway
