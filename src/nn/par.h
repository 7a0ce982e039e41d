/* par: the one OpenMP team every parallel pass of train runs on (oneDNN's
 * products and our own element-wise passes), and when a pass is split.
 *
 * The team is planned, never left to the runtime: a oneDNN primitive is made
 * for the thread count omp_get_max_threads() gives when it is created, and a
 * team smaller than that leaves part of every batch uncomputed. So no
 * variable of the OpenMP runtime may size the team: at start-up (before
 * libgomp reads its environment) OMP_NUM_THREADS, OMP_DYNAMIC, OMP_NESTED,
 * OMP_MAX_ACTIVE_LEVELS and the stack sizes (OMP_STACKSIZE, GOMP_STACKSIZE:
 * too small overflows, too large fails to start a thread) are taken out of
 * this process's environment, and par_team sets the team through the API and
 * checks it. OMP_THREAD_LIMIT cannot be raised from inside: a run that needs
 * more threads than it allows is refused. Variables that only place or wake
 * threads (OMP_PROC_BIND, OMP_PLACES, GOMP_CPU_AFFINITY, OMP_WAIT_POLICY,
 * GOMP_SPINCOUNT, ...) keep their meaning.
 *
 * Waiting: libgomp's threads spin at every fork and join (300000 rounds by
 * default) before they sleep, which keeps both cheapest on an idle machine.
 * With every core taken by the team, another busy process deschedules a
 * thread now and then, and every spinning one burns its core waiting for
 * it. So when another thread is runnable as train starts, and unless
 * OMP_WAIT_POLICY or GOMP_SPINCOUNT says otherwise, threads spin
 * PAR_SPIN_COUNT rounds (the count libgomp itself uses when it sees more
 * threads than CPUs) and then sleep. The wait never changes a result.
 *
 * A parallel region's fork and join cost a few microseconds with spinning
 * threads and tens with sleeping ones; a pass over fewer elements than
 * PAR_MIN_ELEMS takes about as long on one thread. How a pass is split never
 * changes its result. */
#ifndef PAR_H
#define PAR_H

#include "../util/err.h"

#define PAR_MIN_ELEMS 65536
#define PAR_SPIN_COUNT "1000"

/* Make the team `threads` threads and check that a parallel region gets
 * exactly that many; call once, before any parallel region of the run.
 * ERR_USAGE when OMP_THREAD_LIMIT is below threads, ERR_UNAVAILABLE when the
 * runtime still starts another number. */
int par_team(int threads, struct err *e);

#endif
