"""benchmarks/model.toml with mcerp: Latin hypercube inputs, uncertain arithmetic.

mcerp draws every uncertain variable as mcerp.npts Latin hypercube points (from
NumPy's legacy global RNG, hence np.random.seed) and propagates them through
ordinary arithmetic on UncertainFunction objects, so the month loop below is
written as if on plain numbers; mcerp.umath.ceil rounds replicas up.

mcerp 1.1.1 runs unchanged on NumPy 2.x and SciPy 1.17 (no shim needed).
Two API points to watch: LogN(mu, sigma) takes the *median* e^mu as its first
argument (it is scipy's lognorm scale), and `a < b` between two uncertain
values is a paired t-test, not a probability, so P(self < api) is taken as
`(self - api) < 0`, which mcerp reports as the share of points below zero.

Usage: python benchmarks/mcerp_model.py --paths N --seed S
"""

import argparse
import json
import math

import mcerp
import numpy as np
from mcerp import LogN, N, Tri, U, umath

MONTHS = 36
REQUESTS = 30e6  # requests in month 1 (t = 0)
TOKENS = 1550  # input tokens per request, no output tokens
HOURS = 730.0  # hours per month
ENGINEERS = 2
Z95 = 1.6448536269514722  # standard normal 95th percentile
PRICE_MEDIAN = math.sqrt(1.5 * 3.0)  # lognormal with p5 = 1.5, p95 = 3.0
PRICE_SIGMA = (math.log(3.0) - math.log(1.5)) / (2 * Z95)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    mcerp.npts = args.paths  # sample size of every uncertain variable
    np.random.seed(args.seed)  # noqa: NPY002 (mcerp draws from the legacy global RNG)

    growth = 1 + N(0.03, 0.02)
    peak = Tri(1.5, 2.5, 5.0)
    price = LogN(PRICE_MEDIAN, PRICE_SIGMA)  # $ per Mtok
    throughput = U(833.3333333333334, 1666.6666666666667)  # tokens/s per GPU
    gpu_hourly = Tri(2.0, 2.5, 3.5)
    engineer = N(300_000, 30_000)  # annual cost, one draw per path

    api_per_request = price * (TOKENS / 1e6)
    replicas_per_request = peak * (TOKENS / (HOURS * 3600)) / throughput
    gpu_month = gpu_hourly * HOURS

    api_total = 0.0
    gpu_total = 0.0
    volume = REQUESTS  # month 1; uncertain from month 2 on
    for _ in range(MONTHS):
        api_total = api_total + volume * api_per_request
        gpu_total = gpu_total + umath.ceil(volume * replicas_per_request) * gpu_month
        volume = volume * growth
    self_total = gpu_total + engineer * (MONTHS * ENGINEERS / 12)

    print(
        json.dumps(
            {
                "tool": "mcerp",
                "paths": args.paths,
                "p_self_cheaper": (self_total - api_total) < 0,
                "mean_api": float(api_total.mean),
                "mean_self": float(self_total.mean),
            }
        )
    )


if __name__ == "__main__":
    main()
