"""The pixel-wise generator: the paper's layout, pixel independence, non-negativity."""

import pytest
import torch
import torch.nn.functional as F

from synflair.models import PixelGenerator, init_parameters


def _generator(in_channels=8, seed=0, scale=3.0):
    g = init_parameters(PixelGenerator(in_channels), torch.Generator().manual_seed(seed))
    with torch.no_grad():  # larger weights: activations over their whole range
        for p in g.parameters():
            p.mul_(scale)
    return g


def test_parameter_count_is_the_papers_layout():
    g = PixelGenerator()
    assert sum(p.numel() for p in g.parameters()) == 2 * (8 * 128 + 128) + 2 * (128 + 1) == 2562
    assert sum(p.numel() for p in PixelGenerator(16, 64).parameters()) == (
        2 * (16 * 64 + 64) + 2 * (64 + 1)
    )
    kernels = {tuple(m.kernel_size) for m in g.modules() if isinstance(m, torch.nn.Conv2d)}
    assert kernels == {(1, 1)}


def test_forward_is_the_two_stream_formula():
    g = _generator()
    x = torch.rand(2, 8, 5, 7)
    v = x.permute(0, 2, 3, 1).reshape(-1, 8)

    def dense(conv, t):
        return t @ conv.weight[:, :, 0, 0].T + conv.bias

    signal = dense(g.signal_out, torch.sigmoid(dense(g.signal_hidden, v))) ** 2
    gate = torch.sigmoid(dense(g.suppression_out, F.elu(dense(g.suppression_hidden, v))))
    expected = (signal * gate).reshape(2, 5, 7)
    with torch.no_grad():
        torch.testing.assert_close(g(x)[:, 0], expected, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(g.forward_voxels(v), expected.reshape(-1), rtol=1e-5, atol=1e-6)
        assert bool((g.suppression(x) > 0).all() and (g.suppression(x) < 1).all())


def test_identical_input_vectors_give_identical_outputs():
    g = _generator()
    x = torch.rand(1, 8, 16, 16)
    x[0, :, 3, 4] = x[0, :, 11, 9]
    x[0, :, 0, 0] = x[0, :, 15, 15]
    with torch.no_grad():
        y = g(x)[0, 0]
    assert y[3, 4] == y[11, 9]
    assert y[0, 0] == y[15, 15]
    assert y[3, 4] != y[0, 0]


def test_permuting_pixels_permutes_outputs():
    g = _generator(seed=1)
    x = torch.rand(1, 8, 12, 10)
    perm = torch.randperm(120, generator=torch.Generator().manual_seed(3))
    shuffled = x.reshape(1, 8, -1)[:, :, perm].reshape(1, 8, 12, 10)
    with torch.no_grad():
        y = g(x).reshape(-1)
        y_shuffled = g(shuffled).reshape(-1)
    torch.testing.assert_close(y_shuffled, y[perm], rtol=1e-6, atol=1e-7)


def test_output_is_non_negative_even_for_extreme_inputs():
    g = _generator(seed=2, scale=10.0)
    x = torch.randn(4, 8, 32, 32) * 50
    with torch.no_grad():
        y = g(x)
    assert y.shape == (4, 1, 32, 32)
    assert bool((y >= 0).all())
    assert bool(torch.isfinite(y).all())


def test_patch_of_any_size_matches_whole_image():
    g = _generator(seed=4)
    x = torch.rand(1, 8, 40, 36)
    with torch.no_grad():
        whole = g(x)
        patch = g(x[:, :, 7:20, 5:30])
    torch.testing.assert_close(patch, whole[:, :, 7:20, 5:30])


def test_init_is_reproducible_from_the_generator():
    a = init_parameters(PixelGenerator(), torch.Generator().manual_seed(5))
    b = init_parameters(PixelGenerator(), torch.Generator().manual_seed(5))
    c = init_parameters(PixelGenerator(), torch.Generator().manual_seed(6))
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters(), strict=True):
        assert torch.equal(pa, pb)
        assert not torch.equal(pa, pc)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_bad_sizes_are_rejected(bad):
    with pytest.raises(ValueError, match="must be a positive integer"):
        PixelGenerator(bad)
    with pytest.raises(ValueError, match="hidden"):
        PixelGenerator(8, bad)


def test_wrong_input_channels_are_rejected():
    with pytest.raises(ValueError, match=r"\(N, 8, H, W\)"):
        PixelGenerator()(torch.rand(1, 7, 4, 4))
    with pytest.raises(ValueError, match=r"\(n, 8\)"):
        PixelGenerator().forward_voxels(torch.rand(10, 16))
