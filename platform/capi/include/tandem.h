/* tandem.h — the C API of Tandem's core and sync engine (C99), for apps in
 * Swift (import as a module), Kotlin (JNI / Kotlin-Native cinterop) and C.
 *
 * Conventions
 * -----------
 * - Names: tandem_<noun>_<verb>. Handles are opaque (tandem_store, ...).
 * - Errors: every function that can fail takes a last `tandem_error* err`
 *   out-parameter. It may be NULL. It is written ONLY on failure (then the
 *   function returns false / NULL / a negative number, as documented), with a
 *   stable code (TANDEM_E_*; tandem_error_code_name() gives its text form,
 *   the same as the sync protocol's "code") and an English message for
 *   developers (never shown to users, never holding a child's data).
 * - Memory: every pointer a function returns is owned by the caller and has
 *   exactly one free: strings with tandem_string_free(), handles with their
 *   tandem_<noun>_close()/_free(). Freeing NULL is harmless. Strings in and
 *   out are NUL-terminated UTF-8; JSON values are JSON text.
 * - Callbacks take a `void* ctx` given with them, and a destructor
 *   (`ctx_free`, may be NULL) that Tandem calls exactly once when it no
 *   longer needs ctx (when the handle it was given to is freed).
 * - No entry point lets an exception or a signal escape: every one is
 *   noexcept behind one guard; out-of-memory becomes TANDEM_E_INTERNAL.
 * - Threads: Tandem starts no threads and keeps no global state. A
 *   tandem_store is used from one thread at a time (any thread; serialise
 *   calls yourself). Several stores, each on its own thread, are fine.
 *   tandem_cancel_token_cancel() is the one call that may come from any
 *   thread at any time. Callbacks run on the thread of the call that
 *   invokes them, before it returns.
 * - Times: milliseconds since the Unix epoch, UTC. Text positions are
 *   Unicode code points, not bytes or UTF-16 units.
 */
#ifndef TANDEM_H
#define TANDEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- attributes: visibility, nullability, enums (Swift imports them) ---- */
#if defined(_WIN32)
#define TANDEM_API
#else
#define TANDEM_API __attribute__((visibility("default")))
#endif
#if defined(__clang__)
#define TANDEM_NONNULL _Nonnull
#define TANDEM_NULLABLE _Nullable
#else
#define TANDEM_NONNULL
#define TANDEM_NULLABLE
#endif
#if defined(__clang__) && defined(__has_attribute)
#if __has_attribute(enum_extensibility)
#define TANDEM_ENUM_ATTR __attribute__((enum_extensibility(open)))
#endif
#endif
#ifndef TANDEM_ENUM_ATTR
#define TANDEM_ENUM_ATTR
#endif
/* An enum whose values have a fixed width (int32_t) across compilers. */
#define TANDEM_ENUM(name) \
  typedef int32_t name;   \
  enum TANDEM_ENUM_ATTR name##_values

