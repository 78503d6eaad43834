// The process the crash test kills: opens a Store and writes through the API
// in an endless loop (create / set / add / remove / delete of meetings),
// reporting every write that returned ok on stdout, after it returned:
//
//   ready
//   saved <hlc> <op> <record> <field or -> <value as compact JSON>
//
// Each line goes out with one write(2) (atomic on a pipe), so a SIGKILL
// leaves either a whole line or none. A write that fails is reported as
// "failed <code> <message>" and the child exits with status 3: the parent
// treats any exit that is not its own SIGKILL as a failure.
//
// Usage: tandem_crash_child DB SEED
#include <unistd.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "tandem/core/store.hpp"

namespace {

using tandem::Json;
using tandem::Status;

void emit(const std::string& line) {
  const std::string text = line + "\n";
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(STDOUT_FILENO, text.data() + done, text.size() - done);
    if (n <= 0) std::_Exit(4);
    done += static_cast<std::size_t>(n);
  }
}

[[noreturn]] void die(const tandem::Error& e) {
  emit("failed " + std::string(tandem::error_code_name(e.code)) + " " + e.message);
  std::_Exit(3);
}

void saved(tandem::Store& store, const std::string& op, const std::string& record,
           const std::string& field, const Json& value) {
  emit("saved " + store.clock().last().str() + " " + op + " " + record + " " +
       (field.empty() ? "-" : field) + " " + value.dump());
}

const char* const kThemes[] = {"trivsel", "laesning", "overgang", "sprog", "fravaer"};
const char* const kTitles[] = {"Ressourceteam", "Møde om 3.a", "Opfølgning æøå", "Årsplan",
                               "Vejledning"};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    emit("usage: tandem_crash_child DB SEED");
    return 2;
  }
  std::mt19937_64 rng(std::strtoull(argv[2], nullptr, 10));
  tandem::StoreOptions options;
  options.path = argv[1];
  auto opened = tandem::Store::open(options);
  if (!opened.ok()) die(opened.error());
  tandem::Store& store = **opened;

  // A default school (a kill between create and set_default is repaired here).
  if (store.default_school().empty()) {
    auto schools = store.list("school");
    if (!schools.ok()) die(schools.error());
    std::string school;
    if (schools->empty()) {
      const Json fields = {{"name", "Crash-skolen"}};
      auto made = store.create("school", fields);
      if (!made.ok()) die(made.error());
      school = *made;
      saved(store, "create", school, "", fields);
    } else {
      school = schools->front().id;
    }
    if (Status s = store.set_default_school(school); !s.ok()) die(s.error());
  }
  auto live = store.list("meeting");
  if (!live.ok()) die(live.error());
  std::vector<std::string> ids;
  for (const auto& r : *live) ids.push_back(r.id);
  emit("ready");

  const auto pick = [&rng](std::size_t n) {
    return static_cast<std::size_t>(std::uniform_int_distribution<std::size_t>(0, n - 1)(rng));
  };
  for (;;) {
    const std::size_t roll = pick(100);
    if (ids.empty() || roll < 30) {
      const Json fields = {
          {"date", "2026-0" + std::to_string(1 + pick(9)) + "-1" + std::to_string(pick(10))},
          {"title", kTitles[pick(5)]},
          {"themes", Json::array({kThemes[pick(5)]})}};
      auto made = store.create("meeting", fields);
      if (!made.ok()) die(made.error());
      ids.push_back(*made);
      saved(store, "create", *made, "", fields);
      continue;
    }
    const std::size_t at = pick(ids.size());
    const std::string id = ids[at];
    if (roll < 60) {
      const Json title = std::string(kTitles[pick(5)]) + " " + std::to_string(pick(1000));
      if (Status s = store.set(id, "title", title); !s.ok()) die(s.error());
      saved(store, "set", id, "title", title);
    } else if (roll < 80) {
      const Json theme = kThemes[pick(5)];
      if (Status s = store.add(id, "themes", theme); !s.ok()) die(s.error());
      saved(store, "add", id, "themes", theme);
    } else if (roll < 92) {
      const Json theme = kThemes[pick(5)];
      if (Status s = store.remove(id, "themes", theme); !s.ok()) die(s.error());
      saved(store, "remove", id, "themes", theme);
    } else {
      if (Status s = store.delete_record(id); !s.ok()) die(s.error());
      ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(at));
      saved(store, "delete", id, "", Json());
    }
  }
}
