"""Training speed: iterations/s of stage 1 and stage 2 at the paper's batch (15 x 128 x 128).

For each device (the CPU, and CUDA when present) it prints iterations/s of
both stages, the time per batch spent sampling patches, the FLOP count of one
iteration (convolutions and matrix products, forward and backward, counted by
``torch.utils.flop_counter``) and the fraction of the device's peak reached.
The peak is measured as the rate of a large float32 matrix product on the
CPU and of a bf16 one on a GPU (the practical peak), so the fraction says how
well the iteration uses what the device can do. On a GPU it also prints the
time the paper's 2 x 100,000 iterations would take (goal: <= 15 min on one H100).

The data are random slices of 512 x 512 (speed does not depend on the values).

    python bench/bench_train.py [--config config/train/paper.yaml] [--iterations 5]
                                [--threads 1 2] [--device cpu cuda]
"""

from __future__ import annotations

import argparse
import os
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from synflair.models import init_parameters
from synflair.models.modelfile import build_discriminator, build_generator
from synflair.train.config import load_config
from synflair.train.data import PatchSampler, TrainingData
from synflair.train.trainer import Trainer


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def peak_flops(device: torch.device) -> float:
    """Practical peak FLOP/s: a large matrix product (bf16 on CUDA, float32 on the CPU)."""
    n = 8192 if device.type == "cuda" else 2048
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    a @ b
    _sync(device)
    reps = 20 if device.type == "cuda" else 3
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    _sync(device)
    return 2 * n**3 * reps / (time.perf_counter() - start)


def bench_device(config, device, iterations, warmup):
    gen = torch.Generator().manual_seed(0)
    slices = torch.rand((20, config.data.in_channels + 2, 512, 512), generator=gen).to(device)
    data = TrainingData(slices, torch.full((20, 2), 512), ["bench"] * 20)
    sampler = PatchSampler(
        data,
        config.data.patch_size,
        config.data.batch_size,
        torch.Generator(device=device).manual_seed(0),
    )
    _sync(device)
    start = time.perf_counter()
    for _ in range(20):
        sampler.sample()
    _sync(device)
    sample_ms = (time.perf_counter() - start) / 20 * 1e3
    results = {}
    for stage in (1, 2):
        g = init_parameters(build_generator(config), gen).to(device)
        d = init_parameters(build_discriminator(config), gen).to(device)
        trainer = Trainer(config, stage, g, d, device)
        batch = sampler.sample()
        with FlopCounterMode(display=False) as counter:
            trainer.step(batch)
        flops = counter.get_total_flops()
        for _ in range(warmup):
            trainer.step(sampler.sample())
        _sync(device)
        start = time.perf_counter()
        for _ in range(iterations):
            trainer.step(sampler.sample())
        _sync(device)
        results[stage] = (iterations / (time.perf_counter() - start), flops)
    return sample_ms, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/train/paper.yaml")
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--device", nargs="+", default=["cpu", "cuda"])
    args = parser.parse_args()
    config = load_config(args.config)
    d = config.data
    print(
        f"{args.config}: batch {d.batch_size} x {d.patch_size} x {d.patch_size}, discriminator "
        f"{config.discriminator.base_channels} channels x {config.discriminator.levels} levels; "
        f"torch {torch.__version__}; load average {os.getloadavg()[0]:.1f}"
    )
    runs = []
    if "cpu" in args.device:
        runs += [(torch.device("cpu"), t) for t in args.threads]
    if "cuda" in args.device and torch.cuda.is_available():
        runs.append((torch.device("cuda"), None))
    for device, threads in runs:
        if threads is not None:
            torch.set_num_threads(threads)
            name = f"cpu, {threads} thread(s)"
        else:
            name = torch.cuda.get_device_name(device)
        peak = peak_flops(device)
        iterations = args.iterations if device.type == "cpu" else max(args.iterations, 200)
        sample_ms, results = bench_device(config, device, iterations, args.warmup)
        print(f"{name}: practical peak {peak / 1e9:.0f} GFLOP/s; patch sampling {sample_ms:.2f} ms")
        for stage, (rate, flops) in results.items():
            print(
                f"  stage {stage}: {rate:8.2f} it/s  {flops / 1e9:6.2f} GFLOP/it  "
                f"{rate * flops / 1e9:8.1f} GFLOP/s = {rate * flops / peak:6.1%} of peak"
            )
        total = sum(config.stage(s).iterations / results[s][0] for s in (1, 2))
        print(
            f"  {config.stage1.iterations:,} + {config.stage2.iterations:,} iterations: "
            f"{total / 60:.1f} min ({total / 3600:.2f} h)"
        )


if __name__ == "__main__":
    main()
