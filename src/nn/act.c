#include "act.h"

#include <math.h>

void act_forward(enum act a, float *y, size_t n)
{
    switch (a) {
    case ACT_RELU:
        for (size_t i = 0; i < n; i++)
            y[i] = y[i] > 0 ? y[i] : 0;
        break;
    case ACT_TANH:
        for (size_t i = 0; i < n; i++)
            y[i] = tanhf(y[i]);
        break;
    case ACT_SIGMOID:
        for (size_t i = 0; i < n; i++)
            y[i] = act_sigmoid(y[i]);
        break;
    }
}

void act_backward(enum act a, float *dy, const float *y, size_t n)
{
    switch (a) {
    case ACT_RELU:
        for (size_t i = 0; i < n; i++)
            dy[i] = y[i] > 0 ? dy[i] : 0;
        break;
    case ACT_TANH:
        for (size_t i = 0; i < n; i++)
            dy[i] *= 1 - y[i] * y[i];
        break;
    case ACT_SIGMOID:
        for (size_t i = 0; i < n; i++)
            dy[i] *= y[i] * (1 - y[i]);
        break;
    }
}