/* ---- errors ---- */
TANDEM_ENUM(tandem_error_code){
    TANDEM_OK = 0,
    TANDEM_E_INVALID_ARGUMENT = 1,
    TANDEM_E_NOT_FOUND = 2,
    TANDEM_E_UNKNOWN_KIND = 3,
    TANDEM_E_UNKNOWN_FIELD = 4,
    TANDEM_E_WRONG_TYPE = 5,
    TANDEM_E_INVALID_VALUE = 6,
    TANDEM_E_INVALID_DATE = 7,
    TANDEM_E_INVALID_UTF8 = 8,
    TANDEM_E_TOO_LONG = 9,
    TANDEM_E_DELETED = 10,
    TANDEM_E_PURGED = 11,
    TANDEM_E_CLOCK_SKEW = 12,
    TANDEM_E_IO = 13,
    TANDEM_E_DISK_FULL = 14,
    TANDEM_E_CORRUPT = 15,
    TANDEM_E_INVALID_JSON = 16,
    TANDEM_E_MISSING_FIELD = 17,
    TANDEM_E_UNSUPPORTED_VERSION = 18,
    TANDEM_E_NO_CONFLICT = 19,
    TANDEM_E_WRONG_SCHOOL = 20,
    TANDEM_E_UNAUTHORIZED = 21,
    TANDEM_E_FORBIDDEN = 22,
    TANDEM_E_PAYLOAD_TOO_LARGE = 23,
    TANDEM_E_TOO_MANY_CHANGES = 24,
    TANDEM_E_TIMEOUT = 25,
    TANDEM_E_NETWORK = 26,
    TANDEM_E_SERVER = 27,
    TANDEM_E_BUSY = 28,
    TANDEM_E_INTERNAL = 29,
    TANDEM_E_EXPIRED = 30,
    TANDEM_E_ALREADY_EXISTS = 31,
    TANDEM_E_RESPONSE_TOO_LARGE = 32,
    TANDEM_E_BAD_RESPONSE = 33,
    TANDEM_E_RATE_LIMITED = 34,
    TANDEM_E_TEXT_TOO_LARGE = 35,
    TANDEM_E_ERASURE_PENDING = 36,
    TANDEM_E_AMBIGUOUS = 37,
    TANDEM_E_CANCELLED = 38,
    TANDEM_E_KEY_MISSING = 39,
    TANDEM_E_WRONG_KEY = 40,
    TANDEM_E_TAMPERED = 41,
    TANDEM_E_DEVICE_WIPED = 42,
    TANDEM_E_LEASE_EXPIRED = 43,
    TANDEM_E_INSECURE_TRANSPORT = 44,
    TANDEM_E_CERTIFICATE = 45,
};

#define TANDEM_ERROR_MESSAGE_MAX 512
typedef struct tandem_error {
  tandem_error_code code;
  char message[TANDEM_ERROR_MESSAGE_MAX]; /* NUL-terminated, truncated to fit */
} tandem_error;

/* The stable text form of a code ("not_found", ...); static storage. */
TANDEM_API const char* TANDEM_NONNULL tandem_error_code_name(tandem_error_code code);
/* The library's version ("0.1.0"); static storage. */
TANDEM_API const char* TANDEM_NONNULL tandem_version(void);
TANDEM_API void tandem_string_free(char* TANDEM_NULLABLE s);

/* ---- host: what the app gives the core (all optional) ---- */
TANDEM_ENUM(tandem_log_level){
    TANDEM_LOG_DEBUG = 0,
    TANDEM_LOG_INFO = 1,
    TANDEM_LOG_WARNING = 2,
    TANDEM_LOG_ERROR = 3,
};

/* Zero-initialise, then set what the app provides; NULL members get the
 * core's defaults (system clock, no log, OS random, no key store, SQLite's
 * default VFS, Europe/Copenhagen). */
typedef struct tandem_host {
  /* Wall clock, Unix ms. */
  int64_t (*TANDEM_NULLABLE now_ms)(void* TANDEM_NULLABLE ctx);
  /* One diagnostic line (no personal data in it). */
  void (*TANDEM_NULLABLE log)(void* TANDEM_NULLABLE ctx, tandem_log_level level,
                              const char* TANDEM_NONNULL component, const char* TANDEM_NONNULL message);
  /* Fill `out` with n cryptographically strong random bytes. */
  void (*TANDEM_NULLABLE random_fill)(void* TANDEM_NULLABLE ctx, uint8_t* TANDEM_NONNULL out, size_t n);
  /* Key store (Keychain / Keystore): get returns a malloc'ed secret (the core
   * frees it with free()) and its length in *len, or NULL when absent; put and
   * erase return true on success. All three or none. */
  uint8_t* TANDEM_NULLABLE (*TANDEM_NULLABLE key_get)(void* TANDEM_NULLABLE ctx, const char* TANDEM_NONNULL name,
                                                      size_t* TANDEM_NONNULL len);
  bool (*TANDEM_NULLABLE key_put)(void* TANDEM_NULLABLE ctx, const char* TANDEM_NONNULL name,
                                  const uint8_t* TANDEM_NONNULL secret, size_t len);
  bool (*TANDEM_NULLABLE key_erase)(void* TANDEM_NULLABLE ctx, const char* TANDEM_NONNULL name);
  /* A registered SQLite VFS name for the file layer (NULL: default). */
  const char* TANDEM_NULLABLE sqlite_vfs;
  /* "Europe/Copenhagen" (default) or "UTC". */
  const char* TANDEM_NULLABLE time_zone;
  void* TANDEM_NULLABLE ctx;
  void (*TANDEM_NULLABLE ctx_free)(void* TANDEM_NULLABLE ctx);
} tandem_host;

