/* segv_death.c - dies from SIGSEGV (expected: killed by signal 11).
 *
 * Prints a line, flushes, disables core dumps (so no core file is left in
 * the working directory), then writes through a NULL pointer.  The pointer
 * is laundered through a volatile so the compiler cannot turn the store
 * into a trap instruction.
 *
 * Exercises: write, prlimit64(RLIMIT_CORE), a fatal page fault.
 */
#include <stdio.h>
#include <sys/resource.h>

static int *volatile target = NULL;

int main(void)
{
    struct rlimit nocore = {0, 0};
    printf("about to write through a NULL pointer\n");
    fflush(stdout);
    setrlimit(RLIMIT_CORE, &nocore);
    *target = 42;
    printf("FAIL: survived a NULL pointer write\n");
    return 1;
}
