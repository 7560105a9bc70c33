/*
 * trr_patch.c: libc's own syscall instructions, patched into the syscall
 * buffer (see docs/ARCHITECTURE.md, "The syscall buffer", "Patched syscall
 * sites").
 *
 * The exported functions trr_preload.c defines catch the program's calls
 * to read, write, openat... but not libc's calls to its internal names
 * (printf's writes, fopen's openat, stdio's fstat, readdir's getdents64).
 * At start-up, when trr buffers, this file finds libc's syscall sites for
 * the numbers the buffer handles and replaces each with a jump to a stub
 * of its own, which calls trr_patch_dispatch with the six argument
 * registers. A call the buffer does not take is made there as a traced
 * syscall with the registers the original instruction had.
 *
 * A site is one of three byte patterns:
 *   b8 NR 00 00 00 0f 05           mov $NR,%eax; syscall        (7 bytes)
 *   31 c0 0f 05 48 3d 00 f0 ff ff  xor %eax,%eax; syscall; cmp $-4096,%rax
 *                                  (read, 10 bytes: the cmp is redone in the stub)
 *   0f 05 48 3d 00 f0 ff ff        syscall; cmp $-4096,%rax, with a
 *                                  `mov $NR,%eax` in the 16 bytes before
 *                                  (__open64_nocancel: other argument moves
 *                                  in between). Its stub checks that eax is
 *                                  NR; any other number (a jump between the
 *                                  mov and the syscall) runs the original
 *                                  two instructions in the stub.
 * becoming `jmp stub` and int3 padding. It is patched only when no jump
 * or call in libc's text, decoded at every byte offset (a linear scan that
 * over-approximates the real branches), lands strictly inside it. What is
 * patched depends on libc's bytes alone (which replay checks), and the
 * mmap and mprotect calls that do it are ordinary traced syscalls, so
 * record and replay patch alike.
 */
#define _GNU_SOURCE
#include <link.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include "trr_preload.h"

#define MAX_SITES 160
#define STUB_SIZE 64
#define STUB_FIRST 16 /* the stub pages start with the entry's address (8 bytes) */

/*
 * The common entry every site's stub calls, with eax = the syscall number.
 * The stub has stepped over the caller's 128-byte red zone and pushed the
 * address the site returns to in libc, then called this (its own return
 * address): CFA (the caller's stack pointer) = rsp + 144, libc's return
 * address at CFA - 136. The unwinder thus goes from here straight back to
 * libc's function (a cancellation unwinds through it).
 *
 * It saves the argument registers, calls trr_patch_dispatch, zeroes the
 * 2 KiB of stack the C code used (record and replay leave different dead
 * bytes there, and replay compares live stacks), and restores every
 * register the kernel keeps across a syscall. rcx and r11, which the
 * kernel's syscall clobbers, are zero on return, and the flags are those of
 * the final xor, so record and replay see the same registers. When the
 * buffer does not take the call, it is made here as a traced syscall with
 * the site's registers.
 */
