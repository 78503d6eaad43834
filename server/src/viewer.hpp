// Who asks for a report: a leader's browser session, a leader's device, or
// the administration (admin CLI). Read afresh at each request.
#pragma once

#include <string>

namespace tandem::server {

struct Viewer {
  std::string person;   // "" = the administration (admin CLI)
  std::string school;   // the person's school
  std::string role;     // the person's role now (read from the person record at each request)
  std::string device;   // the device when authenticated by a bearer token, "" otherwise
  std::string session;  // the session id (not the token) when authenticated by cookie
};

}  // namespace tandem::server
