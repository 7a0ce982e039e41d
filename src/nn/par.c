#define _GNU_SOURCE
#include "par.h"

#include <fcntl.h>
#include <omp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../util/sysres.h"

/* what starting a thread maps besides its stack (guard page, TLS, libgomp's
 * own state) */
#define PAR_THREAD_SLACK (1u << 20)

extern char **environ;

/* the variables that would size the team or its stacks (par.h) */
static const char *const team_vars[] = {"OMP_NUM_THREADS", "OMP_DYNAMIC", "OMP_NESTED",
                                        "OMP_MAX_ACTIVE_LEVELS", "OMP_STACKSIZE",
                                        "GOMP_STACKSIZE"};

static int named(const char *entry, const char *name)
{
    size_t n = strlen(name);
    return !strncmp(entry, name, n) && entry[n] == '=';
}

static int is_team_var(const char *entry)
{
    for (size_t i = 0; i < sizeof team_vars / sizeof team_vars[0]; i++)
        if (named(entry, team_vars[i]))
            return 1;
    return 0;
}

/* Whether another thread is runnable as the process starts: the runnable
 * count of /proc/loadavg ("0.52 0.58 0.59 3/456 12345"), which is now, not
 * an average, and counts this thread. Plain reads: libc has not finished
 * starting. */
static int machine_busy(void)
{
    char text[256];
    int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0)
        return 0;
    text[n] = 0;
    const char *p = text;
    for (int field = 0; field < 3 && p; field++)
        p = strchr(p, ' '), p = p ? p + 1 : NULL;
    return p && strtoul(p, NULL, 10) > 1;
}

static char spin_entry[] = "GOMP_SPINCOUNT=" PAR_SPIN_COUNT;
/* the entry whose slot carries spin_entry while libgomp starts, when no
 * removed variable left a free one */
static char *borrowed;

/* Runs from .preinit_array: before any library's constructor, libgomp's
 * included, and before libc has set environ, so the array the kernel passed
 * is edited in place (it cannot grow). */
static void filter_env(int argc, char **argv, char **envp)
{
    (void)argc, (void)argv;
    if (!envp)
        return;
    size_t n = 0, kept = 0;
    int waits = 0;
    for (; envp[n]; n++) {
        waits |= named(envp[n], "OMP_WAIT_POLICY") || named(envp[n], "GOMP_SPINCOUNT");
        if (!is_team_var(envp[n]))
            envp[kept++] = envp[n];
    }
    envp[kept] = NULL;
    if (waits || !machine_busy())
        return;
    if (kept < n) {   /* a removed variable's slot */
        envp[kept] = spin_entry;
        envp[kept + 1] = NULL;
        return;
    }
    /* lend the last slot whose variable no library reads while starting (not
     * OpenMP's, not oneDNN's); restore_env gives it back */
    static const char *const read_at_start[] = {"OMP_", "GOMP_", "KMP_", "ONEDNN_", "DNNL_"};
    for (size_t i = kept; i-- > 0;) {
        size_t k = 0;
        while (k < sizeof read_at_start / sizeof read_at_start[0] &&
               strncmp(envp[i], read_at_start[k], strlen(read_at_start[k])))
            k++;
        if (k == sizeof read_at_start / sizeof read_at_start[0]) {
            borrowed = envp[i];
            envp[i] = spin_entry;
            return;
        }
    }
}

/* After every library's constructor (libgomp has read its variables): the
 * lent slot holds its own variable again. */
__attribute__((constructor)) static void restore_env(void)
{
    for (char **p = environ; borrowed && p && *p; p++)
        if (*p == spin_entry) {
            *p = borrowed;
            borrowed = NULL;
        }
}

__attribute__((section(".preinit_array"), used)) static void (*const filter_env_at_start)(
    int, char **, char **) = filter_env;

int par_team(int threads, struct err *e)
{
    const int limit = omp_get_thread_limit();
    if (threads > limit)
        return err_set(e, ERR_USAGE, "threads: this run uses %d threads, but OMP_THREAD_LIMIT "
                       "lets OpenMP start at most %d (pass --threads %d, or unset "
                       "OMP_THREAD_LIMIT)", threads, limit, limit);
    /* libgomp exits the process when it cannot start a thread: each needs
     * its stack mapped, which an address-space limit may not leave room for */
    pthread_attr_t attr;
    size_t stack = 8 << 20;
    if (pthread_getattr_default_np(&attr) == 0) {
        pthread_attr_getstacksize(&attr, &stack);
        pthread_attr_destroy(&attr);
    }
    const uint64_t need = (uint64_t)(threads - 1) * (stack + PAR_THREAD_SLACK);
    const uint64_t left = sysres_rlimit_left("", RLIMIT_AS);
    if (left < need)
        return err_set(e, ERR_USAGE, "threads: %d threads need about %.0f MiB more address space, "
                       "more than the %.0f MiB the address-space limit (ulimit -v) leaves",
                       threads, need / 1048576.0, left / 1048576.0);
    omp_set_dynamic(0);
    omp_set_max_active_levels(1);
    omp_set_num_threads(threads);
    int got = 0;
#pragma omp parallel
#pragma omp master
    got = omp_get_num_threads();
    if (got != threads)
        return err_set(e, ERR_UNAVAILABLE, "threads: OpenMP started %d of the %d threads this "
                       "run uses", got, threads);
    return 0;
}
