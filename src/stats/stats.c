#include "stats.h"

#include <math.h>

double stats_mean(const double *x, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += x[i];
    return n ? s / n : 0;
}

double stats_sd(const double *x, int n)
{
    if (n < 2)
        return 0;
    double m = stats_mean(x, n), s = 0;
    for (int i = 0; i < n; i++)
        s += (x[i] - m) * (x[i] - m);
    return sqrt(s / (n - 1));
}

double stats_t975(int df)
{
    /* exact to the digits shown for small df; beyond, the Cornish-Fisher
     * expansion around the normal quantile (error below 1e-4 for df > 30) */
    static const double table[31] = {
        NAN,    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201,  2.179,  2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
        2.080,  2.074,  2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    };
    if (df < 1)
        return NAN;
    if (df <= 30)
        return table[df];
    const double z = 1.959963984540054, z3 = z * z * z, z5 = z3 * z * z, v = df;
    return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v);
}

void stats_paired_ci(const double *a, const double *b, int n, double *mean, double *lo,
                     double *hi)
{
    double d[1024];
    n = n > 1024 ? 1024 : n;
    for (int i = 0; i < n; i++)
        d[i] = b[i] - a[i];
    *mean = stats_mean(d, n);
    double half = n > 1 ? stats_t975(n - 1) * stats_sd(d, n) / sqrt(n) : NAN;
    *lo = *mean - half;
    *hi = *mean + half;
}

double stats_mcnemar_p(long long b, long long c)
{
    long long n = b + c, k = b < c ? b : c;
    if (n == 0)
        return 1.0;
    /* sum the binomial tail in log space: n can be thousands */
    double tail = 0, lfn = lgamma((double)n + 1), lhalf = (double)n * log(0.5);
    for (long long i = 0; i <= k; i++)
        tail += exp(lfn - lgamma((double)i + 1) - lgamma((double)(n - i) + 1) + lhalf);
    double p = 2 * tail;
    return p > 1 ? 1 : p;
}
