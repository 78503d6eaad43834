/* A small blocking HTTP/1.1 client over POSIX sockets, standing in for an
 * app's own HTTP stack (URLSession, OkHttp) behind tandem_transport_new.
 * Loopback test servers only: "http://127.0.0.1:PORT". Plain C99 + POSIX. */
#ifndef TANDEM_TEST_HTTP_CLIENT_H
#define TANDEM_TEST_HTTP_CLIENT_H

#include "tandem.h"

typedef struct test_http {
  char host[64];
  int port;
  int requests; /* exchanges made */
} test_http;

/* Parses "http://HOST:PORT"; false when it is not that form. */
bool test_http_init(test_http* http, const char* base_url);

/* tandem_send_fn: ctx is a test_http*. */
bool test_http_send(void* ctx, const char* method, const char* path, const char* body, size_t body_len,
                    const char* bearer, int64_t timeout_ms, tandem_http_response* response,
                    tandem_error_code* failure);

#endif