/* ---- the store: one SQLite file, one device's replica ---- */
typedef struct tandem_store tandem_store;

/* Opens (creates) the database at `path`. `host` may be NULL; its members
 * are copied (ctx is owned by the store from here, even on failure). */
TANDEM_API tandem_store* TANDEM_NULLABLE tandem_store_open(const char* TANDEM_NONNULL path,
                                                          const tandem_host* TANDEM_NULLABLE host,
                                                          tandem_error* TANDEM_NULLABLE err);
TANDEM_API void tandem_store_close(tandem_store* TANDEM_NULLABLE store);
/* Erases the database at `path` for good: its key in the host's key store
 * first (what the flash keeps of the files is then unreadable), then the
 * file, its -wal, -shm and -journal. No store may have it open. A missing
 * database is not an error. `host` as for tandem_store_open (NULL: no key
 * store; ctx is owned by the call and freed before it returns). For an app
 * that erases a device itself (user sign-out), or to finish a wipe whose
 * erase failed (see tandem_store_sync). */
TANDEM_API bool tandem_destroy_database(const char* TANDEM_NONNULL path,
                                        const tandem_host* TANDEM_NULLABLE host,
                                        tandem_error* TANDEM_NULLABLE err);
/* This replica's site id (16 hex characters). */
TANDEM_API char* TANDEM_NULLABLE tandem_store_site_id(tandem_store* TANDEM_NONNULL store,
                                                      tandem_error* TANDEM_NULLABLE err);
/* The school new records belong to ("" until enrollment's first sync or
 * tandem_store_set_default_school). */
TANDEM_API char* TANDEM_NULLABLE tandem_store_default_school(tandem_store* TANDEM_NONNULL store,
                                                             tandem_error* TANDEM_NULLABLE err);
/* Makes the school record `school_id` the default school (a tablet that
 * starts offline creates its school record first). */
TANDEM_API bool tandem_store_set_default_school(tandem_store* TANDEM_NONNULL store,
                                                const char* TANDEM_NONNULL school_id,
                                                tandem_error* TANDEM_NULLABLE err);
/* Local changes not yet acknowledged by the server; -1 on failure. */
TANDEM_API int64_t tandem_store_outbox_size(tandem_store* TANDEM_NONNULL store, tandem_error* TANDEM_NULLABLE err);

/* ---- records (kinds and fields: DOMAIN.md; values as JSON text) ---- */
/* Creates a record; returns its id. `fields_json`: a JSON object. */
TANDEM_API char* TANDEM_NULLABLE tandem_record_create(tandem_store* TANDEM_NONNULL store,
                                                      const char* TANDEM_NONNULL kind,
                                                      const char* TANDEM_NONNULL fields_json,
                                                      tandem_error* TANDEM_NULLABLE err);
/* Sets a whole field value: scalars as given; sets by their difference;
 * text fields by one minimal edit (concurrent typing elsewhere survives). */
TANDEM_API bool tandem_record_set(tandem_store* TANDEM_NONNULL store, const char* TANDEM_NONNULL id,
                                  const char* TANDEM_NONNULL field, const char* TANDEM_NONNULL value_json,
                                  tandem_error* TANDEM_NULLABLE err);
/* Adds / removes one element of a set field. */
TANDEM_API bool tandem_record_add(tandem_store* TANDEM_NONNULL store, const char* TANDEM_NONNULL id,
                                  const char* TANDEM_NONNULL field, const char* TANDEM_NONNULL element_json,
                                  tandem_error* TANDEM_NULLABLE err);
