#define _POSIX_C_SOURCE 200809L
#include "http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { kMaxAnswer = 64 * 1024 * 1024 };

bool test_http_init(test_http* http, const char* base_url) {
  memset(http, 0, sizeof *http);
  if (sscanf(base_url, "http://%63[^:]:%d", http->host, &http->port) != 2) return false;
  return http->port > 0 && http->port < 65536;
}

static bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= (size_t)w;
  }
  return true;
}

bool test_http_send(void* ctx, const char* method, const char* path, const char* body, size_t body_len,
                    const char* bearer, int64_t timeout_ms, tandem_http_response* response,
                    tandem_error_code* failure) {
  test_http* http = (test_http*)ctx;
  *failure = TANDEM_E_NETWORK;
  http->requests++;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)http->port);
  if (inet_pton(AF_INET, http->host, &addr.sin_addr) != 1 || connect(fd, (struct sockaddr*)&addr, sizeof addr) != 0) {
    close(fd);
    return false;
  }
  char head[1024];
  char auth[600] = "";
  if (bearer[0] != '\0') snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n", bearer);
  int n = snprintf(head, sizeof head,
                   "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\nContent-Type: application/json\r\n"
                   "%sContent-Length: %zu\r\n\r\n",
                   method, path, http->host, http->port, auth, body_len);
  if (n <= 0 || (size_t)n >= sizeof head || !write_all(fd, head, (size_t)n) || !write_all(fd, body, body_len)) {
    close(fd);
    return false;
  }
  size_t cap = 64 * 1024, len = 0;
  char* buf = malloc(cap);
  if (buf == NULL) {
    close(fd);
    return false;
  }
  int wait = timeout_ms > 0 && timeout_ms < 60000 ? (int)timeout_ms : 60000;
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    int ready = poll(&p, 1, wait);
    if (ready == 0) {
      *failure = TANDEM_E_TIMEOUT;
      free(buf);
      close(fd);
      return false;
    }
    if (ready < 0 && errno == EINTR) continue;
    if (len == cap) {
      if (cap >= kMaxAnswer) break;
      char* bigger = realloc(buf, cap * 2);
      if (bigger == NULL) break;
      buf = bigger;
      cap *= 2;
    }
    ssize_t r = recv(fd, buf + len, cap - len, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    len += (size_t)r;
  }
  close(fd);
  /* Status line, then the body after the blank line (Connection: close: the
   * body runs to the end; the server sends Content-Length, never chunked). */
  int status = 0;
  const char* end = NULL;
  for (size_t i = 0; i + 3 < len; ++i) {
    if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
      end = buf + i + 4;
      break;
    }
  }
  if (end == NULL || sscanf(buf, "HTTP/1.%*d %d", &status) != 1) {
    free(buf);
    return false;
  }
  tandem_http_response_set(response, status, end, len - (size_t)(end - buf));
  free(buf);
  return true;
}
