"""benchmarks/model.toml with squigglepy: inputs sampled by squigglepy, months in NumPy.

squigglepy (0.30) draws each input with its own distribution objects (a
lognormal given by its 90% interval, as in model.toml); its samplers are NumPy
Generator calls under the hood. The 36-month cost model is then plain NumPy on
whole (paths,) arrays: squigglepy's own way to run a model per path
(sq.sample(fn, n)) calls a Python function once per path and is not meant for
vectorised month loops.

Usage: python benchmarks/squigglepy_model.py --paths N --seed S
"""

import argparse
import json

import numpy as np
import squigglepy as sq

MONTHS = 36
REQUESTS = 30e6  # requests in month 1 (t = 0)
TOKENS = 1550  # input tokens per request, no output tokens
HOURS = 730.0  # hours per month
ENGINEERS = 2


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    n = args.paths

    # Inputs, each drawn once per path. verbose=False: squigglepy otherwise
    # turns on progress output for n >= 1M.
    sq.set_seed(args.seed)
    inputs = {
        "growth": sq.norm(mean=0.03, sd=0.02),
        "peak": sq.triangular(1.5, 2.5, 5.0),
        "price": sq.lognorm(1.5, 3.0),  # 90% interval, $ per Mtok
        "throughput": sq.uniform(833.3333333333334, 1666.6666666666667),
        "gpu_hourly": sq.triangular(2.0, 2.5, 3.5),
        "engineer": sq.norm(mean=300_000, sd=30_000),  # annual cost
    }
    s = {name: sq.sample(dist, n, verbose=False) for name, dist in inputs.items()}

    # Monthly model in NumPy: V_t = REQUESTS * (1 + g)^t, API billed per token,
    # self-hosted provisioned for peak in whole GPUs.
    growth = 1.0 + s["growth"]
    replicas_per_request = TOKENS / (HOURS * 3600) * s["peak"] / s["throughput"]
    volume = np.full(n, REQUESTS)
    total_requests = np.zeros(n)
    replica_months = np.zeros(n)
    for _ in range(MONTHS):
        total_requests += volume
        replica_months += np.ceil(volume * replicas_per_request)
        volume *= growth

    api = total_requests * TOKENS * s["price"] / 1e6
    people = MONTHS * ENGINEERS * s["engineer"] / 12
    self_hosted = replica_months * s["gpu_hourly"] * HOURS + people

    print(
        json.dumps(
            {
                "tool": "squigglepy",
                "paths": n,
                "p_self_cheaper": float(np.mean(self_hosted < api)),
                "mean_api": float(api.mean()),
                "mean_self": float(self_hosted.mean()),
            }
        )
    )


if __name__ == "__main__":
    main()
