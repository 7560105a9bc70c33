/*
 * cancel_in_write: a thread cancelled while blocked in write() to a full
 * pipe. Under trr's syscall buffer the write goes through libc's patched
 * syscall instruction and is made as a traced syscall from the library's
 * entry (src/preload/trr_patch.c), so the cancellation unwinds through
 * that entry's frame back into libc's write and on to the cleanup handler.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include "check.h"

static int p[2];
static volatile int cleaned;
static void cleanup(void *a) { (void)a; cleaned = 1; }

static void *writer(void *a) {
  (void)a;
  char buf[4096];
  memset(buf, 'x', sizeof buf);
  pthread_cleanup_push(cleanup, NULL);
  for (;;)
    write(p[1], buf, sizeof buf); /* blocks once the pipe is full */
  pthread_cleanup_pop(0);
  return NULL;
}

int main(void) {
  MUST(pipe(p) == 0, "pipe");
  pthread_t t;
  MUST(pthread_create(&t, NULL, writer, NULL) == 0, "pthread_create");
  usleep(100000); /* the output is the same whether the writer blocked yet or not */
  MUST(pthread_cancel(t) == 0, "pthread_cancel");
  void *r;
  MUST(pthread_join(t, &r) == 0, "pthread_join");
  CHECK(r == PTHREAD_CANCELED, "the writer was cancelled");
  CHECK(cleaned == 1, "its cleanup handler ran");
  if (failures)
    return 1;
  printf("EXIT-SUCCESS\n");
  return 0;
}
