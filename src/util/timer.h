/* timer: monotonic wall-clock seconds. */
#ifndef TIMER_H
#define TIMER_H

double timer_now(void);

#endif