TANDEM_API bool tandem_record_remove(tandem_store* TANDEM_NONNULL store, const char* TANDEM_NONNULL id,
                                     const char* TANDEM_NONNULL field, const char* TANDEM_NONNULL element_json,
                                     tandem_error* TANDEM_NULLABLE err);
TANDEM_API bool tandem_record_delete(tandem_store* TANDEM_NONNULL store, const char* TANDEM_NONNULL id,
                                     tandem_error* TANDEM_NULLABLE err);
/* Erases a record's content everywhere (a child's data on request). */
TANDEM_API bool tandem_record_purge(tandem_store* TANDEM_NONNULL store, const char* TANDEM_NONNULL id,
                                    tandem_error* TANDEM_NULLABLE err);
/* The record as JSON: {"id","kind","school","fields",{...},"conflicts":[...],
 * "created_ms"} (created_ms: when it was created, null if unknown here), and
 * "merged": {field: [site, ...]} when a text field holds an unconfirmed
 * merge of overlapping concurrent edits (see tandem_text_merged). */
TANDEM_API char* TANDEM_NULLABLE tandem_record_get(tandem_store* TANDEM_NONNULL store, const char* TANDEM_NONNULL id,
                                                   tandem_error* TANDEM_NULLABLE err);
/* Live records of a kind ("" or NULL: all kinds), a JSON array sorted by id. */
TANDEM_API char* TANDEM_NULLABLE tandem_record_list(tandem_store* TANDEM_NONNULL store,
                                                    const char* TANDEM_NULLABLE kind,
                                                    tandem_error* TANDEM_NULLABLE err);

/* ---- text fields: code-point positions ---- */
TANDEM_API bool tandem_text_insert(tandem_store* TANDEM_NONNULL store, const char* TANDEM_NONNULL id,
                                   const char* TANDEM_NONNULL field, size_t pos, const char* TANDEM_NONNULL text,
                                   tandem_error* TANDEM_NULLABLE err);
TANDEM_API bool tandem_text_delete(tandem_store* TANDEM_NONNULL store, const char* TANDEM_NONNULL id,
                                   const char* TANDEM_NONNULL field, size_t pos, size_t len,
                                   tandem_error* TANDEM_NULLABLE err);
/* The field's current text ("" when unset). */
TANDEM_API char* TANDEM_NULLABLE tandem_text_get(tandem_store* TANDEM_NONNULL store, const char* TANDEM_NONNULL id,
                                                 const char* TANDEM_NONNULL field, tandem_error* TANDEM_NULLABLE err);
/* Whether the text was merged from overlapping concurrent edits (two devices
 * deleted or rewrote the same characters offline) and nobody has edited or
 * confirmed it since: a JSON object {"field","merged":bool,"by":[{"site",
 * "name","this_device"}]} and, when merged, "message" ("merged from
 * concurrent edits by A and B", English) and "message_da" (Danish) for the
 * app to show beside the text. "name" is the person's name where this device
 * knows it (its own enrolled person), else null: show the site id. The same
 * authors' site ids are in tandem_record_get's "merged" member. Every
 * replica shows the same state once it has the same changes, whatever their
 * order. TANDEM_E_WRONG_TYPE for a field that is not a text. */
TANDEM_API char* TANDEM_NULLABLE tandem_text_merged(tandem_store* TANDEM_NONNULL store, const char* TANDEM_NONNULL id,
                                                    const char* TANDEM_NONNULL field,
                                                    tandem_error* TANDEM_NULLABLE err);
/* Confirms the merged text as it reads: a change that clears the merge on
 * every device that syncs it (so does any tandem_text_insert/_delete or
 * tandem_record_set of the field). TANDEM_E_NO_CONFLICT when the field has
 * no merge to confirm. */
TANDEM_API bool tandem_text_confirm(tandem_store* TANDEM_NONNULL store, const char* TANDEM_NONNULL id,
                                    const char* TANDEM_NONNULL field, tandem_error* TANDEM_NULLABLE err);

