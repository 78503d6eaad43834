/* A plain C program built with `cc main.c $(pkg-config --cflags --libs tandem)`
 * against a fresh install (the ctest consumer/pkgconfig; ../run.cmake).
 * With the C API installed (tandem.h, libtandem.so) the driver defines
 * TANDEM_CONSUMER_HAVE_CAPI.
 * TODO(capi): the lead adds the tandem.h program here (open a store, record,
 * read back) in the TANDEM_CONSUMER_HAVE_CAPI branch. Until then the program
 * shows that the flags pkg-config gives compile and link a C program. */
#include <stdio.h>

#ifdef TANDEM_CONSUMER_HAVE_CAPI
#include <tandem.h>
#endif

int main(void) {
#ifdef TANDEM_CONSUMER_HAVE_CAPI
  /* TODO(capi): call into tandem.h here and fail on a wrong answer. */
  printf("consumer/pkgconfig: ok (tandem.h)\n");
#else
  printf("consumer/pkgconfig: ok (no C API installed yet)\n");
#endif
  return 0;
}
