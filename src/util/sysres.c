#define _GNU_SOURCE
#include "sysres.h"

#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define NO_LIMIT UINT64_MAX
/* cgroup v1 writes "no limit" as a page-rounded 2^63 - 1 */
#define V1_UNLIMITED ((uint64_t)1 << 62)

/* the text of a small file (NUL-terminated, cut at size - 1); 0 when unreadable */
static int read_text(const char *path, char *text, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(text, 1, size - 1, f);
    text[n] = 0;
    fclose(f);
    return 1;
}

/* the number after "key " at a line's start in text; 0 when absent */
static uint64_t keyed(const char *text, const char *key)
{
    const size_t n = strlen(key);
    for (const char *p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (!strncmp(p, key, n) && (p[n] == ' ' || p[n] == ':' || p[n] == '\t'))
            return strtoull(p + n + 1 + strspn(p + n + 1, " \t"), NULL, 10);
    return 0;
}

uint64_t sysres_parse_meminfo(const char *text)
{
    const char *p = strstr(text, "MemAvailable:");
    unsigned long long kb;
    if (!p || sscanf(p + 13, "%llu kB", &kb) != 1)
        return 0;
    return (uint64_t)kb * 1024;
}

/* is word one of the comma-separated items of list? */
static int has_item(const char *list, const char *word)
{
    const size_t n = strlen(word);
    for (const char *p = list; p; p = strchr(p, ','), p = p ? p + 1 : NULL)
        if (!strncmp(p, word, n) && (p[n] == ',' || p[n] == 0))
            return 1;
    return 0;
}

/* The directory of this process's cgroup for controller, v1 where a v1
 * hierarchy carries it, else the v2 one; *top is the length of the mount
 * point's path, where walking up stops. 0 when there is none. */
static int find_cgroup(const char *root, const char *controller, char *dir, size_t size,
                       size_t *top, int *v2)
{
    char path[PATH_MAX], line[4096], v1_path[2048] = "", v2_path[2048] = "";
    int have_v1 = 0, have_v2 = 0;
    snprintf(path, sizeof path, "%s/proc/self/cgroup", root);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c1 = *c2 = 0;
        if (!strcmp(line, "0") && !c1[1])
            have_v2 = snprintf(v2_path, sizeof v2_path, "%s", c2 + 1) > 0;
        else if (has_item(c1 + 1, controller))
            have_v1 = snprintf(v1_path, sizeof v1_path, "%s", c2 + 1) > 0;
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/proc/self/mountinfo", root);
    if (!(have_v1 || have_v2) || !(f = fopen(path, "r")))
        return 0;
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        /* id parent major:minor root mount-point options... - type source super-options */
        char mroot[2048], mpoint[2048], type[64], super[1024];
        const char *dash = strstr(line, " - ");
        if (!dash || sscanf(line, "%*s %*s %*s %2047s %2047s", mroot, mpoint) != 2 ||
            sscanf(dash + 3, "%63s %*s %1023s", type, super) != 2)
            continue;
        const char *cg;
        if (have_v1 && !strcmp(type, "cgroup") && has_item(super, controller))
            cg = v1_path, *v2 = 0;
        else if (have_v2 && !have_v1 && !strcmp(type, "cgroup2"))
            cg = v2_path, *v2 = 1;
        else
            continue;
        /* the mount shows the hierarchy from mroot down: the process's path
         * below it, or, outside it (a namespace's view), the mount itself */
        const size_t r = strlen(mroot);
        const char *rel = !strcmp(mroot, "/") ? cg
                          : !strncmp(cg, mroot, r) && (cg[r] == '/' || !cg[r]) ? cg + r
                                                                               : "";
        *top = (size_t)snprintf(dir, size, "%s%s", root, mpoint);
        snprintf(dir + *top, size - *top, "%s", rel);
        for (size_t n = strlen(dir); n > *top && dir[n - 1] == '/';)
            dir[--n] = 0;
        found = *top < size;
    }
    fclose(f);
    return found;
}

/* the first number of dir/name; 0 when absent, "max" or not a number */
static uint64_t number_in(const char *dir, const char *name)
{
    char path[PATH_MAX + 64], text[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!read_text(path, text, sizeof text))
        return 0;
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    return end == text ? 0 : (uint64_t)v;
}

/* step dir up one level; 0 at the mount point */
static int up(char *dir, size_t top)
{
    char *s = strrchr(dir, '/');
    if (strlen(dir) <= top || !s || (size_t)(s - dir) < top)
        return 0;
    *s = 0;
    return 1;
}

/* the tightest CPU quota from the process's cgroup up, in CPUs rounded up;
 * 0 when there is none */
