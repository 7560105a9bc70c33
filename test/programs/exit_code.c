/* exit_code.c - exits with status 42 (expected: exit 42).
 *
 * Echoes argv[1..], the environment variable TRR_TEST_VAR (if set) and the
 * number of bytes read from stdin (unless stdin is a terminal), so the
 * harness can check that arguments, environment and stdin pass through
 * recording and replay unchanged.
 *
 * Exercises: read (stdin until EOF), write, exit_group(42).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    printf("argc: %d\n", argc);
    for (int i = 1; i < argc; i++)
        printf("argv[%d]: [%s]\n", i, argv[i]);
    const char *v = getenv("TRR_TEST_VAR");
    if (v)
        printf("TRR_TEST_VAR: [%s]\n", v);
    else
        printf("TRR_TEST_VAR: (unset)\n");

    if (isatty(0)) {
        printf("stdin: terminal, not read\n");
    } else {
        unsigned long total = 0, sum = 0;
        char buf[4096];
        ssize_t n;
        while ((n = read(0, buf, sizeof buf)) > 0) {
            for (ssize_t i = 0; i < n; i++)
                sum = sum * 131 + (unsigned char)buf[i];
            total += (unsigned long)n;
        }
        if (n < 0)
            printf("stdin: read error\n");
        else
            printf("stdin bytes: %lu, checksum: %016lx\n", total, sum);
    }
    printf("exiting with status 42\n");
    return 42;
}
