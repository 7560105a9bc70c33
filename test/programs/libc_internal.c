/*
 * libc_internal: system calls libc makes on its own, not through its
 * exported read/write/openat/... functions: stdio's writes, reads, lseeks
 * and fstats, fopen's openat, fclose's close, opendir/readdir's openat,
 * getdents64 and close. With trr's syscall buffer these reach the buffer
 * through libc's patched syscall instructions (src/preload/trr_patch.c).
 *
 * Usage: libc_internal [ROUNDS]  (default 50)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"

volatile long seen[64]; /* global and volatile: the calls of note stay */
/* A place for debugger breakpoints between libc's calls. */
__attribute__((noinline)) void note(int i, long v) { seen[i & 63] = v; }

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 50;
  char dir[] = "libc_internal.XXXXXX";
  MUST(mkdtemp(dir) != NULL, "mkdtemp(dir) != NULL");
  char path[64];
  snprintf(path, sizeof path, "%s/squares", dir);

  /* Unbuffered: every fprintf is one write, every ftell one lseek. */
  FILE *f = fopen(path, "w+");
  MUST(f != NULL, "f != NULL");
  setvbuf(f, NULL, _IONBF, 0);
  long pos = 0;
  for (int i = 0; i < rounds; i++) {
    MUST(fprintf(f, "%d\n", i * i) > 0, "fprintf");
    pos = ftell(f);
    note(i, pos);
  }
  MUST(fclose(f) == 0, "fclose(f) == 0");

  /* Read back in small pieces: a 16-byte stdio buffer, many reads. */
  f = fopen(path, "r");
  MUST(f != NULL, "f != NULL");
  char small[16];
  setvbuf(f, small, _IOFBF, sizeof small);
  long sum = 0, lines = 0;
  int v;
  while (fscanf(f, "%d", &v) == 1) {
    sum += v;
    lines++;
  }
  MUST(fclose(f) == 0, "fclose(f) == 0");
  long want = 0;
  for (int i = 0; i < rounds; i++)
    want += (long)i * i;
  CHECK(lines == rounds, "every line read back");
  CHECK(sum == want, "the squares add up");

  /* A directory of files, listed with opendir/readdir. */
  for (int i = 0; i < 20; i++) {
    char p[96];
    snprintf(p, sizeof p, "%s/f%02d", dir, i);
    FILE *g = fopen(p, "w");
    MUST(g != NULL, "g != NULL");
    fputs("x\n", g);
    MUST(fclose(g) == 0, "fclose(g) == 0");
  }
  int entries = 0;
  for (int pass = 0; pass < 5; pass++) {
    DIR *d = opendir(dir);
    MUST(d != NULL, "d != NULL");
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL)
      n += e->d_name[0] != '.';
    MUST(closedir(d) == 0, "closedir(d) == 0");
    entries = n;
  }
  CHECK(entries == 21, "readdir lists the 20 files and the squares");

  for (int i = 0; i < 20; i++) {
    char p[96];
    snprintf(p, sizeof p, "%s/f%02d", dir, i);
    MUST(unlink(p) == 0, "unlink(p) == 0");
  }
  MUST(unlink(path) == 0, "unlink(path) == 0");
  MUST(rmdir(dir) == 0, "rmdir(dir) == 0");
  printf("rounds %d, file size %ld, sum %ld, entries %d\n", rounds, pos, sum, entries);
  if (failures)
    return 1;
  printf("EXIT-SUCCESS\n");
  return 0;
}
