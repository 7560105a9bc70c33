/* static_hello.c - hello world that works both dynamically and statically
 * linked (the manifest builds it twice: "static_hello" and
 * "static_hello_static" with -static).
 *
 * Exercises: write, getpid, openat/write/lseek/read/close/unlink on a file
 * in the current directory, exit_group.  Statically linked, glibc still
 * uses arch_prctl/set_tid_address/brk/etc. at startup, but without ld.so.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    printf("hello, world\n");
    pid_t pid = getpid();
    printf("pid>0: %s\n", pid > 0 ? "yes" : "no");

    char name[64];
    snprintf(name, sizeof name, "static_hello.%d.tmp", (int)pid);
    const char *text = "static hello file contents\n";
    int fd = open(name, O_CREAT | O_RDWR | O_TRUNC, 0600);
    if (fd < 0) {
        printf("FAIL: open\n");
        return 1;
    }
    char buf[64] = {0};
    int ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text) && lseek(fd, 0, SEEK_SET) == 0 &&
             read(fd, buf, sizeof buf - 1) == (ssize_t)strlen(text) && strcmp(buf, text) == 0;
    close(fd);
    int removed = unlink(name) == 0;
    if (!ok || !removed) {
        printf("FAIL: file round trip (ok=%d removed=%d)\n", ok, removed);
        return 1;
    }
    printf("file round trip: ok\n");
    printf("EXIT-SUCCESS\n");
    return 0;
}
