/* sysres: what of the machine this process may use, as the kernel enforces
 * it. --threads 0 and the memory budget ask here and nowhere else.
 *
 * CPUs: the affinity mask (taskset, a cpuset), lowered by a CPU quota on the
 * process's own cgroup or any cgroup above it (v2 cpu.max, v1
 * cpu.cfs_quota_us / cpu.cfs_period_us): a quota of q CPUs is ceil(q)
 * threads, since more threads than that only wait for their share.
 *
 * Memory: MemAvailable, lowered by the tightest limit on the path from the
 * process's cgroup up to the root (v2 memory.max, v1 memory.limit_in_bytes)
 * less what that cgroup uses, its page cache (active_file + inactive_file,
 * which the kernel reclaims before it kills) not counted as used.
 *
 * Address space: RLIMIT_AS and RLIMIT_DATA less what the process maps now.
 *
 * The process's cgroup is found as the kernel names it (/proc/self/cgroup)
 * and located through the mount table (/proc/self/mountinfo), so nested
 * cgroups, cgroup namespaces and v1/v2 hybrids read the right files. root is
 * the directory that stands for / when reading /proc and /sys/fs/cgroup: ""
 * for the real ones; tests build a fake tree under a temporary directory. */
#ifndef SYSRES_H
#define SYSRES_H

#include <stdint.h>

/* CPUs this process may use, at least 1 */
int sysres_cpus(const char *root);

/* memory available to this process in bytes; 0 when nothing tells */
uint64_t sysres_memory(const char *root);

/* what this process may still map under resource (RLIMIT_AS: all of its
 * address space, VmSize; RLIMIT_DATA: its private writable memory, VmData)
 * in bytes; UINT64_MAX when there is no limit */
uint64_t sysres_rlimit_left(const char *root, int resource);

/* the MemAvailable line of a /proc/meminfo text in bytes; 0 when absent */
uint64_t sysres_parse_meminfo(const char *text);

#endif