static int quota_cpus(const char *root)
{
    char dir[PATH_MAX], text[256];
    size_t top;
    int v2, cpus = 0;
    if (!find_cgroup(root, "cpu", dir, sizeof dir, &top, &v2))
        return 0;
    do {
        double quota = 0, period = 0;
        char path[PATH_MAX + 64];
        if (v2) {
            snprintf(path, sizeof path, "%s/cpu.max", dir);
            if (!read_text(path, text, sizeof text) || sscanf(text, "%lf %lf", &quota, &period) != 2)
                quota = 0;
        } else {
            snprintf(path, sizeof path, "%s/cpu.cfs_quota_us", dir);
            if (read_text(path, text, sizeof text) && sscanf(text, "%lf", &quota) == 1)
                period = (double)number_in(dir, "cpu.cfs_period_us");
        }
        if (quota > 0 && period > 0) {
            double q = ceil(quota / period);
            int n = q < 1 ? 1 : q > INT_MAX ? INT_MAX : (int)q;
            cpus = !cpus || n < cpus ? n : cpus;
        }
    } while (up(dir, top));
    return cpus;
}

/* CPUs in this thread's affinity mask, 0 when it cannot be read; no
 * allocation (it also runs before libc has finished starting) */
static int affinity_cpus(void)
{
    static cpu_set_t set[8192 / CPU_SETSIZE];
    return sched_getaffinity(0, sizeof set, set) == 0 ? CPU_COUNT_S(sizeof set, set) : 0;
}

/* The mask the process started with: libgomp binds the initial thread to
 * one place before main when OMP_PROC_BIND, OMP_PLACES or GOMP_CPU_AFFINITY
 * is set, and no variable of the OpenMP runtime may size the team. Read from
 * .preinit_array, before any library's constructor. */
static int start_cpus;
static void note_start_cpus(int argc, char **argv, char **envp)
{
    (void)argc, (void)argv, (void)envp;
    start_cpus = affinity_cpus();
}
__attribute__((section(".preinit_array"), used)) static void (*const note_start_cpus_at_start)(
    int, char **, char **) = note_start_cpus;

int sysres_cpus(const char *root)
{
    int cpus = start_cpus ? start_cpus : affinity_cpus();
    if (cpus < 1) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cpus = n < 1 ? 1 : n > INT_MAX ? INT_MAX : (int)n;
    }
    int quota = quota_cpus(root);
    return quota && quota < cpus ? quota : cpus;
}

/* the tightest cgroup memory headroom from the process's cgroup up; 0 when
 * there is no limit */
static uint64_t cgroup_memory(const char *root)
{
    char dir[PATH_MAX], stat[16384];
    size_t top;
    int v2;
    uint64_t best = 0;
    if (!find_cgroup(root, "memory", dir, sizeof dir, &top, &v2))
        return 0;
    do {
        uint64_t max = number_in(dir, v2 ? "memory.max" : "memory.limit_in_bytes");
        if (!max || max >= V1_UNLIMITED)
            continue;
        uint64_t used = number_in(dir, v2 ? "memory.current" : "memory.usage_in_bytes"), cache = 0;
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/memory.stat", dir);
        if (read_text(path, stat, sizeof stat))
            cache = v2 ? keyed(stat, "active_file") + keyed(stat, "inactive_file")
                       : keyed(stat, "total_active_file") + keyed(stat, "total_inactive_file");
        used = cache < used ? used - cache : 0;
        uint64_t left = used < max ? max - used : 1;
        best = !best || left < best ? left : best;
    } while (up(dir, top));
    return best;
}

uint64_t sysres_memory(const char *root)
{
    char path[PATH_MAX], text[8192];
    uint64_t avail = 0;
    snprintf(path, sizeof path, "%s/proc/meminfo", root);
    if (read_text(path, text, sizeof text))
        avail = sysres_parse_meminfo(text);
    if (!avail && !*root) {
        long pages = sysconf(_SC_AVPHYS_PAGES), size = sysconf(_SC_PAGESIZE);
        avail = pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 0;
    }
    /* a container's limit is what the kernel enforces, whatever the host has */
    uint64_t cg = cgroup_memory(root);
    return cg && (!avail || cg < avail) ? cg : avail;
}

uint64_t sysres_rlimit_left(const char *root, int resource)
{
    struct rlimit r;
    if (getrlimit(resource, &r) || r.rlim_cur == RLIM_INFINITY)
        return NO_LIMIT;
    char path[PATH_MAX], text[8192];
    snprintf(path, sizeof path, "%s/proc/self/status", root);
    uint64_t used = 0;
    if (read_text(path, text, sizeof text))
        used = keyed(text, resource == RLIMIT_AS ? "VmSize" : "VmData") * 1024;
    return used < (uint64_t)r.rlim_cur ? (uint64_t)r.rlim_cur - used : 1;
}
