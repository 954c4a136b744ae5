"""The training configuration of the train tests: sub-second CPU training."""

TINY_CONFIG = {
    "seed": 7,
    "data": {"patch_size": 16, "batch_size": 4},
    "discriminator": {"base_channels": 4, "levels": 2},
    "stage1": {
        "iterations": 12,
        "generator": {"lr": 5e-3},
        "discriminator": {"lr": 1e-3},
    },
    "stage2": {
        "iterations": 12,
        "generator": {"lr": 1e-3, "beta1": 0.5},
        "discriminator": {"lr": 1e-3},
    },
    "checkpoint_every": 4,
    "log_every": 2,
}