/* ---- conflicts ---- */
/* Open conflicts, a JSON array of {"record","kind","label","field","value",
 * "hlc","at_ms","at","site","this_device"}: the value that lost, when (its
 * stamp's time; "at" in the host's zone) and which device wrote it. */
TANDEM_API char* TANDEM_NULLABLE tandem_conflicts_list(tandem_store* TANDEM_NONNULL store,
                                                       tandem_error* TANDEM_NULLABLE err);
/* Resolves a field's conflict with `value_json` (supersedes every value seen). */
TANDEM_API bool tandem_conflict_resolve(tandem_store* TANDEM_NONNULL store, const char* TANDEM_NONNULL id,
                                        const char* TANDEM_NONNULL field, const char* TANDEM_NONNULL value_json,
                                        tandem_error* TANDEM_NULLABLE err);

/* ---- the notebook: what an app's screens ask (core/notebook.hpp) ---- */
/* Records one observation entry in a session (one append-only record, so
 * tablets recording together never conflict). `type`: "note" (text),
 * "code" (code; end_ms > 0 makes it a duration), "tick" (code + interval >= 0),
 * "tally" (code; count, 0 = 1), "rating" (code = the item; value). at_ms 0:
 * now. child/group/author: ids or NULL. Returns the entry's id. */
typedef struct tandem_entry {
  const char* TANDEM_NONNULL session;
  const char* TANDEM_NONNULL type;
  const char* TANDEM_NULLABLE text;
  const char* TANDEM_NULLABLE code;
  int64_t at_ms;
  int64_t end_ms;
  int64_t interval; /* tick: the interval (0-based); -1 otherwise */
  int64_t count;
  double value;
  const char* TANDEM_NULLABLE child;
  const char* TANDEM_NULLABLE group;
  const char* TANDEM_NULLABLE author;
} tandem_entry;
TANDEM_API char* TANDEM_NULLABLE tandem_entry_record(tandem_store* TANDEM_NONNULL store,
                                                     const tandem_entry* TANDEM_NONNULL entry,
                                                     tandem_error* TANDEM_NULLABLE err);
/* A session's observation summary / a course's (every session's and their
 * means), as JSON (the same document as `tandem summary --json`). */
TANDEM_API char* TANDEM_NULLABLE tandem_summary_session(tandem_store* TANDEM_NONNULL store,
                                                        const char* TANDEM_NONNULL session_id,
                                                        tandem_error* TANDEM_NULLABLE err);
TANDEM_API char* TANDEM_NULLABLE tandem_summary_course(tandem_store* TANDEM_NONNULL store,
                                                       const char* TANDEM_NONNULL course_id,
                                                       tandem_error* TANDEM_NULLABLE err);
/* The id of the record of `kind` ("person", "group", "child", "course", ...)
 * that `text` names: an id, a whole name, initials, or a word of the name.
 * TANDEM_E_NOT_FOUND for none, TANDEM_E_AMBIGUOUS for several (the message
 * lists them; tandem_reference_find gives them as data). */
TANDEM_API char* TANDEM_NULLABLE tandem_reference_resolve(tandem_store* TANDEM_NONNULL store,
                                                          const char* TANDEM_NONNULL kind,
                                                          const char* TANDEM_NONNULL text,
                                                          tandem_error* TANDEM_NULLABLE err);
/* Every match, a JSON array of {"id","label"} ([] for none). */
TANDEM_API char* TANDEM_NULLABLE tandem_reference_find(tandem_store* TANDEM_NONNULL store,
                                                       const char* TANDEM_NONNULL kind,
                                                       const char* TANDEM_NONNULL text,
                                                       tandem_error* TANDEM_NULLABLE err);
/* Open actions (not done), by due date: a JSON array of {"id","text","due",
 * "overdue","tovholder","tovholder_name"}. person: only those this person
 * (an id) holds, NULL for everyone's; overdue_only: due before today in the
 * host's time zone. */
TANDEM_API char* TANDEM_NULLABLE tandem_actions_list(tandem_store* TANDEM_NONNULL store,
                                                     const char* TANDEM_NULLABLE person, bool overdue_only,
                                                     tandem_error* TANDEM_NULLABLE err);
