/*
 * ipc: System V message queues, semaphores and shared memory (a segment
 * attached by a parent and its child, which see each other's stores, also
 * read-only and twice in one process), and POSIX message queues: every call whose
 * output depends on its command (msgctl/semctl/shmctl IPC_STAT, *_INFO,
 * semctl GETALL) is checked against what the program knows it stored.
 */
#define _GNU_SOURCE
#include "check.h"
#include <fcntl.h>
#include <mqueue.h>
#include <stdint.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
    struct seminfo *info;
};

struct msg {
    long type;
    char text[32];
};

static void messages(void) {
    int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    MUST(q >= 0, "msgget");
    struct msg m = {.type = 2};
    strcpy(m.text, "second type");
    CHECK(msgsnd(q, &m, strlen(m.text) + 1, 0) == 0, "msgsnd type 2");
    m.type = 1;
    strcpy(m.text, "first");
    CHECK(msgsnd(q, &m, strlen(m.text) + 1, 0) == 0, "msgsnd type 1");
    struct msqid_ds ds;
    memset(&ds, 0x5a, sizeof ds);
    CHECK(msgctl(q, IPC_STAT, &ds) == 0 && ds.msg_qnum == 2 && ds.msg_perm.mode == 0600, "IPC_STAT: 2 messages, mode 0600");
    struct msginfo info;
    memset(&info, 0, sizeof info);
    CHECK(msgctl(q, IPC_INFO, (struct msqid_ds *)&info) >= 0 && info.msgmax > 0 && info.msgmnb > 0, "IPC_INFO");

    struct msg got;
    memset(&got, 0x5a, sizeof got);
    ssize_t n = msgrcv(q, &got, sizeof got.text, 2, 0);
    CHECK(n == 12 && got.type == 2 && strcmp(got.text, "second type") == 0, "msgrcv by type");
    CHECK(got.text[12] == 0x5a, "msgrcv writes no further than the message");
    memset(&got, 0, sizeof got);
    CHECK(msgrcv(q, &got, 3, 0, MSG_NOERROR) == 3 && memcmp(got.text, "fir", 3) == 0 && got.text[3] == 0, "msgrcv truncates with MSG_NOERROR");
    CHECK(msgrcv(q, &got, sizeof got.text, 0, IPC_NOWAIT) == -1 && errno == ENOMSG, "msgrcv on an empty queue: ENOMSG");

    /* A child blocks in msgrcv until the parent sends. */
    fflush(stdout);
    pid_t child = fork();
    MUST(child >= 0, "fork");
    if (child == 0) {
        struct msg c;
        ssize_t k = msgrcv(q, &c, sizeof c.text, 5, 0);
        _exit(k == 6 && strcmp(c.text, "hello") == 0 ? 0 : 1);
    }
    usleep(20000);
    m.type = 5;
    strcpy(m.text, "hello");
    CHECK(msgsnd(q, &m, 6, 0) == 0, "msgsnd to the waiting child");
    int status;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child received it");
    CHECK(msgctl(q, IPC_RMID, NULL) == 0, "msgctl IPC_RMID");
    CHECK(msgsnd(q, &m, 6, IPC_NOWAIT) == -1 && (errno == EINVAL || errno == EIDRM), "the queue is gone");
}

static void semaphores(void) {
    int s = semget(IPC_PRIVATE, 5, IPC_CREAT | 0600);
    MUST(s >= 0, "semget");
    unsigned short set[5] = {1, 2, 3, 4, 5};
    CHECK(semctl(s, 0, SETALL, (union semun){.array = set}) == 0, "SETALL");
    unsigned short got[8];
    memset(got, 0x5a, sizeof got);
    CHECK(semctl(s, 0, GETALL, (union semun){.array = got}) == 0, "GETALL");
    CHECK(got[0] == 1 && got[4] == 5 && got[5] == 0x5a5a, "GETALL writes the 5 values and no more");
    struct sembuf ops[2] = {{0, -1, 0}, {4, 2, 0}};
    CHECK(semop(s, ops, 2) == 0, "semop");
    CHECK(semctl(s, 0, GETVAL) == 0 && semctl(s, 4, GETVAL) == 7, "GETVAL after semop");
    struct timespec ts = {0, 10 * 1000 * 1000};
    struct sembuf wait0 = {0, -1, 0};
    CHECK(semtimedop(s, &wait0, 1, &ts) == -1 && errno == EAGAIN, "semtimedop times out");
    CHECK(semctl(s, 2, SETVAL, (union semun){.val = 9}) == 0 && semctl(s, 2, GETVAL) == 9, "SETVAL");
    CHECK(semctl(s, 0, GETPID) == getpid(), "GETPID: the last semop was ours");
    struct semid_ds ds;
    memset(&ds, 0x5a, sizeof ds);
    CHECK(semctl(s, 0, IPC_STAT, (union semun){.buf = &ds}) == 0 && ds.sem_nsems == 5 && ds.sem_perm.mode == 0600, "IPC_STAT: 5 semaphores");
    struct seminfo info;
    memset(&info, 0, sizeof info);
    CHECK(semctl(s, 0, IPC_INFO, (union semun){.info = &info}) >= 0 && info.semmsl > 0, "IPC_INFO");
    CHECK(semctl(s, 0, SEM_INFO, (union semun){.info = &info}) >= 0 && info.semusz >= 1, "SEM_INFO counts our set");
    CHECK(semctl(s, 0, IPC_RMID) == 0, "semctl IPC_RMID");
}

