/* A full story through tandem.h only, as an app would write it (plain C99):
 * two tablets of one school enroll with a real server, record offline,
 * sync through the app's own HTTP stack (a transport callback), and read
 * the merged text and the conflict their offline edits made; the conflict
 * is resolved and every allocation freed (run under ASan and under qemu).
 *
 *   tandem_capi_story BASE_URL CODE_A CODE_B DIR
 * Exit 0 and a last line "story: ok ..." when every step held. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_client.h"
#include "tandem.h"

static int failures = 0;

#define CHECK(cond, what)                                      \
  do {                                                         \
    if (!(cond)) {                                             \
      fprintf(stderr, "story: FAILED %s (line %d)\n", what, __LINE__); \
      failures++;                                              \
    }                                                          \
  } while (0)

static void die(const char* step, const tandem_error* err) {
  fprintf(stderr, "story: %s failed: %s: %s\n", step, tandem_error_code_name(err->code), err->message);
  exit(1);
}

/* Host hooks: a clock and a log sink of the app's own. */
typedef struct app_ctx {
  int log_lines;
  int freed;
} app_ctx;

static int64_t app_now_ms(void* ctx) {
  (void)ctx;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void app_log(void* ctx, tandem_log_level level, const char* component, const char* message) {
  (void)level;
  (void)component;
  (void)message;
  ((app_ctx*)ctx)->log_lines++;
}

static void app_free(void* ctx) { ((app_ctx*)ctx)->freed++; }

static void http_free(void* ctx) { free(ctx); }

static tandem_transport* transport_for(const char* base_url) {
  test_http* http = malloc(sizeof *http);
  if (http == NULL || !test_http_init(http, base_url)) {
    fprintf(stderr, "story: bad base url %s\n", base_url);
    exit(2);
  }
  tandem_error err;
  tandem_transport* t = tandem_transport_new(test_http_send, http, http_free, &err);
  if (t == NULL) die("transport", &err);
  return t;
}

static void sync_ok(tandem_store* s, tandem_transport* t, const char* who) {
  tandem_error err;
  tandem_sync_result r;
  if (!tandem_store_sync(s, t, NULL, &r, &err)) die(who, &err);
  CHECK(r.complete, "a sync completes");
  CHECK(r.outbox_left == 0, "the outbox is empty after a sync");
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s BASE_URL CODE_A CODE_B DIR\n", argv[0]);
    return 2;
  }
  const char* url = argv[1];
  char path_a[4096], path_b[4096];
  snprintf(path_a, sizeof path_a, "%s/a.db", argv[4]);
  snprintf(path_b, sizeof path_b, "%s/b.db", argv[4]);
  tandem_error err;
  memset(&err, 0, sizeof err);

  /* Tablet A with the app's own clock and log; tablet B with the defaults. */
  app_ctx app = {0, 0};
  tandem_host host;
  memset(&host, 0, sizeof host);
  host.now_ms = app_now_ms;
  host.log = app_log;
  host.ctx = &app;
  host.ctx_free = app_free;
  tandem_store* a = tandem_store_open(path_a, &host, &err);
  if (a == NULL) die("open a", &err);
  tandem_store* b = tandem_store_open(path_b, NULL, &err);
  if (b == NULL) die("open b", &err);
  tandem_transport* ta = transport_for(url);
  tandem_transport* tb = transport_for(url);

  char* dev = tandem_store_enroll(a, ta, url, argv[2], "Tablet A", &err);
  if (dev == NULL) die("enroll a", &err);
  tandem_string_free(dev);
  dev = tandem_store_enroll(b, tb, url, argv[3], "Tablet B", &err);
  if (dev == NULL) die("enroll b", &err);
  tandem_string_free(dev);
  sync_ok(a, ta, "first sync a");
  sync_ok(b, tb, "first sync b");

  /* A course with a text, shared by both tablets. */
  char* course = tandem_record_create(
      a, "course", "{\"kind\":\"co_teaching\",\"title\":\"Læsegruppe 3.b\",\"goals\":\"Læse højt\"}", &err);
  if (course == NULL) die("create course", &err);
  sync_ok(a, ta, "sync a");
  sync_ok(b, tb, "sync b");
  char* seen = tandem_text_get(b, course, "goals", &err);
  if (seen == NULL) die("b reads the course", &err);
  CHECK(strcmp(seen, "Læse højt") == 0, "b has the course's text");
  tandem_string_free(seen);

  /* Offline on both: typing in the same text (code-point positions: "Læse
   * højt" is 9 code points, 11 bytes), the same field set differently, and
   * a session with entries on A. */
  if (!tandem_text_insert(a, course, "goals", 9, " hver dag", &err)) die("a types", &err);
  if (!tandem_text_insert(b, course, "goals", 0, "Alle: ", &err)) die("b types", &err);
  if (!tandem_record_set(a, course, "status", "\"active\"", &err)) die("a sets status", &err);
  if (!tandem_record_set(b, course, "status", "\"completed\"", &err)) die("b sets status", &err);
  char fields[256];
  snprintf(fields, sizeof fields, "{\"course\":\"%s\",\"approach\":\"station\"}", course);
  char* session = tandem_record_create(a, "session", fields, &err);
  if (session == NULL) die("create session", &err);
  for (int i = 0; i < 5; ++i) {
    char entry[256];
    snprintf(entry, sizeof entry, "{\"session\":\"%s\",\"type\":\"note\",\"text\":\"note %d\"}", session, i);
    char* id = tandem_record_create(a, "entry", entry, &err);
    if (id == NULL) die("record entry", &err);
    tandem_string_free(id);
  }
  CHECK(tandem_store_outbox_size(a, &err) == 8, "a holds its 8 offline changes");

  /* Back online: A, B, A. */
  sync_ok(a, ta, "sync a");
  sync_ok(b, tb, "sync b");
  sync_ok(a, ta, "sync a again");

  char* text_a = tandem_text_get(a, course, "goals", &err);
  char* text_b = tandem_text_get(b, course, "goals", &err);
  if (text_a == NULL || text_b == NULL) die("read merged text", &err);
  CHECK(strcmp(text_a, text_b) == 0, "both tablets read the same merged text");
  CHECK(strcmp(text_a, "Alle: Læse højt hver dag") == 0, "the merged text keeps both edits");
  printf("merged text: %s\n", text_a);

  char* conflicts = tandem_conflicts_list(a, &err);
  if (conflicts == NULL) die("conflicts", &err);
  printf("conflicts on a: %s\n", conflicts);
  CHECK(strstr(conflicts, "\"field\":\"status\"") != NULL, "the status conflict is listed");
  CHECK(strstr(conflicts, "\"at_ms\":") != NULL, "the conflict says when");
  tandem_string_free(conflicts);

  char* entries = tandem_record_list(b, "entry", &err);
  if (entries == NULL) die("list entries", &err);
  CHECK(strstr(entries, "note 4") != NULL, "b received a's entries");
  tandem_string_free(entries);

  /* Resolve on A; both see it resolved. */
  if (!tandem_conflict_resolve(a, course, "status", "\"active\"", &err)) die("resolve", &err);
  sync_ok(a, ta, "sync a after resolve");
  sync_ok(b, tb, "sync b after resolve");
  char* after = tandem_conflicts_list(b, &err);
  if (after == NULL) die("conflicts after", &err);
  CHECK(strcmp(after, "[]") == 0, "no conflict is left after resolving");
  tandem_string_free(after);
  char* record = tandem_record_get(b, course, &err);
  if (record == NULL) die("get course", &err);
  CHECK(strstr(record, "\"status\":\"active\"") != NULL, "b has the resolved value");
  tandem_string_free(record);

  /* Both rewrite the same word of the goals offline ("højt"): the merge is
   * marked on both tablets, with both devices, until B confirms it. */
  if (!tandem_record_set(a, course, "goals", "\"Alle: Læse stille hver dag\"", &err)) die("a rewrites", &err);
  if (!tandem_record_set(b, course, "goals", "\"Alle: Læse i par hver dag\"", &err)) die("b rewrites", &err);
  sync_ok(a, ta, "sync a after rewriting");
  sync_ok(b, tb, "sync b after rewriting");
  sync_ok(a, ta, "sync a after b rewrote");
  char* site_a = tandem_store_site_id(a, &err);
  char* site_b = tandem_store_site_id(b, &err);
  if (site_a == NULL || site_b == NULL) die("site ids", &err);
  for (int i = 0; i < 2; ++i) {
    char* merged = tandem_text_merged(i == 0 ? a : b, course, "goals", &err);
    if (merged == NULL) die("merged", &err);
    printf("merge on %c: %s\n", i == 0 ? 'a' : 'b', merged);
    CHECK(strstr(merged, "\"merged\":true") != NULL, "the rewritten goals are marked as merged");
    CHECK(strstr(merged, site_a) != NULL && strstr(merged, site_b) != NULL, "the merge names both devices");
    CHECK(strstr(merged, "merged from concurrent edits by ") != NULL, "the merge says so in English");
    tandem_string_free(merged);
  }
  char* marked = tandem_record_get(a, course, &err);
  if (marked == NULL) die("get merged course", &err);
  CHECK(strstr(marked, "\"merged\":{\"goals\":[") != NULL, "the record names its merged text");
  tandem_string_free(marked);
  if (!tandem_text_confirm(b, course, "goals", &err)) die("confirm", &err);
  sync_ok(b, tb, "sync b after confirming");
  sync_ok(a, ta, "sync a after b confirmed");
  for (int i = 0; i < 2; ++i) {
    char* merged = tandem_text_merged(i == 0 ? a : b, course, "goals", &err);
    if (merged == NULL) die("merged after confirming", &err);
    CHECK(strstr(merged, "\"merged\":false") != NULL, "a confirmed merge is cleared on both");
    tandem_string_free(merged);
  }
  CHECK(!tandem_text_confirm(a, course, "goals", &err) && err.code == TANDEM_E_NO_CONFLICT,
        "nothing is left to confirm");
  tandem_string_free(site_a);
  tandem_string_free(site_b);

  /* Errors: a stable code, the message; NULL err and NULL frees harmless. */
  tandem_error e2;
  memset(&e2, 0, sizeof e2);
  CHECK(tandem_record_get(a, "no-such-record", &e2) == NULL, "an unknown id fails");
  CHECK(e2.code == TANDEM_E_NOT_FOUND, "an unknown id is not_found");
  CHECK(strcmp(tandem_error_code_name(e2.code), "not_found") == 0, "the code's name");
  CHECK(tandem_record_get(a, "no-such-record", NULL) == NULL, "NULL err is allowed");
  CHECK(!tandem_record_set(a, course, "status", "{not json", &e2) && e2.code == TANDEM_E_INVALID_JSON,
        "bad JSON is invalid_json");
  CHECK(tandem_record_create(a, NULL, "{}", &e2) == NULL && e2.code == TANDEM_E_INVALID_ARGUMENT,
        "a NULL argument is invalid_argument");
  tandem_string_free(NULL);
  tandem_store_close(NULL);
  tandem_transport_free(NULL);

  printf("story: %s merged=\"%s\" log_lines=%d\n", failures == 0 ? "ok" : "FAILED", text_a, app.log_lines);
  tandem_string_free(text_a);
  tandem_string_free(text_b);
  tandem_string_free(session);
  tandem_string_free(course);
  tandem_transport_free(ta);
  tandem_transport_free(tb);
  tandem_store_close(a);
  tandem_store_close(b);
  if (app.freed != 1) {
    fprintf(stderr, "story: the host's ctx destructor ran %d times, not once\n", app.freed);
    failures++;
  }
  return failures == 0 ? 0 : 1;
}
