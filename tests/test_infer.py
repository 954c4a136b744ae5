"""Inference: the fused CPU kernel equals the network, masks, determinism, errors."""

import numpy as np
import pytest
import torch

from synflair.cli import main
from synflair.errors import SynflairError
from synflair.infer import FusedGenerator, _predict_torch, predict_volume
from synflair.models import PixelGenerator, init_parameters
from synflair.models.modelfile import build_discriminator, load_model, save_model
from synflair.models.normalization import InputNormalization
from synflair.nifti import save
from synflair.train.config import config_from_dict

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _generator(in_channels=8, seed=0, scale=3.0):
    g = init_parameters(PixelGenerator(in_channels), torch.Generator().manual_seed(seed))
    with torch.no_grad():
        for p in g.parameters():
            p.mul_(scale)
    return g.eval()


def _naive(g, voxels, q, divisor, magnitude):
    """The 1x1-convolution forward on an image made of the voxels."""
    x = torch.from_numpy(np.ascontiguousarray(voxels, dtype=np.float32))
    x = (x.abs() if magnitude else x) / q
    with torch.no_grad():
        return (g(x.T.reshape(1, g.in_channels, -1, 1)) * divisor).reshape(-1).numpy()


@pytest.mark.parametrize("magnitude", [True, False])
@pytest.mark.parametrize("n", [1, 1023, 5000])
def test_fused_equals_the_naive_forward(magnitude, n):
    g = _generator(seed=n)
    rng = np.random.default_rng(n)
    voxels = rng.normal(0, 2.0, (n, 8)).astype(np.float32)  # signed: extreme ELU inputs too
    fused = FusedGenerator(g, 1.7, 1000.0, magnitude=magnitude, chunk=256)
    expected = _naive(g, voxels, 1.7, 1000.0, magnitude)
    np.testing.assert_allclose(fused(voxels), expected, rtol=2e-5, atol=1e-3)
    if n > 1000:
        assert expected.max() > 100  # the comparison covers a real dynamic range


def test_fused_handles_saturated_units():
    g = _generator(seed=3, scale=40.0)
    voxels = np.random.default_rng(0).normal(0, 10.0, (3000, 8)).astype(np.float32)
    fused = FusedGenerator(g, 1.0, 1.0)
    result = fused(voxels)
    assert np.isfinite(result).all() and (result >= 0).all()
    expected = _naive(g, voxels, 1.0, 1.0, False)
    np.testing.assert_allclose(result, expected, rtol=1e-4, atol=2e-5 * expected.max())


def test_fused_is_deterministic_across_threads_and_strides():
    g = _generator(seed=5)
    volume = np.random.default_rng(1).random((37, 29, 5, 8), dtype=np.float32)
    fused = FusedGenerator(g, 0.8, 1000.0, magnitude=True, chunk=100)
    c_order = fused(volume.reshape(-1, 8), threads=1)
    again = fused(volume.reshape(-1, 8), threads=2)
    assert np.array_equal(c_order, again)
    f_volume = np.asfortranarray(volume)
    f_voxels = f_volume.reshape(-1, 8, order="F")
    assert not f_voxels.flags.c_contiguous
    f_result = fused(f_voxels, threads=2).reshape(volume.shape[:3], order="F")
    # another memory layout: the same values up to float rounding
    np.testing.assert_allclose(f_result, c_order.reshape(volume.shape[:3]), rtol=1e-5, atol=1e-4)


def _model(tmp_path, region="intracranial", divisor=1000.0):
    config = config_from_dict(
        {"data": {"input_region": region, "target_divisor": divisor},
         "discriminator": {"base_channels": 4, "levels": 2}}
    )  # fmt: skip
    path = tmp_path / f"model-{region}.pt"
    save_model(
        path,
        stage=2,
        iterations=1,
        config=config,
        normalization=InputNormalization.from_config(config.data),
        generator=_generator(seed=11, scale=2.0),
        discriminator=build_discriminator(config),
    )
    return load_model(path)


def _mdme(shape=(20, 18, 4), seed=0, order="F"):
    rng = np.random.default_rng(seed)
    data = rng.random((*shape, 8), dtype=np.float32) * 500
    mask = np.zeros(shape, bool)
    mask[4:16, 3:15, 1:] = True
    return (np.asfortranarray(data) if order == "F" else data), mask


