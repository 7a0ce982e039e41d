/* err: an error is a sysexits code plus one message naming what went wrong.
 * Helpers fill a struct err and return its code; only main() prints it and exits,
 * so every error path stays testable. */
#ifndef ERR_H
#define ERR_H

#include <stdarg.h>

/* sysexits.h values, spelled out so the meaning is visible where they are used */
enum {
    EX_OK_ = 0,
    ERR_USAGE = 64,    /* bad flag or config value */
    ERR_DATA = 65,     /* input file malformed, training diverged */
    ERR_NOINPUT = 66,  /* input file missing or unreadable */
    ERR_UNAVAILABLE = 69, /* a needed service or CPU feature is missing */
    ERR_SOFTWARE = 70, /* internal error, out of memory */
    ERR_CANTCREAT = 73,/* an output file cannot be created where it was asked for */
    ERR_IO = 74,       /* read or write failure */
};

struct err {
    int code;         /* 0 when no error */
    char msg[1024];   /* "<file or key>: <what is wrong>" */
};

/* Record an error (first one wins) and return its code. */
int err_set(struct err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Add text at the end of the message (cut at the buffer's end). */
void err_append(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The name the program was run by, as coreutils' program_name: the last
 * part of argv0 ("train" in the source tree, "mnist-train" installed); a name
 * no message should carry (missing, empty, over 64 bytes, control bytes) is
 * fallback. Messages start with it. */
const char *err_program_name(const char *argv0, const char *fallback);

#endif
