/* A plain C program built with `cc main.c $(pkg-config --cflags --libs tandem)`
 * against a fresh install (the ctest consumer/pkgconfig; ../run.cmake): it
 * opens a store through the installed libtandem.so, records offline and
 * reads it back. The driver defines TANDEM_CONSUMER_HAVE_CAPI when tandem.h
 * is installed (a build without the C API installs core and sync only). */
#include <stdio.h>
#include <string.h>

#ifdef TANDEM_CONSUMER_HAVE_CAPI
#include <tandem.h>

static int fail(const char* what, const tandem_error* err) {
  fprintf(stderr, "consumer/pkgconfig: %s: %s: %s\n", what, tandem_error_code_name(err->code), err->message);
  return 1;
}
#endif

int main(int argc, char** argv) {
#ifdef TANDEM_CONSUMER_HAVE_CAPI
  const char* path = argc > 1 ? argv[1] : "consumer.db";
  tandem_error err;
  remove(path);
  tandem_store* s = tandem_store_open(path, NULL, &err);
  if (s == NULL) return fail("open", &err);
  char* school = tandem_record_create(s, "school", "{\"name\":\"Skovbakkeskolen\"}", &err);
  if (school == NULL || !tandem_store_set_default_school(s, school, &err)) return fail("school", &err);
  char* action = tandem_record_create(s, "action", "{\"text\":\"Ring til PPR\"}", &err);
  if (action == NULL) return fail("create", &err);
  char* text = tandem_text_get(s, action, "text", &err);
  if (text == NULL) return fail("read", &err);
  const int ok = strcmp(text, "Ring til PPR") == 0 && tandem_store_outbox_size(s, &err) == 2;
  printf("consumer/pkgconfig: %s (tandem.h %s)\n", ok ? "ok" : "WRONG ANSWER", tandem_version());
  tandem_string_free(text);
  tandem_string_free(action);
  tandem_string_free(school);
  tandem_store_close(s);
  remove(path);
  return ok ? 0 : 1;
#else
  (void)argc;
  (void)argv;
  printf("consumer/pkgconfig: ok (no C API installed)\n");
  return 0;
#endif
}