@pytest.mark.parametrize("order", ["F", "C"])
def test_predict_volume_inside_the_mask_and_full(tmp_path, order):
    model = _model(tmp_path)
    mdme, mask = _mdme(order=order)
    q = np.percentile(np.abs(mdme[mask]), 99.0)
    g = model.generator()
    expected = _naive(g, mdme.reshape(-1, 8), q, 1000.0, True).reshape(mask.shape)
    masked = predict_volume(model, mdme, mask)
    assert masked.dtype == np.float32 and masked.shape == mask.shape
    assert (masked[~mask] == 0).all()
    np.testing.assert_allclose(masked[mask], expected[mask], rtol=2e-5, atol=1e-3)
    full = predict_volume(model, mdme, mask, full=True)
    np.testing.assert_allclose(full, expected, rtol=2e-5, atol=1e-3)
    np.testing.assert_allclose(full[mask], masked[mask], rtol=1e-5, atol=1e-4)
    assert np.array_equal(predict_volume(model, mdme, mask, threads=2), masked)
    # the network path used on GPUs gives the same numbers
    torch_path = _predict_torch(g, mdme[mask], q, model.normalization, torch.device("cpu"))
    np.testing.assert_allclose(torch_path, masked[mask], rtol=2e-5, atol=1e-3)


def test_output_does_not_depend_on_the_receiver_gain(tmp_path):
    model = _model(tmp_path)
    mdme, mask = _mdme()
    a = predict_volume(model, mdme, mask)
    b = predict_volume(model, mdme * 3.0, mask)
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-3)


def test_volume_normalized_models_need_no_mask(tmp_path):
    model = _model(tmp_path, region="volume", divisor=10.0)
    mdme, _ = _mdme()
    q = np.percentile(np.abs(mdme), 99.0)
    expected = _naive(model.generator(), mdme.reshape(-1, 8, order="F"), q, 10.0, True)
    result = predict_volume(model, mdme)
    np.testing.assert_allclose(result.reshape(-1, order="F"), expected, rtol=2e-5, atol=1e-4)


def test_errors(tmp_path):
    model = _model(tmp_path)
    mdme, mask = _mdme()
    with pytest.raises(SynflairError, match=r"has 7 volume\(s\).*8 volumes"):
        predict_volume(model, mdme[..., :7], mask)
    with pytest.raises(SynflairError, match="pass --mask"):
        predict_volume(model, mdme)
    with pytest.raises(SynflairError, match="mask shape"):
        predict_volume(model, mdme, mask[:-1])


def test_cli_wrong_volumes_and_grids(tmp_path, capsys):
    model = _model(tmp_path)
    affine = np.diag([1.0, 1.0, 3.0, 1.0])
    mdme, mask = _mdme()
    save(mdme[..., :6], affine, tmp_path / "six.nii.gz")
    save(mask.astype(np.uint8), affine, tmp_path / "mask.nii.gz", dtype=np.uint8)
    save(mask.astype(np.uint8), np.diag([2.0, 1.0, 3.0, 1.0]), tmp_path / "other.nii.gz")
    save(mdme, affine, tmp_path / "mdme.nii.gz")
    common = ["infer", "--model", str(model.path), "--out", str(tmp_path / "o.nii.gz")]
    assert main([*common, "--mdme", str(tmp_path / "six.nii.gz")]) == 2
    assert "six.nii.gz: has 6 volume(s)" in capsys.readouterr().err
    args = ["--mdme", str(tmp_path / "mdme.nii.gz"), "--mask", str(tmp_path / "other.nii.gz")]
    assert main([*common, *args]) == 2
    assert "different affines" in capsys.readouterr().err
    assert main([*common, "--mdme", str(tmp_path / "mdme.nii.gz")]) == 2
    assert "pass --mask" in capsys.readouterr().err
    assert not (tmp_path / "o.nii.gz").exists()
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    junk = ["infer", "--model", str(tmp_path / "junk.pt"), "--out", "x", "--mdme", "y"]
    assert main(junk) == 2
    assert "junk.pt: not a readable" in capsys.readouterr().err


def test_a_non_finite_prediction_is_never_written(tmp_path, capsys):
    """Finite but extreme weights overflow float32: refused, naming the model and the count."""
    config = config_from_dict({"discriminator": {"base_channels": 4, "levels": 2}})
    generator = _generator(seed=2)
    with torch.no_grad():
        generator.signal_out.bias.fill_(1e30)  # finite; its square is not
    path = save_model(
        tmp_path / "extreme.pt",
        stage=2,
        iterations=1,
        config=config,
        normalization=InputNormalization.from_config(config.data),
        generator=generator,
        discriminator=build_discriminator(config),
    )
    mdme, mask = _mdme()
    expected = r"extreme\.pt: the prediction for MDME holds 432 non-finite voxel\(s\) .* of 432 "
    with pytest.raises(SynflairError, match=expected):
        predict_volume(load_model(path), mdme, mask)
    affine = np.diag([1.0, 1.0, 3.0, 1.0])
    save(mdme, affine, tmp_path / "mdme.nii.gz")
    save(mask.astype(np.uint8), affine, tmp_path / "mask.nii.gz", dtype=np.uint8)
    out = tmp_path / "dl.nii.gz"
    argv = ["infer", "--model", path, "--mdme", tmp_path / "mdme.nii.gz"]
    argv += ["--mask", tmp_path / "mask.nii.gz", "--out", out]
    assert main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert "extreme.pt: the prediction for" in err and "non-finite voxel(s)" in err
    assert not out.exists() and not list(tmp_path.glob(".dl*"))
