/*
 * int80: a 64-bit program that makes a 32-bit system call with int $0x80
 * (i386 write is number 4, which is stat in the 64-bit table). trr must not
 * record it as the 64-bit call of the same number: recording stops with an
 * explanation.
 */
#include <stdio.h>

static const char msg[] = "written by int $0x80\n";

int main(void) {
    long ret;
    printf("before the 32-bit call\n");
    fflush(stdout);
    /* msg is in the executable's data, below 4 GiB only without PIE: pass
       its low 32 bits anyway; the kernel's answer does not matter here. */
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(4L), "b"(1L), "c"((long)(unsigned long)msg), "d"((long)sizeof msg - 1) : "memory");
    printf("32-bit write returned %ld\n", ret);
    return 0;
}
