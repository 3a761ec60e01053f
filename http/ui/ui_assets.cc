#include "http/ui/ui_assets.h"

namespace jobtrail::http::ui {

const Asset* FindAsset(std::string_view name) {
  for (const Asset& a : Assets()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

}  // namespace jobtrail::http::ui
