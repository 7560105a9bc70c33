/*
 * calls.c: functions for gdb to call in the middle of a replay (`print
 * twice(3)`, `call say()`, `set var counter = 50`): trr runs them in a
 * throw-away copy of the replay, which must go on afterwards as recorded.
 * touch() makes a syscall that could reach the outside world (trr must not
 * run it there); crash() faults.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static int counter;

int twice(int x)
{
    return 2 * x + counter;
}

int say(void)
{
    return (int)write(1, "said from a call\n", 17);
}

int touch(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT, 0600);
    if (fd >= 0)
        close(fd);
    return fd;
}

int crash(void)
{
    return *(volatile int *)16;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    for (int i = 0; i < 4; i++) {
        counter += i; /* L_loop */
        printf("counter %d\n", counter);
    }
    if (counter != 6)
        return 1;
    printf("EXIT-SUCCESS\n");
    return 0;
}
