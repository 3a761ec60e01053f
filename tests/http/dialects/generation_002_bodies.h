#pragma once
// Seed 002's documented start bodies, shared by its dialect tests.
#include <string>

namespace jobtrail::testing {

inline constexpr const char* kStory =
    "Once upon a time a brave fox set out across the snowy hills to find the lost star.";
inline const std::string kStorybookBody = R"({"title":"My Adventure","story":"Once upon a time...",
  "characterImage":"https://example.com/character.jpg","pages":[{"pageNumber":1,"scenes":[
  {"description":"Hero begins journey","emotion":"excited",
   "imagePrompt":"A brave character starting an adventure"}]}],"audience":"children"})";

}  // namespace jobtrail::testing
