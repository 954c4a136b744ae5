"""Inference speed: voxels/s of DL-FLAIR, whole 512x512x30 exam and intracranial voxels only.

Targets (issue 4) on 2 CPU cores: the whole exam (7.9 M voxels) in <= 5 s, the
voxels inside the intracranial mask in <= 2 s; a naive 1x1-convolution forward
takes ~25 s. The MDME is random (speed does not depend on the values) and the
mask an ellipsoid holding about a third of the voxels, as a brain does in the
paper's 240 mm field of view.

Prints wall time and process CPU time (on a machine shared with other jobs the
wall time of a multi-threaded run depends on their load; the CPU time does not).

    python bench/bench_infer.py [--naive] [--threads 2] [--repeat 3] [--slices 30]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch

from synflair.infer import FusedGenerator, _predict_torch, predict_volume
from synflair.models import PixelGenerator, init_parameters
from synflair.models.modelfile import ModelFile, build_discriminator
from synflair.models.normalization import InputNormalization
from synflair.train.config import TrainConfig


def _timed(function, repeat):
    best = None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        times = (time.perf_counter() - wall, time.process_time() - cpu)
        best = times if best is None or times[0] < best[0] else best
    return result, best


def _report(name, n, times):
    wall, cpu = times
    print(
        f"{name:34s} {n / 1e6:6.2f} M voxels  wall {wall:6.2f} s  cpu {cpu:6.2f} s  "
        f"{n / wall / 1e6:6.2f} M voxels/s (wall)  {n / cpu / 1e6:6.2f} M voxels/cpu-s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=30)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--naive", action="store_true", help="also time the naive conv forward")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    shape = (args.size, args.size, args.slices)
    mdme = np.asfortranarray(rng.random((*shape, 8), dtype=np.float32) * 1000)
    x, y, z = np.meshgrid(*(np.linspace(-1, 1, s) for s in shape), indexing="ij")
    mask = (x / 0.62) ** 2 + (y / 0.75) ** 2 + (z / 1.1) ** 2 < 1
    generator = init_parameters(PixelGenerator(), torch.Generator().manual_seed(0)).eval()
    rule = InputNormalization()
    print(
        f"{os.cpu_count()} CPUs, torch {torch.__version__}, {args.threads} worker threads; "
        f"exam {shape}, mask {mask.mean():.1%} of voxels; load average {os.getloadavg()[0]:.1f}"
    )

    config = TrainConfig()
    model = ModelFile(
        Path("in-memory"), 2, 0, config, rule, generator.state_dict(),
        build_discriminator(config).state_dict(),
    )  # fmt: skip

    def masked():  # normalization, gather, evaluation, scatter: what `synflair infer` does
        return predict_volume(model, mdme, mask, threads=args.threads)

    def whole():
        return predict_volume(model, mdme, mask, full=True, threads=args.threads)

    _, times = _timed(whole, args.repeat)
    _report("fused, whole exam", mdme[..., 0].size, times)
    _, times = _timed(masked, args.repeat)
    _report("fused, intracranial voxels", int(mask.sum()), times)
    fused = FusedGenerator(generator, 500.0, 1000.0, magnitude=True)
    _, times = _timed(lambda: fused(mdme.reshape(-1, 8, order="F"), threads=1), 1)
    _report("fused kernel only, whole, 1 thread", mdme[..., 0].size, times)

    if torch.cuda.is_available():
        device = torch.device("cuda")
        voxels = mdme.reshape(-1, 8, order="F")

        def gpu():
            result = _predict_torch(generator, voxels, 500.0, rule, device)
            torch.cuda.synchronize()
            return result

        gpu()
        _, times = _timed(gpu, args.repeat)
        _report("GPU (incl. host<->device copies)", voxels.shape[0], times)

    if args.naive:
        torch.set_num_threads(args.threads)

        def naive():
            with torch.no_grad():
                volume = torch.from_numpy(np.ascontiguousarray(np.moveaxis(mdme, (2, 3), (0, 1))))
                return generator(volume.abs() / 500.0) * 1000.0

        _, times = _timed(naive, 1)
        _report("naive 1x1-conv forward, whole exam", mdme[..., 0].size, times)


if __name__ == "__main__":
    main()