extern char trr_patch_entry[];
__asm__(".text\n"
        ".globl trr_patch_entry\n"
        ".hidden trr_patch_entry\n"
        ".type trr_patch_entry, @function\n"
        "trr_patch_entry:\n"
        "  .cfi_startproc\n"
        "  .cfi_def_cfa_offset 144\n"
        "  .cfi_offset %rip, -136\n"
        "  push %rbp\n"
        "  .cfi_def_cfa_offset 152\n"
        "  .cfi_offset %rbp, -152\n"
        "  mov %rsp, %rbp\n"
        "  .cfi_def_cfa_register %rbp\n"
        "  push %r9\n  push %r8\n  push %r10\n  push %rdx\n  push %rsi\n  push %rdi\n  push %rax\n"
        "  push %rbx\n"
        "  .cfi_offset %rbx, -216\n"
        "  and $-16, %rsp\n"
        "  lea -56(%rbp), %rdi\n"
        "  call trr_patch_dispatch\n"
        "  mov %eax, %ebx\n"
        "  lea -2048(%rsp), %rdi\n"
        "  mov $256, %ecx\n"
        "  xor %eax, %eax\n"
        "  rep stosq\n"
        "  mov -48(%rbp), %rdi\n  mov -40(%rbp), %rsi\n  mov -32(%rbp), %rdx\n"
        "  mov -24(%rbp), %r10\n  mov -16(%rbp), %r8\n  mov -8(%rbp), %r9\n"
        "  mov -56(%rbp), %rax\n"
        "  xor %r11d, %r11d\n"
        "  test %ebx, %ebx\n"
        "  mov -64(%rbp), %rbx\n"
        "  jnz 1f\n"
        "  syscall\n"
        "1:\n"
        "  mov %rbp, %rsp\n"
        "  pop %rbp\n"
        "  .cfi_def_cfa %rsp, 144\n"
        "  .cfi_restore %rbp\n"
        "  xor %ecx, %ecx\n"
        "  xor %r11d, %r11d\n"
        "  ret\n"
        "  .cfi_endproc\n"
        ".size trr_patch_entry, .-trr_patch_entry\n");

struct site {
  uintptr_t addr; /* first byte */
  int len;        /* 7, 8 or 10 */
  int nr;
  int cmp;        /* the stub redoes `cmp $-4096,%rax` */
  int guard;      /* eax is only expected to be nr: the stub checks */
  int ok;
  int stub; /* its stub's offset in the stub pages */
};

static struct {
  uintptr_t lo, hi; /* libc's executable segment */
} libc_text;

static int find_libc(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  (void)data;
  const char *name = info->dlpi_name;
  if (!name)
    return 0;
  size_t n = strlen(name);
  if (n < 10 || strcmp(name + n - 10, "/libc.so.6") != 0)
    return 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *p = &info->dlpi_phdr[i];
    if (p->p_type == PT_LOAD && (p->p_flags & PF_X)) {
      libc_text.lo = info->dlpi_addr + p->p_vaddr;
      libc_text.hi = libc_text.lo + p->p_memsz;
      return 1;
    }
  }
  return 0;
}

static const unsigned char cmp_rax[6] = {0x48, 0x3d, 0x00, 0xf0, 0xff, 0xff};

/* The candidate sites, in address order. */
static int find_sites(const unsigned char *t, size_t len, struct site *s) {
  int n = 0;
  for (size_t i = 0; i + 10 <= len && n < MAX_SITES; i++) {
    if (t[i] == 0xb8 && t[i + 3] == 0 && t[i + 4] == 0 && t[i + 5] == 0x0f && t[i + 6] == 0x05) {
      int nr = t[i + 1] | t[i + 2] << 8;
      if (!trr_patchable_nr(nr))
        continue;
      s[n++] = (struct site){.addr = (uintptr_t)(t + i), .len = 7, .nr = nr, .ok = 1};
      i += 6;
    } else if (t[i] == 0x31 && t[i + 1] == 0xc0 && t[i + 2] == 0x0f && t[i + 3] == 0x05 && memcmp(t + i + 4, cmp_rax, 6) == 0) {
      s[n++] = (struct site){.addr = (uintptr_t)(t + i), .len = 10, .nr = SYS_read, .cmp = 1, .ok = 1};
      i += 9;
    } else if (i >= 16 && t[i] == 0x0f && t[i + 1] == 0x05 && memcmp(t + i + 2, cmp_rax, 6) == 0) {
      int nr = -1;
      for (size_t k = i - 16; k + 5 <= i; k++)
        if (t[k] == 0xb8 && t[k + 3] == 0 && t[k + 4] == 0)
          nr = t[k + 1] | t[k + 2] << 8;
      if (nr < 0 || !trr_patchable_nr(nr))
        continue;
      s[n++] = (struct site){.addr = (uintptr_t)(t + i), .len = 8, .nr = nr, .cmp = 1, .guard = 1, .ok = 1};
      i += 7;
    }
  }
  return n;
}