static void shared_memory(void) {
    int m = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
    MUST(m >= 0, "shmget");
    struct shmid_ds ds;
    memset(&ds, 0x5a, sizeof ds);
    CHECK(shmctl(m, IPC_STAT, &ds) == 0 && ds.shm_segsz == 8192 && ds.shm_nattch == 0 && ds.shm_cpid == getpid(), "IPC_STAT: size, attaches, creator");
    struct shminfo info;
    memset(&info, 0, sizeof info);
    CHECK(shmctl(m, IPC_INFO, (struct shmid_ds *)&info) >= 0 && info.shmmax > 0 && info.shmmni > 0, "IPC_INFO");
    struct shm_info sinfo;
    memset(&sinfo, 0, sizeof sinfo);
    CHECK(shmctl(m, SHM_INFO, (struct shmid_ds *)&sinfo) >= 0 && sinfo.used_ids >= 1, "SHM_INFO counts our segment");
    ds.shm_perm.mode = 0640;
    CHECK(shmctl(m, IPC_SET, &ds) == 0, "IPC_SET");
    memset(&ds, 0, sizeof ds);
    CHECK(shmctl(m, IPC_STAT, &ds) == 0 && (ds.shm_perm.mode & 0777) == 0640, "the new mode");

    /* Attached: stores show through every attachment, in this process and a child. */
    char *p = shmat(m, NULL, 0);
    MUST(p != (char *)-1, "shmat");
    CHECK(p[0] == 0 && p[8191] == 0, "a new segment is zeroed");
    strcpy(p, "from the parent");
    char *again = shmat(m, NULL, SHM_RDONLY);
    CHECK(again != (char *)-1 && again != p && strcmp(again, "from the parent") == 0, "a second, read-only attachment sees the store");
    CHECK(shmctl(m, IPC_STAT, &ds) == 0 && ds.shm_nattch == 2, "IPC_STAT counts two attaches");
    pid_t kid = fork();
    MUST(kid >= 0, "fork");
    if (kid == 0) {
        char *q = shmat(m, NULL, 0);
        int ok = q != (char *)-1 && strcmp(q, "from the parent") == 0 && strcmp(p, "from the parent") == 0;
        strcpy(q + 4096, "from the child");
        _exit(ok && shmdt(q) == 0 ? 0 : 1);
    }
    int status = 0;
    MUST(waitpid(kid, &status, 0) == kid, "waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child saw the parent's store through its own attachment");
    CHECK(strcmp(p + 4096, "from the child") == 0 && strcmp(again + 4096, "from the child") == 0, "and the parent sees the child's");
    CHECK(shmdt(again) == 0 && shmdt(p) == 0, "shmdt");
    errno = 0;
    CHECK(shmdt(p) == -1 && errno == EINVAL, "shmdt of nothing attached fails with EINVAL");
    CHECK(shmctl(m, IPC_RMID, NULL) == 0, "shmctl IPC_RMID");
}

static void posix_queues(void) {
    char name[64];
    snprintf(name, sizeof name, "/trr-ipc-%d", getpid());
    struct mq_attr attr = {.mq_maxmsg = 4, .mq_msgsize = 64};
    mqd_t q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
    if (q == (mqd_t)-1) {
        CHECK(errno == ENOSYS || errno == EACCES || errno == ENOENT, "no POSIX message queues here");
        return;
    }
    CHECK(mq_send(q, "low", 4, 1) == 0 && mq_send(q, "high", 5, 7) == 0, "mq_send");
    struct mq_attr now;
    memset(&now, 0x5a, sizeof now);
    CHECK(mq_getattr(q, &now) == 0 && now.mq_curmsgs == 2 && now.mq_msgsize == 64 && now.mq_maxmsg == 4, "mq_getattr");
    char buf[64];
    unsigned prio = 0;
    memset(buf, 0x5a, sizeof buf);
    CHECK(mq_receive(q, buf, sizeof buf, &prio) == 5 && strcmp(buf, "high") == 0 && prio == 7, "mq_receive takes the highest priority first");
    CHECK(buf[5] == 0x5a, "and writes only the message");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 10 * 1000 * 1000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    CHECK(mq_timedreceive(q, buf, sizeof buf, &prio, &ts) == 4 && prio == 1, "mq_timedreceive");
    CHECK(mq_timedreceive(q, buf, sizeof buf, NULL, &ts) == -1 && errno == ETIMEDOUT, "mq_timedreceive times out");
    struct sigevent ev = {.sigev_notify = SIGEV_NONE};
    CHECK(mq_notify(q, &ev) == 0 && mq_notify(q, NULL) == 0, "mq_notify");
    struct mq_attr nb = {.mq_flags = O_NONBLOCK}, old;
    CHECK(mq_setattr(q, &nb, &old) == 0 && old.mq_flags == 0, "mq_setattr returns the old flags");
    CHECK(mq_receive(q, buf, sizeof buf, NULL) == -1 && errno == EAGAIN, "non-blocking mq_receive: EAGAIN");
    CHECK(mq_close(q) == 0 && mq_unlink(name) == 0, "mq_close, mq_unlink");
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    messages();
    semaphores();
    shared_memory();
    posix_queues();
    if (failures) return 1;
    puts("EXIT-SUCCESS");
    return 0;
}
