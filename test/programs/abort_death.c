/* abort_death.c - dies from SIGABRT via abort() (expected: signal 6).
 *
 * Prints a line, flushes, disables core dumps (so no core file is left in
 * the working directory) and calls abort().
 *
 * Exercises: write, prlimit64(RLIMIT_CORE), rt_sigprocmask, tgkill(SIGABRT)
 * (glibc's abort()), fatal signal delivery.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

int main(void)
{
    struct rlimit nocore = {0, 0};
    printf("about to call abort()\n");
    fflush(stdout);
    setrlimit(RLIMIT_CORE, &nocore);
    abort();
}