/* Rules out the site (if any) that target lands strictly inside. */
static void check_target(struct site *s, int n, uintptr_t target) {
  int lo = 0, hi = n;
  while (lo < hi) { /* the last site starting before target */
    int mid = (lo + hi) / 2;
    if (s[mid].addr < target)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo > 0 && target < s[lo - 1].addr + (uintptr_t)s[lo - 1].len)
    s[lo - 1].ok = 0;
}

/*
 * Every rel8 and rel32 jump or call libc's text could hold, decoded at
 * every byte (an over-approximation of its real branches): jcc rel8,
 * jmp rel8, loop/jrcxz, call/jmp rel32, jcc rel32.
 */
static void check_branches(const unsigned char *t, size_t len, struct site *s, int n) {
  if (!n)
    return;
  uintptr_t first = s[0].addr, last = s[n - 1].addr + (uintptr_t)s[n - 1].len;
  uintptr_t base = (uintptr_t)t;
  for (size_t i = 0; i + 1 < len; i++) {
    unsigned char b = t[i];
    uintptr_t target;
    if ((b >= 0x70 && b <= 0x7f) || b == 0xeb || (b >= 0xe0 && b <= 0xe3)) {
      target = base + i + 2 + (intptr_t)(int8_t)t[i + 1];
      if (target > first && target < last)
        check_target(s, n, target);
    }
    if ((b == 0xe8 || b == 0xe9) && i + 5 <= len) {
      int32_t rel;
      memcpy(&rel, t + i + 1, 4);
      target = base + i + 5 + (intptr_t)rel;
      if (target > first && target < last)
        check_target(s, n, target);
    }
    if (b == 0x0f && t[i + 1] >= 0x80 && t[i + 1] <= 0x8f && i + 6 <= len) {
      int32_t rel;
      memcpy(&rel, t + i + 2, 4);
      target = base + i + 6 + (intptr_t)rel;
      if (target > first && target < last)
        check_target(s, n, target);
    }
  }
}

static int fits_rel32(uintptr_t from_end, uintptr_t to) {
  intptr_t d = (intptr_t)(to - from_end);
  return d >= INT32_MIN && d <= INT32_MAX;
}

static void put32(unsigned char *p, int32_t v) { memcpy(p, &v, 4); }

/* Writes site's stub at p (its address in the process). */
static void write_stub(unsigned char *p, uintptr_t page, const struct site *st) {
  uintptr_t at = (uintptr_t)p;
  uintptr_t ret = st->addr + (uintptr_t)st->len;
  unsigned char *q = p, *jne = NULL;
  if (st->guard) {
    q[0] = 0x3d; /* cmp $nr,%eax */
    put32(q + 1, st->nr);
    q[5] = 0x0f, q[6] = 0x85; /* jne slow (below) */
    jne = q + 7;
    q += 11;
    at = (uintptr_t)q;
  }
  static const unsigned char skip_red_zone[5] = {0x48, 0x8d, 0x64, 0x24, 0x80}; /* lea -128(%rsp),%rsp */
  memcpy(q, skip_red_zone, 5);
  q += 5;
  q[0] = 0x4c, q[1] = 0x8d, q[2] = 0x1d; /* lea ret(%rip),%r11 */
  put32(q + 3, (int32_t)(ret - (at + 12)));
  q += 7;
  q[0] = 0x41, q[1] = 0x53; /* push %r11 */
  q += 2;
  q[0] = 0xb8; /* mov $nr,%eax */
  put32(q + 1, st->nr);
  q += 5;
  q[0] = 0xff, q[1] = 0x15; /* call *page(%rip) */
  put32(q + 2, (int32_t)(page - (at + 25)));
  q += 6;
  static const unsigned char unskip[8] = {0x48, 0x8d, 0xa4, 0x24, 0x88, 0x00, 0x00, 0x00}; /* lea 136(%rsp),%rsp */
  memcpy(q, unskip, 8);
  q += 8;
  if (st->cmp) {
    memcpy(q, cmp_rax, 6);
    q += 6;
  }
  q[0] = 0xe9; /* jmp ret */
  put32(q + 1, (int32_t)(ret - ((uintptr_t)q + 5)));
  q += 5;
  if (jne) { /* slow: the original instructions */
    put32(jne, (int32_t)((uintptr_t)q - ((uintptr_t)jne + 4)));
    q[0] = 0x0f, q[1] = 0x05;
    memcpy(q + 2, cmp_rax, 6);
    q[8] = 0xe9;
    put32(q + 9, (int32_t)(ret - ((uintptr_t)q + 13)));
  }
}

