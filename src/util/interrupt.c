#define _GNU_SOURCE /* SIGEV_THREAD_ID, gettid */
#include "interrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t interrupt_signal;

/* Checking the flag and then entering a blocking call leaves a window: a
 * signal that lands between the two only sets the flag, and the call (a read
 * of an idle pipe, the open of a FIFO nobody opens) then waits forever. So
 * the first signal also starts a timer that interrupts the installing (main)
 * thread every KICK_NS from then on: whatever call it enters next returns
 * EINTR within that time, whichever call it is. */
#define KICK_NS 50000000L
#ifndef sigev_notify_thread_id /* glibc before 2.37 spells it only this way */
#define sigev_notify_thread_id _sigev_un._tid
#endif

static timer_t kick;
static int have_kick;

static void on_kick(int sig) { (void)sig; }

static void on_signal(int sig)
{
    if (!interrupt_signal && have_kick) {
        struct itimerspec every = { { 0, KICK_NS }, { 0, KICK_NS } };
        timer_settime(kick, 0, &every, NULL); /* async-signal-safe (POSIX) */
    }
    interrupt_signal = sig;
}

void interrupt_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_kick;
    sigaction(SIGALRM, &sa, NULL);
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = SIGALRM;
    ev.sigev_notify_thread_id = gettid();
    have_kick = timer_create(CLOCK_MONOTONIC, &ev, &kick) == 0;
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* a closed pipe on stdout (train | head) and a dropped session end the
     * run as SIGINT does, checkpoint first, instead of killing it outright;
     * a SIGHUP the caller ignores (nohup) stays ignored */
    sigaction(SIGPIPE, &sa, NULL);
    struct sigaction was;
    if (sigaction(SIGHUP, NULL, &was) == 0 && was.sa_handler != SIG_IGN)
        sigaction(SIGHUP, &sa, NULL);
}

void interrupt_guard_std_fds(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        /* the wrong way round: a closed stdout stays unwritable (EBADF where
         * the report is written), a closed stdin unreadable */
        int held = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
        if (held >= 0 && held != fd) {
            dup2(held, fd);
            close(held);
        }
    }
}
int interrupt_check(struct err *e, const char *what)
{
    int sig = interrupt_signal;
    return sig ? err_set(e, 128 + sig, "interrupted while %s", what) : 0;
}

int interrupt_settle(struct err *e)
{
    int sig = interrupt_signal;
    if (!sig || !e->code || e->code == 128 + sig || e->code == ERR_DATA)
        return e->code;
    char was[sizeof e->msg];
    snprintf(was, sizeof was, "%s", e->msg);
    e->code = 0;
    return err_set(e, 128 + sig, "interrupted: %s", was);
}
