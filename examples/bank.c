/*
 * examples/bank.c: a small program with a memory-corruption bug, for trying
 * trr. It keeps accounts in an array and applies a list of transfers; one
 * transfer writes past the end of a fixed-size history buffer, which silently
 * overwrites the balance of the account stored next to it. The program then
 * notices the impossible balance and aborts.
 *
 * Native runs print the same thing every time, but the moment of corruption is
 * far from where the program fails: this is what reverse execution is for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct account {
    char name[16];
    long history[8]; /* last transfers; index is not bounds-checked */
    long balance;
};

static struct account accounts[3] = {
    {"alice", {0}, 100},
    {"bob", {0}, 50},
    {"carol", {0}, 75},
};

static void record_transfer(struct account *a, int n, long amount) {
    a->history[n] = amount; /* BUG: n can reach 8, which is a->balance */
}

static void transfer(int from, int to, long amount, int n) {
    accounts[from].balance -= amount;
    accounts[to].balance += amount;
    record_transfer(&accounts[from], n, -amount);
    record_transfer(&accounts[to], n, amount);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts); /* a value that differs between runs */
    printf("bank opened (run at %ld)\n", (long)ts.tv_sec);
    for (int n = 0; n < 9; n++) transfer(n % 3, (n + 1) % 3, 5 + n, n);
    long total = 0;
    for (int i = 0; i < 3; i++) {
        printf("%-6s %6ld\n", accounts[i].name, accounts[i].balance);
        total += accounts[i].balance;
    }
    if (total != 225) {
        fprintf(stderr, "money was created or destroyed: total %ld, expected 225\n", total);
        abort();
    }
    printf("books balance\n");
    return 0;
}
