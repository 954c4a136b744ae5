"""Relative models (``data.relative``): the output is the synthetic FLAIR times a learned factor."""

import numpy as np
import pytest
import torch

from synflair import intensity
from synflair.cli import main
from synflair.errors import SynflairError
from synflair.infer import _predict_torch, predict_volume
from synflair.models import PixelGenerator, init_parameters
from synflair.models.modelfile import Architecture, build_discriminator, load_model, save_model
from synflair.models.normalization import InputNormalization
from synflair.nifti import load_data, save
from synflair.train.config import config_from_dict

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _generator(seed=0, relative=True):
    g = PixelGenerator(9 if relative else 8, 16, relative=relative)
    return init_parameters(g, torch.Generator().manual_seed(seed)).eval()


def test_relative_output_is_the_last_input_times_the_streams():
    g = _generator(seed=1)
    x = torch.rand(50, 9) + 0.1
    with torch.no_grad():
        factor = (g.signal(x[:, :, None, None]) * g.suppression(x[:, :, None, None]))[:, 0, 0, 0]
        out = g.forward_voxels(x)
        image = g(x.T.reshape(1, 9, 50, 1)).reshape(-1)
    torch.testing.assert_close(out, factor * x[:, -1])
    torch.testing.assert_close(image, out)
    # doubling the synthetic FLAIR alone changes the factor (it is an input too), but a
    # zero synthetic FLAIR always gives zero: the output is relative to it
    x0 = x.clone()
    x0[:, -1] = 0.0
    with torch.no_grad():
        assert torch.count_nonzero(g.forward_voxels(x0)) == 0


def test_a_relative_generator_needs_two_inputs():
    with pytest.raises(ValueError, match="relative"):
        PixelGenerator(1, 4, relative=True)


def _model(tmp_path, relative=True):
    config = config_from_dict(
        {"data": {"relative": relative}, "generator": {"hidden": 16},
         "discriminator": {"base_channels": 4, "levels": 2}}
    )  # fmt: skip
    path = tmp_path / f"model-{relative}.pt"
    save_model(
        path,
        stage=2,
        iterations=1,
        config=config,
        normalization=InputNormalization.from_config(config.data),
        generator=_generator(seed=7, relative=relative),
        discriminator=build_discriminator(config),
    )
    return load_model(path)


def _exam(shape=(20, 18, 4), seed=0):
    rng = np.random.default_rng(seed)
    mdme = rng.random((*shape, 8), dtype=np.float32) * 500
    synthetic = rng.random(shape, dtype=np.float32) * 300 + 10
    mask = np.zeros(shape, bool)
    mask[4:16, 3:15, 1:] = True
    return mdme, synthetic, mask


def test_the_model_file_keeps_the_relative_flag(tmp_path):
    model = _model(tmp_path)
    assert model.normalization.relative and model.generator().relative
    assert model.in_channels == 9
    assert not _model(tmp_path, relative=False).generator().relative


def test_a_stored_configuration_without_the_key_is_not_relative():
    mapping = config_from_dict({}).to_dict()
    del mapping["data"]["relative"]  # a model file of an earlier version
    architecture = Architecture.of(mapping)
    assert (architecture.in_channels, architecture.relative) == (8, False)
    mapping["data"]["relative"] = "yes"
    with pytest.raises(SynflairError, match=r"data\.relative is 'yes', expected true or false"):
        Architecture.of(mapping)


def test_prediction_is_the_network_on_the_normalized_inputs(tmp_path):
    model = _model(tmp_path)
    mdme, synthetic, mask = _exam()
    result = predict_volume(model, mdme, mask, synthetic=synthetic)
    rule = model.normalization
    q = np.percentile(np.abs(mdme[mask]), 99.0)  # the MDME alone sets the input scale
    scaled, _ = intensity.to_common_scale(synthetic, mask, rule.intracranial_mean)
    x = np.column_stack([mdme[mask] / q, scaled[mask] / rule.target_divisor])
    with torch.no_grad():
        expected = model.generator().forward_voxels(torch.from_numpy(x.astype(np.float32)))
    expected = expected.numpy() * rule.target_divisor
    np.testing.assert_allclose(result[mask], expected, rtol=1e-4, atol=1e-3)
    assert np.all(result[~mask] == 0)
    # the fused CPU kernel and the network itself (the GPU path) agree
    voxels = np.column_stack([mdme[mask], scaled[mask] / rule.target_divisor * q])
    torch_path = _predict_torch(model.generator(), voxels.astype(np.float32), q, rule, "cpu")
    np.testing.assert_allclose(result[mask], torch_path, rtol=1e-4, atol=1e-3)
    # the synthetic FLAIR's own scale does not matter: it is brought to the common scale
    again = predict_volume(model, mdme, mask, synthetic=synthetic * 7.0)
    np.testing.assert_allclose(again, result, rtol=1e-5, atol=1e-3)


def test_prediction_refuses_a_missing_or_misfit_synthetic_flair(tmp_path):
    model = _model(tmp_path)
    mdme, synthetic, mask = _exam()
    with pytest.raises(SynflairError, match="relative to the synthetic FLAIR"):
        predict_volume(model, mdme, mask)
    with pytest.raises(SynflairError, match="synthetic FLAIR shape"):
        predict_volume(model, mdme, mask, synthetic=synthetic[:-1])
    with pytest.raises(SynflairError, match="pass --mask"):
        predict_volume(model, mdme, None, synthetic=synthetic)


def test_cli_passes_the_synthetic_flair(tmp_path, capsys):
    model = _model(tmp_path)
    mdme, synthetic, mask = _exam()
    affine = np.diag([1.0, 1.0, 3.0, 1.0])
    paths = {name: tmp_path / f"{name}.nii.gz" for name in ("mdme", "syn", "mask")}
    save(mdme, affine, paths["mdme"])
    save(synthetic, affine, paths["syn"])
    save(mask.astype(np.uint8), affine, paths["mask"], dtype=np.uint8)
    out = tmp_path / "dl.nii.gz"
    argv = ["infer", "--model", str(model.path), "--mdme", str(paths["mdme"]),
            "--mask", str(paths["mask"]), "--out", str(out)]  # fmt: skip
    assert main([*argv, "--synthetic", str(paths["syn"])]) == 0
    written, _ = load_data(out, ndim=3)
    expected = predict_volume(model, mdme, mask, synthetic=synthetic)
    np.testing.assert_allclose(written, expected, rtol=1e-6)
    # a model that is not relative ignores it
    plain = _model(tmp_path, relative=False)
    other = tmp_path / "plain.nii.gz"
    argv_plain = [*argv[:2], str(plain.path), *argv[3:-1], str(other)]
    assert main([*argv_plain, "--synthetic", str(paths["syn"])]) == 0
    np.testing.assert_allclose(
        load_data(other, ndim=3)[0], predict_volume(plain, mdme, mask), rtol=1e-6
    )
