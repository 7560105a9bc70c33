/* signal_frames.c - signals whose frame the kernel cannot build, and the
 * register state a handler starts with and gets back.
 *
 * 1. A child with a SIGSEGV handler (no alternate stack) overflows its
 *    stack: the kernel has no room for the frame and kills it with SIGSEGV.
 * 2. With the stack pointer on an unmapped page, ud2 raises SIGILL, whose
 *    handler (on the normal stack) cannot get a frame either: the kernel
 *    raises SIGSEGV instead, whose handler runs on the alternate stack and
 *    skips the ud2.
 * 3. A handler starts with the x87/SSE state reset (xmm0 reads zero) and
 *    rt_sigreturn gives back the value xmm0 had before the signal, whatever
 *    the handler left in it.
 *
 * Exercises: fork, setrlimit(RLIMIT_STACK), sigaltstack, SA_ONSTACK, fatal
 * and forced SIGSEGV, tgkill to self, rt_sigreturn restoring SSE state.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

static volatile int depth;

static int __attribute__((noinline)) dive(int n)
{
    volatile char pad[512];
    pad[0] = (char)n;
    if (n > 100000000) return 0;
    depth = n;
    return dive(n + 1) + pad[0];
}

static void segv_no_altstack(int sig)
{
    (void)sig;
    static const char msg[] = "FAIL: a SIGSEGV handler ran without stack space\n";
    if (write(1, msg, sizeof msg - 1) < 0) _exit(3);
    _exit(2);
}

static volatile int ill_runs, segv_runs, segv_code;

static void on_ill(int sig)
{
    (void)sig;
    ill_runs++;
}

static void on_segv(int sig, siginfo_t *si, void *uc_)
{
    ucontext_t *uc = uc_;
    (void)sig;
    segv_runs++;
    segv_code = si->si_code;
    uc->uc_mcontext.gregs[REG_RIP] += 2; /* over the ud2 */
}

static volatile uint32_t in_handler[4], after_return[4];
static const uint32_t pattern[4] __attribute__((aligned(16))) = {0x11223344, 0x55667788, 0x99aabbcc, 0xddeeff00};
static const uint32_t junk[4] __attribute__((aligned(16))) = {0xdead, 0xbeef, 0xf00d, 0xcafe};

static void on_usr1(int sig)
{
    uint32_t v[4] __attribute__((aligned(16)));
    (void)sig;
    __asm__ volatile("movaps %%xmm0, %0" : "=m"(v));
    memcpy((void *)in_handler, v, sizeof v);
    __asm__ volatile("movaps %0, %%xmm0" : : "m"(junk) : "xmm0");
}

int main(void)
{
    /* 1: stack overflow with a handler that has no stack to run on */
    fflush(stdout);
    pid_t child = fork();
    MUST(child >= 0, "fork");
    if (child == 0) {
        struct rlimit lim = {256 * 1024, 256 * 1024};
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = segv_no_altstack;
        if (sigaction(SIGSEGV, &sa, NULL) != 0 || setrlimit(RLIMIT_STACK, &lim) != 0) _exit(4);
        return dive(0);
    }
    int status = 0;
    MUST(waitpid(child, &status, 0) == child, "waitpid");
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "stack overflow with a handler kills with SIGSEGV");

    /* 2: SIGILL with a bad stack pointer becomes SIGSEGV on the alternate stack */
    static char altstack[64 * 1024];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    MUST(sigaltstack(&ss, NULL) == 0, "sigaltstack");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_ill;
    MUST(sigaction(SIGILL, &sa, NULL) == 0, "sigaction SIGILL");
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    MUST(sigaction(SIGSEGV, &sa, NULL) == 0, "sigaction SIGSEGV");
    char *hole = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    MUST(hole != MAP_FAILED && munmap(hole, 4096) == 0, "an unmapped page");
    void *bad_sp = hole + 2048;
    __asm__ volatile("mov %%rsp, %%rbx\n\t"
                     "mov %0, %%rsp\n\t"
                     "ud2\n\t"
                     "mov %%rbx, %%rsp\n\t"
                     :
                     : "r"(bad_sp)
                     : "rbx", "memory");
    CHECK(ill_runs == 0, "the SIGILL handler had no frame and did not run");
    CHECK(segv_runs == 1, "the kernel raised SIGSEGV instead, handled on the alternate stack");
    CHECK(segv_code == SI_KERNEL, "that SIGSEGV comes from the kernel (SI_KERNEL)");

    /* 3: SSE state in and after a handler */
    signal(SIGUSR1, on_usr1);
    uint32_t back[4] __attribute__((aligned(16)));
    pid_t tid = (pid_t)syscall(SYS_gettid);
    __asm__ volatile("movaps %1, %%xmm0\n\t"
                     "mov %2, %%edi\n\t"
                     "mov %2, %%esi\n\t"
                     "mov %3, %%edx\n\t"
                     "mov %4, %%eax\n\t"
                     "syscall\n\t"
                     "movaps %%xmm0, %0\n\t"
                     : "=m"(back)
                     : "m"(pattern), "r"(tid), "i"(SIGUSR1), "i"(SYS_tgkill)
                     : "rax", "rdi", "rsi", "rdx", "rcx", "r11", "xmm0", "memory");
    memcpy((void *)after_return, back, sizeof back);
    CHECK(in_handler[0] == 0 && in_handler[1] == 0 && in_handler[2] == 0 && in_handler[3] == 0, "a handler starts with xmm0 cleared");
    CHECK(memcmp((const void *)after_return, pattern, sizeof pattern) == 0, "rt_sigreturn gives xmm0 back");
    printf("xmm0 in the handler: %x %x %x %x\n", in_handler[0], in_handler[1], in_handler[2], in_handler[3]);

    if (failures == 0) printf("EXIT-SUCCESS\n");
    return failures ? 1 : 0;
}
