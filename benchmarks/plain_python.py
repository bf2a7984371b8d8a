"""benchmarks/model.toml in plain Python: the random module, one path at a time.

For the record only: it is run at fewer paths and its time scaled.

Usage: python benchmarks/plain_python.py --paths N --seed S
"""

import argparse
import json
import math
import random

MONTHS = 36
REQUESTS = 30e6  # requests in month 1 (t = 0)
TOKENS = 1550  # input tokens per request, no output tokens
HOURS = 730.0  # hours per month
ENGINEERS = 2
Z95 = 1.6448536269514722  # standard normal 95th percentile
PRICE_MU = (math.log(1.5) + math.log(3.0)) / 2  # lognormal with p5 = 1.5, p95 = 3.0
PRICE_SIGMA = (math.log(3.0) - math.log(1.5)) / (2 * Z95)


def one_path(rng):
    """Return (api_total, self_hosted_total) for one path."""
    growth = 1 + rng.gauss(0.03, 0.02)
    peak = rng.triangular(1.5, 5.0, 2.5)  # random.triangular(low, high, mode)
    price = rng.lognormvariate(PRICE_MU, PRICE_SIGMA)  # $ per Mtok
    throughput = rng.uniform(833.3333333333334, 1666.6666666666667)  # tok/s/GPU
    gpu_hourly = rng.triangular(2.0, 3.5, 2.5)
    engineer = rng.gauss(300_000, 30_000)  # annual cost

    api = gpu = 0.0
    volume = REQUESTS
    for _ in range(MONTHS):
        api += volume * TOKENS * price / 1e6
        demand = volume * TOKENS / (HOURS * 3600)  # tokens/s
        gpu += math.ceil(demand * peak / throughput) * gpu_hourly * HOURS
        volume *= growth
    return api, gpu + MONTHS * ENGINEERS * engineer / 12


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    self_cheaper = 0
    api_sum = self_sum = 0.0
    for _ in range(args.paths):
        api, self_hosted = one_path(rng)
        self_cheaper += self_hosted < api
        api_sum += api
        self_sum += self_hosted

    n = args.paths
    print(
        json.dumps(
            {
                "tool": "plain-python",
                "paths": n,
                "p_self_cheaper": self_cheaper / n,
                "mean_api": api_sum / n,
                "mean_self": self_sum / n,
            }
        )
    )


if __name__ == "__main__":
    main()
