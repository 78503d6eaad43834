// Who is looking at the school's view: a leader's browser session, a
// leader's device (bearer token), or the administration (admin CLI).
#pragma once

#include <string>

namespace tandem::server {

struct Viewer {
  std::string person;   // "" = the administration (admin CLI): a leader's view, audited as such
  std::string school;   // the person's school ("" for the administration)
  std::string device;   // the device when authenticated by a bearer token, "" otherwise
  std::string session;  // the browser session's id (never its token), "" otherwise
};

}  // namespace tandem::server
