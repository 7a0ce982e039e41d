/* denormal: flush subnormal floats to zero, in this thread and in the OpenMP
 * threads (oneDNN's and ours).
 *
 * A momentum velocity that stops receiving gradient (a weight on a pixel that
 * is almost always 0, a unit that no longer fires) decays by mu every step and
 * spends about 150 steps in the subnormal range, where every multiply takes a
 * microcode assist. With the sigmoid head that doubled the time of an epoch
 * (bench/results.md). Training results do not depend on numbers below 1e-38,
 * so train sets FTZ and DAZ, as numerical libraries commonly do for speed. */
#ifndef DENORMAL_H
#define DENORMAL_H

/* Call at start-up after par_team: sets the mode for this thread
 * and for each thread of the OpenMP team (new threads inherit it from the
 * thread that creates them). No-op where there is no SSE control register. */
void denormals_flush(void);

#endif

