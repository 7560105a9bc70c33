/* compute.c - CPU-bound work with almost no syscalls (trr e2e + benchmarks).
 *
 * Usage: compute [scale]   (scale: positive integer iteration multiplier,
 *                           default 1; ~0.3 s natively at scale 1)
 *
 * Runs a sieve of Eratosthenes, a dependent 64-bit hash chain (50M
 * iterations per scale unit) and a branchy Collatz walk, and prints
 * checksums.  Apart from process start-up and the final write/exit_group,
 * there are no syscalls in the hot loops.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIEVE_N 2000000u
#define HASH_ITERS 50000000ull
#define COLLATZ_START 1000000u
#define COLLATZ_COUNT 600000u

static unsigned char sieve_buf[SIEVE_N + 1];

static uint64_t sieve(void)
{
    memset(sieve_buf, 1, sizeof sieve_buf);
    sieve_buf[0] = sieve_buf[1] = 0;
    for (uint32_t i = 2; (uint64_t)i * i <= SIEVE_N; i++)
        if (sieve_buf[i])
            for (uint32_t j = i * i; j <= SIEVE_N; j += i)
                sieve_buf[j] = 0;
    uint64_t count = 0, sum = 0;
    for (uint32_t i = 0; i <= SIEVE_N; i++)
        if (sieve_buf[i]) {
            count++;
            sum += i;
        }
    return count << 40 ^ sum;
}

static uint64_t hash_chain(uint64_t iters, uint64_t seed)
{
    uint64_t h = seed;
    for (uint64_t i = 0; i < iters; i++) {
        h ^= h >> 31;
        h *= 0x9e3779b97f4a7c15ull;
        h += i;
    }
    return h;
}

static uint64_t collatz(uint32_t start, uint32_t count)
{
    uint64_t total_steps = 0, max_steps = 0;
    for (uint32_t n = start; n < start + count; n++) {
        uint64_t x = n, steps = 0;
        while (x != 1) {
            x = (x & 1) ? 3 * x + 1 : x / 2;
            steps++;
        }
        total_steps += steps;
        if (steps > max_steps)
            max_steps = steps;
    }
    return total_steps << 16 ^ max_steps;
}

int main(int argc, char **argv)
{
    long scale = 1;
    if (argc > 1) {
        char *end;
        scale = strtol(argv[1], &end, 10);
        if (*end != 0 || scale < 1) {
            fprintf(stderr, "usage: %s [scale>=1]\n", argv[0]);
            return 2;
        }
    }
    uint64_t total = 0;
    for (long s = 0; s < scale; s++) {
        uint64_t a = sieve();
        uint64_t b = hash_chain(HASH_ITERS, 0x12345678ull + (uint64_t)s);
        uint64_t c = collatz(COLLATZ_START + (uint32_t)s * 1000u, COLLATZ_COUNT);
        if (s == 0) {
            printf("sieve primes<=%u: %llu\n", SIEVE_N, (unsigned long long)(a >> 40));
            printf("hash chain: %016llx\n", (unsigned long long)b);
            printf("collatz: %016llx\n", (unsigned long long)c);
        }
        total = total * 1000003u ^ a ^ b ^ c;
    }
    printf("scale: %ld\n", scale);
    printf("checksum: %016llx\n", (unsigned long long)total);
    if (scale == 1 && (total == 0 || (sieve() >> 40) != 148933)) {
        printf("FAIL: unexpected result\n");
        return 1;
    }
    printf("EXIT-SUCCESS\n");
    return 0;
}
