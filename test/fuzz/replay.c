/*
** replay.c -- run a fuzz target's LLVMFuzzerTestOneInput over files,
** without libFuzzer (for `make test`). Arguments are files or directories
** (every regular file in them). With -prefix P, files in directories are
** taken only when their name starts with P (test/fuzz/crashes/ holds
** "define-..." and "lookup-..." reproducers side by side).
** Each input runs twice; after the second run every allocation SQLite
** and relext made for it must be freed (sqlite3_memory_used() back to
** where it was): a leak fails the replay.
*/
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int nRun = 0, nFail = 0;

static void runFile(const char *zPath) {
  FILE *f = fopen(zPath, "rb");
  unsigned char *buf;
  long n;
  sqlite3_int64 before;
  if (!f) return;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)n + 1);
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
    fclose(f);
    free(buf);
    return;
  }
  fclose(f);
  /* The first run may fill caches that last (a target may keep its
  ** database); the second must free all it allocates. */
  LLVMFuzzerTestOneInput(buf, (size_t)n);
  before = sqlite3_memory_used();
  LLVMFuzzerTestOneInput(buf, (size_t)n);
  if (sqlite3_memory_used() != before) {
    fprintf(stderr, "replay: %s: %lld bytes leaked\n", zPath,
            (long long)(sqlite3_memory_used() - before));
    nFail++;
  }
  nRun++;
  free(buf);
}

int main(int argc, char **argv) {
  const char *zPrefix = "";
  int i;
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 1);
  {
    /* First call registers the extension (not counted as a leak). */
    static const uint8_t z[] = {2, 'x'};
    LLVMFuzzerTestOneInput(z, sizeof z);
  }
  for (i = 1; i < argc; i++) {
    struct stat st;
    if (strcmp(argv[i], "-prefix") == 0 && i + 1 < argc) {
      zPrefix = argv[++i];
      continue;
    }
    if (stat(argv[i], &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      DIR *d = opendir(argv[i]);
      struct dirent *e;
      while (d && (e = readdir(d)) != 0) {
        char zPath[4096];
        struct stat st2;
        if (e->d_name[0] == '.') continue;
        if (strncmp(e->d_name, zPrefix, strlen(zPrefix)) != 0) continue;
        snprintf(zPath, sizeof zPath, "%s/%s", argv[i], e->d_name);
        if (stat(zPath, &st2) == 0 && S_ISREG(st2.st_mode)) runFile(zPath);
      }
      if (d) closedir(d);
    } else {
      runFile(argv[i]);
    }
  }
  printf("replay: %d inputs, %d failures\n", nRun, nFail);
  return nFail ? 1 : 0;
}
