/*
 * daemon_child: leaves a daemon behind. A child forks a grandchild that
 * starts its own session, detaches from stdout/stderr, tells the parent it
 * is up and sleeps; the parent exits. A recording ends when the program it
 * started exits (the daemon is killed), as rr's does.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

int main(void) {
    int up[2];
    MUST(pipe(up) == 0, "pipe");
    fflush(stdout);
    pid_t child = fork();
    MUST(child >= 0, "fork");
    if (child == 0) {
        if (fork() != 0) _exit(0);
        setsid();
        int null = open("/dev/null", O_RDWR);
        dup2(null, 1);
        dup2(null, 2);
        if (write(up[1], "x", 1) != 1) _exit(1);
        sleep(10);
        _exit(0);
    }
    int status;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status), "the child exits after forking the daemon");
    char c;
    CHECK(read(up[0], &c, 1) == 1 && c == 'x', "the daemon is up");
    printf("EXIT-SUCCESS\n");
    return 0;
}
