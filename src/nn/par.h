/* par: when one of our own element-wise passes (the gradient pass, dropout,
 * bf16 copies, the optimizer) is split between the OpenMP threads. A parallel
 * region's fork and join cost a few microseconds with spinning threads and
 * tens with sleeping ones (OMP_WAIT_POLICY=passive, or more runnable threads
 * than cores); a pass over fewer elements than this takes about as long on
 * one thread. How a pass is split never changes its result. */
#ifndef PAR_H
#define PAR_H

#define PAR_MIN_ELEMS 65536

#endif
