/* stats: the few statistics a head comparison needs, in plain C so that the
 * project depends on no statistics package. */
#ifndef STATS_H
#define STATS_H

double stats_mean(const double *x, int n);
double stats_sd(const double *x, int n);            /* sample standard deviation, n-1 */

/* 0.975 quantile of Student's t with df degrees of freedom (two-sided 95%) */
double stats_t975(int df);

/* mean of b[i] - a[i] with its two-sided 95% t confidence interval */
void stats_paired_ci(const double *a, const double *b, int n, double *mean, double *lo,
                     double *hi);

/* McNemar's exact test: b and c are the discordant counts (only A right, only B
 * right); two-sided p = min(1, 2 P(X <= min(b, c))), X ~ Binomial(b + c, 1/2). */
double stats_mcnemar_p(long long b, long long c);

#endif
