/* group_kill.c - signals sent to the program's whole process group, for the
 * trr e2e suite.
 *
 * kill(0, sig) reaches every process of the caller's group; under trr that
 * includes trr itself, which must survive each of them (and keep
 * recording) while the program gets its own. The harness runs this program
 * (and trr) as the leader of a new session, so the test runner is not in
 * the group.  Ends with EXIT-SUCCESS / exit 0.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static volatile sig_atomic_t got[65];

static void on_signal(int sig) { got[sig]++; }

int main(void) {
    static const int sigs[] = {SIGUSR1, SIGUSR2, SIGINT,  SIGQUIT, SIGHUP, SIGTERM,
                               SIGTRAP, SIGALRM, SIGPIPE, SIGWINCH, SIGABRT, SIGTTOU};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) MUST(signal(sigs[i], on_signal) != SIG_ERR, "signal");

    pid_t child = fork();
    MUST(child >= 0, "fork");
    if (child == 0) {
        /* A process of the same group: it receives the group's signals too. */
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) MUST(signal(sigs[i], on_signal) != SIG_ERR, "signal");
        for (;;) pause();
    }
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        MUST(kill(0, sigs[i]) == 0, "kill(0, sig)");
        printf("%s reached the program: %d\n", sigabbrev_np(sigs[i]), got[sigs[i]]);
    }
    MUST(killpg(getpgrp(), SIGUSR1) == 0, "killpg");
    CHECK(got[SIGUSR1] == 2, "killpg reaches the program");
    MUST(kill(child, SIGKILL) == 0, "kill child");
    int status;
    MUST(waitpid(child, &status, 0) == child, "waitpid");
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the child was still there");
    if (failures) return 1;
    puts("EXIT-SUCCESS");
    return 0;
}
