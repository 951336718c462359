// Standard error redirected to a file and back, for the time native TensorFlow loads: with oneDNN on, TensorFlow
// prints a notice on stderr from its libraries' static initialisers (through absl's logging, before anything can set
// a log level), so only the file descriptor itself can catch it. This addon links nothing of TensorFlow's: it loads
// before TensorFlow does (src/native/load.ts filters the notice out and passes every other line on).
#include <fcntl.h>
#include <node_api.h>
#include <stdio.h>
#include <unistd.h>

// quiet(path): fd 2 writes to `path` (created or truncated) until restore(); returns the saved descriptor, -1 when
// nothing was redirected.
static napi_value Quiet(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[4096];
  size_t length = 0;
  int saved = -1;
  if (argc == 1 && napi_get_value_string_utf8(env, argv[0], path, sizeof path, &length) == napi_ok &&
      length < sizeof path - 1) {
    fflush(stderr);
    int file = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (file >= 0) {
      saved = dup(2);
      if (saved >= 0 && dup2(file, 2) < 0) {
        close(saved);
        saved = -1;
      }
      close(file);
    }
  }
  napi_value result;
  napi_create_int32(env, saved, &result);
  return result;
}

// restore(saved): fd 2 is the saved descriptor again.
static napi_value Restore(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t saved = -1;
  if (argc == 1) napi_get_value_int32(env, argv[0], &saved);
  if (saved >= 0) {
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value quiet, restore;
  napi_create_function(env, "quiet", NAPI_AUTO_LENGTH, Quiet, NULL, &quiet);
  napi_create_function(env, "restore", NAPI_AUTO_LENGTH, Restore, NULL, &restore);
  napi_set_named_property(env, exports, "quiet", quiet);
  napi_set_named_property(env, exports, "restore", restore);
  return exports;
}
