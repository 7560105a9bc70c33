/*
 * trr_preload.h: what the two parts of the preload library share
 * (trr_preload.c, the buffer; trr_patch.c, libc's patched syscall sites).
 * See docs/ARCHITECTURE.md, "The syscall buffer".
 */
#ifndef TRR_PRELOAD_H
#define TRR_PRELOAD_H

#define TRR_HIDDEN __attribute__((visibility("hidden")))

/* A syscall through the library's own (traced) syscall instruction. */
TRR_HIDDEN long trr_traced_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5);

/*
 * Buffers (records or replays) one call libc's patched syscall instruction
 * would have made: frame[0] is the syscall number, frame[1..6] its six
 * arguments. Returns 1 with the kernel's result (or -errno) in frame[0];
 * 0 when the call must be made as a traced syscall.
 */
TRR_HIDDEN int trr_patch_dispatch(long *frame);

/* 1 when buffering is on in this process (recording or replaying with trr's buffer). */
TRR_HIDDEN int trr_buffering(void);

/* Patches libc's syscall sites for the numbers the buffer handles (once per exec, at start-up). */
TRR_HIDDEN void trr_patch_libc(void);

/* Is nr one trr_patch_dispatch handles? */
TRR_HIDDEN int trr_patchable_nr(long nr);

#endif
