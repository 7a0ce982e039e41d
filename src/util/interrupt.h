/* interrupt: SIGINT, SIGTERM, SIGHUP and SIGPIPE become a flag that every
 * long loop polls (decompressing data, training and evaluation batches,
 * prediction batches),
 * so any phase stops within a fraction of a second and the program exits
 * 128 + the signal with a message saying what it interrupted, instead of
 * dying mid-write or, worse, not at all. */
#ifndef INTERRUPT_H
#define INTERRUPT_H

#include <signal.h>

#include "err.h"

/* the signal received (SIGINT, SIGTERM, SIGHUP or SIGPIPE), 0 until then */
extern volatile sig_atomic_t interrupt_signal;

/* Catch SIGINT, SIGTERM, SIGPIPE and SIGHUP (unless ignored, as under
 * nohup) from now on, in the calling (main) thread's blocking calls too:
 * they return early (no SA_RESTART), and after the first signal a timer
 * keeps interrupting that thread every 50 ms, so a call entered just after
 * the flag was checked cannot wait forever. */
void interrupt_install(void);

/* Descriptors 0-2 closed at start-up would be taken by the next files
 * opened (a metrics file would become stdout and receive the report): hold
 * each closed one with /dev/null opened so that it still cannot be used
 * (stdout and stderr read-only, stdin write-only). Call first in main. */
void interrupt_guard_std_fds(void);

/* 0 when no signal came; else 128 + the signal, with "interrupted while
 * <what>" recorded in e. */
int interrupt_check(struct err *e, const char *what);

/* The run failed after a signal came: a blocking call the signal broke
 * (opening a FIFO that has no reader yet, a write to a full pipe, reading a
 * config from a pipe) fails with EINTR and looks like an I/O error, but it
 * is the interruption that ended the run: 128 + the signal, with the
 * failure kept in the message. Divergence (ERR_DATA) stays what it is: a
 * model that went non-finite must be reported as such. Returns e->code. */
int interrupt_settle(struct err *e);

#endif
