// TensorFlow's library pages let go once they have served. Loading libtensorflow_cc maps 290 MiB of its file into
// the process: the dynamic loader reads its symbol and relocation tables, and its static initialisers (one per op
// and kernel registration) touch code and constant data all over its 320 MiB of text. Training afterwards uses a
// tenth of that. Those pages are clean copies of the file, so the process may unmap them (MADV_DONTNEED): they stay
// in the page cache, shared with other workers, and a later access maps them again from there (a minor fault, no
// disk read). While the backend loads, a thread does this every few milliseconds, so that the resident set never
// holds the whole of what the load touched at once; one last pass follows the load.
//
// Only mappings that cannot be written and hold no anonymous (copy-on-write) pages are released: there
// MADV_DONTNEED discards nothing the file does not hold. A relocated segment is writable while the loader relocates
// it and keeps its written pages as anonymous ones after it turns read-only, so it never qualifies. This addon
// links nothing of TensorFlow's: it loads before TensorFlow does (src/native/library-pages.ts).
#define _GNU_SOURCE
#include <node_api.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static char pattern[256];
static atomic_int watching;
static pthread_t watcher;

// One pass over /proc/self/smaps: every mapping of a file whose path contains `pattern`, read-only and without
// anonymous pages, unmapped. Returns the bytes of the mappings released, -1 where smaps cannot be read.
static double releasePass(void) {
  FILE* smaps = fopen("/proc/self/smaps", "re");
  if (!smaps) return -1;
  char line[4096];
  double released = 0;
  unsigned long lo = 0, hi = 0;
  int candidate = 0;
  while (fgets(line, sizeof line, smaps)) {
    unsigned long a, b;
    char perms[8];
    long anonymous;
    // A mapping's header line, "lo-hi perms offset dev inode path"; its fields' lines follow it.
    if (sscanf(line, "%lx-%lx %7s", &a, &b, perms) == 3) {
      lo = a;
      hi = b;
      candidate = perms[1] != 'w' && pattern[0] && strstr(line, pattern) != NULL;
    } else if (candidate && sscanf(line, "Anonymous: %ld", &anonymous) == 1) {
      if (anonymous == 0 && madvise((void*)lo, hi - lo, MADV_DONTNEED) == 0) released += (double)(hi - lo);
      candidate = 0;
    }
  }
  fclose(smaps);
  return released;
}

static void* watch(void* arg) {
  struct timespec period = {0, (long)(intptr_t)arg * 1000000L};
  while (atomic_load(&watching)) {
    releasePass();
    nanosleep(&period, NULL);
  }
  return NULL;
}

// watch(pattern, periodMs): releases the pages of the mappings whose path contains `pattern` every `periodMs`
// milliseconds, on a thread of its own, until release().
static napi_value Watch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t length = 0;
  int32_t period = 0;
  if (argc == 2 && !atomic_load(&watching) &&
      napi_get_value_string_utf8(env, argv[0], pattern, sizeof pattern, &length) == napi_ok &&
      length < sizeof pattern - 1 && napi_get_value_int32(env, argv[1], &period) == napi_ok && period > 0) {
    atomic_store(&watching, 1);
    if (pthread_create(&watcher, NULL, watch, (void*)(intptr_t)period) != 0) atomic_store(&watching, 0);
  }
  return NULL;
}

// release(pattern): stops the watching thread, then releases the matching mappings' pages once more; returns the
// bytes of the mappings released (-1: /proc/self/smaps cannot be read).
static napi_value Release(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (atomic_load(&watching)) {
    atomic_store(&watching, 0);
    pthread_join(watcher, NULL);
  }
  size_t length = 0;
  if (argc != 1 || napi_get_value_string_utf8(env, argv[0], pattern, sizeof pattern, &length) != napi_ok ||
      length >= sizeof pattern - 1)
    pattern[0] = 0;
  napi_value result;
  napi_create_double(env, pattern[0] ? releasePass() : 0, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value watchFn, releaseFn;
  napi_create_function(env, "watch", NAPI_AUTO_LENGTH, Watch, NULL, &watchFn);
  napi_create_function(env, "release", NAPI_AUTO_LENGTH, Release, NULL, &releaseFn);
  napi_set_named_property(env, exports, "watch", watchFn);
  napi_set_named_property(env, exports, "release", releaseFn);
  return exports;
}