static int is_err(long r) { return r < 0 && r > -4096; }

TRR_HIDDEN void trr_patch_libc(void) {
  if (!dl_iterate_phdr(find_libc, NULL) || libc_text.hi <= libc_text.lo)
    return;
  const unsigned char *t = (const unsigned char *)libc_text.lo;
  size_t len = libc_text.hi - libc_text.lo;
  static struct site sites[MAX_SITES];
  int n = find_sites(t, len, sites);
  check_branches(t, len, sites, n);
  int good = 0;
  for (int i = 0; i < n; i++)
    good += sites[i].ok;
  if (!good)
    return;

  /* The stubs' pages, within a rel32 jump of every site. */
  size_t map_len = (STUB_FIRST + (size_t)good * STUB_SIZE + 4095) & ~(size_t)4095;
  long page = trr_traced_syscall(SYS_mmap, 0, (long)map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (is_err(page))
    return;
  uintptr_t pg = (uintptr_t)page;
  if (!fits_rel32(pg, libc_text.lo) || !fits_rel32(pg + map_len, libc_text.lo) || !fits_rel32(pg, libc_text.hi) ||
      !fits_rel32(pg + map_len, libc_text.hi)) {
    trr_traced_syscall(SYS_munmap, page, (long)map_len, 0, 0, 0, 0);
    return;
  }
  uintptr_t entry = (uintptr_t)trr_patch_entry;
  memcpy((void *)pg, &entry, 8);
  unsigned char *stub = (unsigned char *)pg + STUB_FIRST;
  uintptr_t lo_page = UINTPTR_MAX, hi_page = 0;
  for (int i = 0; i < n; i++) {
    if (!sites[i].ok)
      continue;
    write_stub(stub, pg, &sites[i]);
    sites[i].stub = (int)(stub - (unsigned char *)pg);
    stub += STUB_SIZE;
    uintptr_t a = sites[i].addr & ~(uintptr_t)4095, b = (sites[i].addr + (uintptr_t)sites[i].len + 4095) & ~(uintptr_t)4095;
    if (a < lo_page)
      lo_page = a;
    if (b > hi_page)
      hi_page = b;
  }
  if (trr_traced_syscall(SYS_mprotect, page, (long)map_len, PROT_READ | PROT_EXEC, 0, 0, 0) != 0)
    return;
  if (trr_traced_syscall(SYS_mprotect, (long)lo_page, (long)(hi_page - lo_page), PROT_READ | PROT_WRITE | PROT_EXEC, 0, 0, 0) != 0)
    return;
  for (int i = 0; i < n; i++) {
    if (!sites[i].ok)
      continue;
    volatile unsigned char *p = (volatile unsigned char *)sites[i].addr;
    uintptr_t to = pg + (uintptr_t)sites[i].stub;
    int32_t rel = (int32_t)(to - (sites[i].addr + 5));
    p[0] = 0xe9;
    for (int k = 0; k < 4; k++)
      p[1 + k] = (unsigned char)((uint32_t)rel >> (8 * k));
    for (int k = 5; k < sites[i].len; k++)
      p[k] = 0xcc; /* int3: never reached, nothing jumps there */
  }
  trr_traced_syscall(SYS_mprotect, (long)lo_page, (long)(hi_page - lo_page), PROT_READ | PROT_EXEC, 0, 0, 0);
}
