"""Training of the paper's cGAN: configuration, data, losses, the two stages, checkpoints."""