/* A course, meeting or session with what hangs under it (sessions, entry
 * counts, reflections, agenda items, actions), as nested JSON. */
TANDEM_API char* TANDEM_NULLABLE tandem_record_tree(tandem_store* TANDEM_NONNULL store, const char* TANDEM_NONNULL id,
                                                    tandem_error* TANDEM_NULLABLE err);
/* Times in the host's zone: "2026-11-30 09:00" for a UTC ms; and back
 * ("YYYY-MM-DD HH:MM[:SS]" local, or ISO 8601 with Z or an offset). */
TANDEM_API char* TANDEM_NULLABLE tandem_time_format(tandem_store* TANDEM_NONNULL store, int64_t utc_ms,
                                                    tandem_error* TANDEM_NULLABLE err);
TANDEM_API bool tandem_time_parse(tandem_store* TANDEM_NONNULL store, const char* TANDEM_NONNULL text,
                                  int64_t* TANDEM_NONNULL utc_ms, tandem_error* TANDEM_NULLABLE err);

/* ---- transport: how sync reaches the server ---- */
typedef struct tandem_transport tandem_transport;

/* One HTTP exchange done by the app's own HTTP stack (URLSession, OkHttp):
 * send `method` to base URL + `path` with `body` (JSON, body_len bytes; empty
 * for GET) and, when bearer is non-empty, "Authorization: Bearer <bearer>";
 * Content-Type application/json. Take no longer than timeout_ms (0: your own
 * limit). On a response of any status: call tandem_http_response_set(response,
 * status, body, len) once and return true. On a failure without a response
 * return false with kind TANDEM_E_NETWORK or TANDEM_E_TIMEOUT in *failure. */
typedef struct tandem_http_response tandem_http_response;
typedef bool (*tandem_send_fn)(void* TANDEM_NULLABLE ctx, const char* TANDEM_NONNULL method,
                               const char* TANDEM_NONNULL path, const char* TANDEM_NONNULL body, size_t body_len,
                               const char* TANDEM_NONNULL bearer, int64_t timeout_ms,
                               tandem_http_response* TANDEM_NONNULL response,
                               tandem_error_code* TANDEM_NONNULL failure);
TANDEM_API void tandem_http_response_set(tandem_http_response* TANDEM_NONNULL response, int32_t status,
                                         const char* TANDEM_NULLABLE body, size_t len);

TANDEM_API tandem_transport* TANDEM_NULLABLE tandem_transport_new(tandem_send_fn TANDEM_NONNULL send,
                                                                  void* TANDEM_NULLABLE ctx,
                                                                  void (*TANDEM_NULLABLE ctx_free)(void* TANDEM_NULLABLE),
                                                                  tandem_error* TANDEM_NULLABLE err);
/* libcurl's transport to `base_url` (builds with curl only; otherwise
 * TANDEM_E_INVALID_ARGUMENT). Plain HTTP to loopback only. */
TANDEM_API tandem_transport* TANDEM_NULLABLE tandem_transport_new_http(const char* TANDEM_NONNULL base_url,
                                                                       tandem_error* TANDEM_NULLABLE err);
TANDEM_API void tandem_transport_free(tandem_transport* TANDEM_NULLABLE transport);

/* ---- enrollment and sync ---- */
/* Enrolls this database as a device with a one-time code; returns the
 * device id. `server_url` is kept for later syncs. */
TANDEM_API char* TANDEM_NULLABLE tandem_store_enroll(tandem_store* TANDEM_NONNULL store,
                                                     tandem_transport* TANDEM_NONNULL transport,
                                                     const char* TANDEM_NONNULL server_url,
                                                     const char* TANDEM_NONNULL code,
                                                     const char* TANDEM_NONNULL device_name,
                                                     tandem_error* TANDEM_NULLABLE err);
