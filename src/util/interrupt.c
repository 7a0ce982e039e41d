#include "interrupt.h"

#include <stdio.h>
#include <string.h>

volatile sig_atomic_t interrupt_signal;

static void on_signal(int sig) { interrupt_signal = sig; }

void interrupt_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
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
