// Opens a store, creates a school and a course and reads it back through the installed
// headers and library only. Exit code 0 and one line "consumer/cmake: ok"
// when the record reads back as written.
#include <cstdio>
#include <string>

#include "tandem/core/store.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer DB-PATH\n");
    return 2;
  }
  tandem::StoreOptions options;
  options.path = argv[1];
  auto store = tandem::Store::open(options);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.error().message.c_str());
    return 1;
  }
  auto school = (*store)->create("school", tandem::Json{{"name", "Skovbakkeskolen"}});
  if (!school.ok() || !(*store)->set_default_school(*school).ok()) {
    std::fprintf(stderr, "school: %s\n",
                 school.ok() ? "set_default_school" : school.error().message.c_str());
    return 1;
  }
  const std::string title = "Læsning i 3.ø";
  auto id = (*store)->create("course", tandem::Json{{"kind", "co_teaching"}, {"title", title}});
  if (!id.ok()) {
    std::fprintf(stderr, "create: %s\n", id.error().message.c_str());
    return 1;
  }
  auto record = (*store)->get(*id);
  if (!record.ok()) {
    std::fprintf(stderr, "get: %s\n", record.error().message.c_str());
    return 1;
  }
  if (record->kind != "course" || record->fields.value("title", "") != title) {
    std::fprintf(stderr, "read back %s\n", record->to_json().dump().c_str());
    return 1;
  }
  std::printf("consumer/cmake: ok (%s %s)\n", record->kind.c_str(), id->c_str());
  return 0;
}
