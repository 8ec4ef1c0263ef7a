/* Special functions of the CLV models: log Gamma, digamma and the Gauss
 * hypergeometric function 2F1 on the arguments the models need (0 <= z < 1). */
#include <math.h>

#include "clv/clv.h"

double strata__lgamma(double x)
{
    int sign;
    return lgamma_r(x, &sign); /* lgamma() writes the global signgam */
}

/* Recurrence psi(x) = psi(x + 1) - 1/x up to x >= 10, then the asymptotic
 * series ln x - 1/(2x) - sum B_2k / (2k x^2k) (terms to x^-12). */
double strata__digamma(double x)
{
    if (!(x > 0) || !isfinite(x))
        return NAN;
    double r = 0.0;
    while (x < 10.0) {
        r -= 1.0 / x;
        x += 1.0;
    }
    double f = 1.0 / (x * x);
    double s = f * (1.0 / 12 -
                    f * (1.0 / 120 -
                         f * (1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132 - f * 691.0 / 32760)))));
    return r + log(x) - 0.5 / x - s;
}

#define HYP_MAX_TERMS 1000000

/* Sum of (a)_k (b)_k / (c)_k z^k / k! for any finite a and b, c not 0, -1,
 * -2, ... (BG/NBD's c = a + b + x - 1 is negative where x = 0 and a + b <
 * 1) and 0 <= z < 1: once the ratio of consecutive terms, (a + k)(b + k) z /
 * ((c + k)(k + 1)), is below 1 in magnitude, what is left after term t is
 * about |t| rho / (1 - rho) at most, rho the larger of the next ratio's
 * magnitude and its limit z (the ratio is monotone from there on for the
 * arguments of the models: a rational function of k tending to z). A
 * non-positive integer a or b ends the series (a polynomial). */
double strata__hyp2f1(double a, double b, double c, double z)
{
    if (!(z >= 0.0 && z < 1.0) || !isfinite(a) || !isfinite(b) || !isfinite(c) ||
        (c <= 0 && c == floor(c)))
        return NAN; /* c = 0, -1, -2, ...: a pole */
    if (z == 0.0)
        return 1.0;
    double term = 1.0, sum = 1.0, comp = 0.0;
    for (int64_t k = 0; k < HYP_MAX_TERMS; k++) {
        double kk = (double)k;
        term *= (a + kk) * (b + kk) / ((c + kk) * (kk + 1.0)) * z;
        double t = sum + term; /* Neumaier */
        comp += fabs(sum) >= fabs(term) ? (sum - t) + term : (term - t) + sum;
        sum = t;
        if (term == 0.0)
            return sum + comp;
        double next = fabs((a + kk + 1) * (b + kk + 1) / ((c + kk + 1) * (kk + 2.0))) * z;
        double rho = next > z ? next : z;
        if (rho < 1.0 && fabs(term) * rho / (1.0 - rho) <= 1e-16 * fabs(sum + comp))
            return sum + comp;
        if (!isfinite(sum))
            return NAN;
    }
    return NAN;
}