/* What becomes of records made on this tablet under another school before
 * its first enrollment (init with a school name): TANDEM_LOCAL_RECORDS_ASK
 * refuses such a database before the code is used (TANDEM_E_ALREADY_EXISTS,
 * the code stays usable); MOVE makes them the school's (sent at the next
 * sync; people stay local: only the administration creates them); KEEP
 * keeps them as a separate local school on this device, never sent. */
TANDEM_ENUM(tandem_local_records){
    TANDEM_LOCAL_RECORDS_ASK = 0,
    TANDEM_LOCAL_RECORDS_MOVE = 1,
    TANDEM_LOCAL_RECORDS_KEEP = 2,
};
/* tandem_store_enroll with that choice. Every refusal (code unknown, used
 * or expired; the choice missing) leaves the code unused and no device on
 * the server. */
TANDEM_API char* TANDEM_NULLABLE tandem_store_enroll_with(tandem_store* TANDEM_NONNULL store,
                                                          tandem_transport* TANDEM_NONNULL transport,
                                                          const char* TANDEM_NONNULL server_url,
                                                          const char* TANDEM_NONNULL code,
                                                          const char* TANDEM_NONNULL device_name,
                                                          tandem_local_records local_records,
                                                          tandem_error* TANDEM_NULLABLE err);

/* Cancels a running sync from any thread. */
typedef struct tandem_cancel_token tandem_cancel_token;
TANDEM_API tandem_cancel_token* TANDEM_NULLABLE tandem_cancel_token_new(tandem_error* TANDEM_NULLABLE err);
TANDEM_API void tandem_cancel_token_cancel(tandem_cancel_token* TANDEM_NONNULL token);
TANDEM_API void tandem_cancel_token_free(tandem_cancel_token* TANDEM_NULLABLE token);

typedef struct tandem_sync_progress {
  int64_t pushed;      /* changes acknowledged so far */
  int64_t pulled;      /* changes received so far */
  int64_t outbox_left; /* local changes still to push */
  bool more;           /* the server has more to pull */
} tandem_sync_progress;

typedef struct tandem_sync_options {
  /* A background window: stop cleanly before this many ms (0: none), the
   * outbox pushed first. The result says stopped_at_deadline. */
  int64_t deadline_ms;
  /* Fail with TANDEM_E_TIMEOUT after this many ms, retries included (0: none). */
  int64_t timeout_ms;
  tandem_cancel_token* TANDEM_NULLABLE cancel;
  void (*TANDEM_NULLABLE progress)(void* TANDEM_NULLABLE ctx, const tandem_sync_progress* TANDEM_NONNULL p);
  void* TANDEM_NULLABLE progress_ctx; /* not freed by Tandem: lives through the call */
} tandem_sync_options;

typedef struct tandem_sync_result {
  int64_t pushed, accepted, rejected, pulled, applied, erased, outbox_left, requests;
  int64_t clock_offset_ms; /* server - device, last answer */
  bool complete;           /* outbox empty and nothing more to pull */
  bool stopped_at_deadline;
  bool clock_wrong;        /* the device's clock is off: ask the user to fix it */
} tandem_sync_result;

/* Pushes the outbox and pulls the school's changes. `options` and `result`
 * may be NULL. On failure `result` (when given) still says what was done.
 * TANDEM_E_DEVICE_WIPED: the school reported this device lost (revoke
 * --wipe). Nothing was pushed; the library has already closed the database
 * and destroyed it (key, then files): what was not synced is gone by design.
 * The handle stays valid but inert (every call fails with
 * TANDEM_E_DEVICE_WIPED) until tandem_store_close; the app should close it
 * and return to its enrollment screen. Should the erase itself fail (an I/O
 * error, reported in err's message), call tandem_destroy_database. */
TANDEM_API bool tandem_store_sync(tandem_store* TANDEM_NONNULL store, tandem_transport* TANDEM_NONNULL transport,
                                  const tandem_sync_options* TANDEM_NULLABLE options,
                                  tandem_sync_result* TANDEM_NULLABLE result, tandem_error* TANDEM_NULLABLE err);

#ifdef __cplusplus
}
#endif

#endif /* TANDEM_H */
