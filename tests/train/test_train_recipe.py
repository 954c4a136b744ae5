"""The recipe beyond the paper: pinball loss, voxel batches, step-size decay, model selection."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from tiny_config import TINY_CONFIG

from synflair.errors import SynflairError
from synflair.models.modelfile import load_model
from synflair.models.normalization import InputNormalization
from synflair.train.config import config_from_dict
from synflair.train.data import TrainingData, VoxelSampler, load_training_data, read_manifest
from synflair.train.losses import mean_absolute_error, paired_loss
from synflair.train.session import train_stage
from synflair.train.validation import (
    Score,
    ValidationSubject,
    is_better,
    load_validation,
    read_validation_manifest,
    score_generator,
    subject_scores,
)

RECIPE = {
    **TINY_CONFIG,
    "objective": {"voxels": 256, "adversarial": 0.0, "paired": 1.0, "paired_loss": "pinball",
                  "hyper_threshold": 1.2, "hyper_quantile": 0.8},
    "selection": {"every": 4, "min_contrast": 0.5},
}  # fmt: skip


def test_pinball_is_mae_at_the_median_and_its_minimizer_is_the_quantile():
    pred, target = torch.randn(50), torch.randn(50)
    assert paired_loss(pred, target, 0.5) == pytest.approx(float(mean_absolute_error(pred, target)))
    # 9 dark voxels and 1 bright one with the same inputs: a constant prediction c
    targets = torch.tensor([1.0] * 9 + [3.0])
    grid = torch.linspace(0.5, 3.5, 301)

    def best(tau):
        losses = [float(paired_loss(torch.full_like(targets, c), targets, tau)) for c in grid]
        return float(grid[int(np.argmin(losses))])

    assert best(0.5) == pytest.approx(1.0, abs=0.011)  # L1: the median, the lesion is lost
    assert best(0.95) == pytest.approx(3.0, abs=0.011)  # the 0.95-quantile: the bright voxel
    # per-voxel quantiles: only the voxels given tau > 0.5 are pulled up
    taus = torch.tensor([0.5, 0.9])
    under = paired_loss(torch.zeros(2), torch.ones(2), taus)
    assert float(under) == pytest.approx((2 * 0.5 + 2 * 0.9) / 2)
    with pytest.raises(ValueError, match="quantile"):
        paired_loss(pred, target, 1.0)


def test_voxel_sampler_draws_intracranial_voxels_with_their_values_and_hyperintensity():
    rng = np.random.default_rng(0)
    shape = (6, 5, 3)
    subjects = []
    for name, offset in (("a", 0.0), ("b", 10.0)):
        inputs = rng.random((*shape, 2)).astype(np.float32) + offset
        target = rng.random(shape).astype(np.float32) + 1 + offset
        conventional = target * 2
        mask = np.zeros(shape, bool)
        mask[1:4, 1:3, 0] = mask[2, 2, 2] = True
        subjects.append((name, inputs, target, conventional, mask))
    data = TrainingData.from_arrays(subjects)
    assert len(data.voxels) == 2 * 7
    # outside the conventional FLAIR's field of view (exactly 0): never drawn
    outside = [(n, i, t, np.where(np.arange(3) == 2, 0.0, c), m) for n, i, t, c, m in subjects]
    assert len(TrainingData.from_arrays(outside).voxels) == 2 * 6
    batch = VoxelSampler(data, 400, torch.Generator().manual_seed(1)).sample()
    inside = {
        (round(float(v), 5)): (name, float(np.median(t[m])))
        for name, _, t, _, m in subjects
        for v in t[m]
    }
    for target, conv, hyper, x in zip(batch.target, batch.conventional, batch.hyper,
                                      batch.inputs, strict=True):  # fmt: skip
        name, median = inside[round(float(target), 5)]  # only intracranial voxels
        assert float(conv) == pytest.approx(2 * float(target))
        assert float(hyper) == pytest.approx(float(target) / median, rel=1e-5)
        assert (float(x[0]) >= 10) == (name == "b")  # inputs of the same voxel
    assert len({round(float(t), 5) for t in batch.target}) == 14  # all are drawn


def _lesion_subjects(lesions):
    """One subject of 40 intracranial voxels; the lesion voxels' target is 5, the others' 1."""
    shape = (10, 4, 1)
    inputs = np.ones((*shape, 2), np.float32)
    mask = np.ones(shape, bool)
    target = np.where(lesions, 5.0, 1.0).astype(np.float32) if lesions is not None else mask * 1.0
    return [("a", inputs, target, target.copy(), mask, lesions)]


def test_voxel_sampler_draws_its_lesion_share_from_the_lesion_map():
    lesions = np.zeros((10, 4, 1), bool)
    lesions[2, 1, 0] = lesions[7, 3, 0] = True  # 2 of 40 voxels
    data = TrainingData.from_arrays(_lesion_subjects(lesions))
    assert len(data.lesion_voxels) == 2
    for share, expected in ((0.0, 1000 * 2 / 40), (0.25, 250 + 750 * 2 / 40)):
        batch = VoxelSampler(data, 1000, torch.Generator().manual_seed(3), share).sample()
        drawn = int((batch.conventional == 5.0).sum())
        assert drawn == pytest.approx(expected, abs=4 * math.sqrt(expected) + 1)
    exact = VoxelSampler(data, 1000, torch.Generator().manual_seed(3), 0.25).sample()
    assert bool((exact.conventional[-250:] == 5.0).all())  # exactly 250 from the map


def test_lesion_share_needs_lesion_maps_and_warns_when_they_are_empty(caplog):
    without = TrainingData.from_arrays(_lesion_subjects(None)[:1])
    assert without.lesion_voxels is None
    with pytest.raises(SynflairError, match=r"objective\.lesion_share = 0\.1 .*'lesions' column"):
        VoxelSampler(without, 100, torch.Generator(), 0.1)
    empty = TrainingData.from_arrays(_lesion_subjects(np.zeros((10, 4, 1), bool)))
    assert len(empty.lesion_voxels) == 0
    sampler = VoxelSampler(empty, 100, torch.Generator(), 0.1)
    assert sampler.n_lesion == 0 and "lesion maps are empty" in caplog.text
    with pytest.raises(ValueError, match="lesion_share"):
        VoxelSampler(empty, 100, torch.Generator(), 1.0)


def test_lr_decays_geometrically_to_lr_final():
    stage1 = {**TINY_CONFIG["stage1"], "iterations": 5, "lr_final": 0.01}
    config = config_from_dict({**TINY_CONFIG, "stage1": stage1})
    stage = config.stage(1)
    factors = [stage.lr_factor(i) for i in range(5)]
    np.testing.assert_allclose(factors, [1, 0.1**0.5, 0.1, 0.1**1.5, 0.01])
    assert config.stage(2).lr_factor(3) == 1.0  # default: constant (the paper)


def test_objective_and_selection_are_validated():
    def bad(objective=None, selection=None):
        mapping = {**TINY_CONFIG}
        if objective is not None:
            mapping["objective"] = objective
        if selection is not None:
            mapping["selection"] = selection
        with pytest.raises(ValueError) as error:
            config_from_dict(mapping)
        return str(error.value)

    assert "objective.adversarial or objective.paired" in bad({"adversarial": 0.0})
    assert "objective.hyper_threshold" in bad({"hyper_threshold": 1.5})  # needs voxels
    assert "objective.hyper_quantile" in bad({"voxels": 8, "hyper_quantile": 1.0})
    assert "objective.paired_loss" in bad({"paired_loss": "l2"})
    assert "objective.voxels" in bad({"voxels": -1})
    assert "objective.lesion_share" in bad({"voxels": 8, "lesion_share": 1.0})
    assert "objective.lesion_share" in bad({"lesion_share": 0.1})  # needs voxels
    assert "selection.every" in bad(selection={"every": -1})
    with pytest.raises(ValueError, match=r"stage1\.lr_final"):
        config_from_dict({**TINY_CONFIG, "stage1": {**TINY_CONFIG["stage1"], "lr_final": 0.0}})


def test_selection_rule_prefers_kept_lesions_then_fidelity():
    kept_low = Score(1, 35.0, 0.2, 0.90)
    kept_high = Score(2, 36.0, 0.2, 0.86)
    lost_high = Score(3, 40.0, 0.1, 0.60)
    lost_better = Score(4, 30.0, 0.3, 0.70)
    unknown = Score(5, 37.0, 0.2, math.nan)
    assert is_better(kept_low, None, 0.85)
    assert is_better(kept_high, kept_low, 0.85)
    assert not is_better(kept_low, kept_high, 0.85)
    assert not is_better(lost_high, kept_low, 0.85)  # fidelity does not buy lost lesions
    assert is_better(kept_low, lost_high, 0.85)
    assert is_better(lost_better, lost_high, 0.85)  # none keeps them: the best contrast
    assert is_better(unknown, kept_high, 0.85)  # no lesions to judge: PSNR decides
    assert is_better(lost_high, kept_low, 0.0)  # floor 0: PSNR only


def test_subject_scores_psnr_and_contrast():
    conventional = np.array([1.0] * 8 + [2.0] * 6)
    lesions = np.zeros(14, bool)
    lesions[8:] = True
    nawm = np.zeros(14, bool)
    nawm[:8] = True
    subject = ValidationSubject("v", torch.zeros(14, 8), conventional, lesions, nawm)
    psnr, nrmse, contrast = subject_scores(3 * conventional, subject)  # scale-free
    assert psnr == math.inf and nrmse == 0 and contrast == pytest.approx(1.0)
    erased = np.ones(14)
    psnr, nrmse, contrast = subject_scores(erased, subject)
    assert contrast == pytest.approx(0.5) and np.isfinite(psnr) and nrmse > 0
    unlabelled = ValidationSubject("v", torch.zeros(14, 8), conventional, None, None)
    assert math.isnan(subject_scores(erased, unlabelled)[2])


@pytest.fixture(scope="module")
def cohort(tiny_cohort, tmp_path_factory):
    """2 training subjects and a validation manifest of a third with lesion map and dseg."""
    from train_cohort import write_cohort

    from synflair.nifti import load_data, save

    root = tmp_path_factory.mktemp("validation")
    manifest = write_cohort(root, 1, seed=5)
    row = pd.read_csv(manifest, sep="\t").iloc[0]
    conventional, image = load_data(row["conventional"], ndim=3)
    mask = load_data(row["mask"], ndim=3)[0] > 0
    wm_level = np.median(conventional[mask])
    lesions = (conventional > 1.4 * wm_level) & mask  # the bright blob of the tiny head
    dseg = np.where(mask, 3, 0).astype(np.uint8)
    save(lesions.astype(np.uint8), image.affine, root / "lesions.nii.gz", dtype=np.uint8)
    save(dseg, image.affine, root / "dseg.nii.gz", dtype=np.uint8)
    frame = pd.read_csv(manifest, sep="\t").assign(
        subject="v00", lesions=str(root / "lesions.nii.gz"), dseg=str(root / "dseg.nii.gz")
    )
    validation = root / "validation.tsv"
    frame.to_csv(validation, sep="\t", index=False)
    return tiny_cohort, validation


def test_training_with_selection_keeps_the_best_validation_weights(cohort, tmp_path):
    manifest, validation_path = cohort
    config = config_from_dict(RECIPE)
    rule = InputNormalization()
    data = load_training_data(read_manifest(manifest), rule)
    rows = read_validation_manifest(validation_path)
    validation = load_validation(rows, rule)
    assert validation[0].lesions.sum() >= 5
    out1 = train_stage(config, 1, data, out=tmp_path / "s1.pt", workdir=tmp_path / "w1",
                       validation=validation)  # fmt: skip
    assert load_model(out1).selection == {}  # stage 1 keeps its last weights
    assert not (tmp_path / "w1" / "validation.tsv").exists()
    out2 = train_stage(config, 2, data, out=tmp_path / "s2.pt", workdir=tmp_path / "w2",
                       init=load_model(out1), validation=validation)  # fmt: skip
    model = load_model(out2)
    history = pd.read_csv(tmp_path / "w2" / "validation.tsv", sep="\t")
    assert list(history["iteration"]) == [0, 4, 8, 12]  # the stage-1 weights, then every 4
    chosen = model.selection
    assert chosen["subjects"] == ["v00"]
    row = history[history["iteration"] == chosen["iteration"]].iloc[0]
    assert chosen["validation_psnr"] == pytest.approx(row["psnr"])
    best = None
    for record in history.to_dict("records"):
        score = Score(**record)
        best = score if is_better(score, best, 0.5) else best
    assert chosen["iteration"] == best.iteration
    # the weights written are those scored at that iteration
    rescored = score_generator(model.generator(), validation, chosen["iteration"])
    assert rescored.psnr == pytest.approx(row["psnr"], abs=1e-4)
    # no discriminator with adversarial 0: the stage-1 D (its initialization) is unchanged
    first = load_model(out1)
    assert all(torch.equal(first.discriminator_state[k], v)
               for k, v in model.discriminator_state.items())  # fmt: skip


def test_validation_manifest_needs_both_lesion_columns(cohort, tmp_path):
    _, validation_path = cohort
    frame = pd.read_csv(validation_path, sep="\t")
    path = tmp_path / "v.tsv"
    frame.drop(columns="dseg").to_csv(path, sep="\t", index=False)
    with pytest.raises(SynflairError, match="'dseg'"):
        read_validation_manifest(path)
    frame.assign(dseg="").to_csv(path, sep="\t", index=False)
    with pytest.raises(SynflairError, match="line 2"):
        read_validation_manifest(path)


def test_paired_plus_adversarial_trains_both_networks(cohort, tmp_path):
    manifest, _ = cohort
    mapping = {**RECIPE, "objective": {**RECIPE["objective"], "adversarial": 0.5}}
    mapping["selection"] = {"every": 0}
    config = config_from_dict(mapping)
    data = load_training_data(read_manifest(manifest), InputNormalization())
    out1 = train_stage(config, 1, data, out=tmp_path / "s1.pt", workdir=tmp_path / "w1")
    first = load_model(out1)
    out2 = train_stage(config, 2, data, out=tmp_path / "s2.pt", workdir=tmp_path / "w2",
                       init=first)  # fmt: skip
    second = load_model(out2)
    assert second.selection == {}  # no selection asked for: the last weights
    for name in ("generator_state", "discriminator_state"):
        a, b = getattr(first, name), getattr(second, name)
        assert any(not torch.equal(a[k], b[k]) for k in a if b[k].is_floating_point()), name
    losses = pd.read_csv(tmp_path / "w2" / "losses.tsv", sep="\t")
    assert np.isfinite(losses.filter(like="d_loss").to_numpy()).all()


@pytest.mark.parametrize(
    ("n", "fraction", "expected"),
    [(8, 0.25, 2), (9, 0.25, 3), (6, 0.2, 2), (2, 0.5, 1), (2, 0.9, 1), (1, 0.5, 0), (8, 0.0, 0)],
)
def test_validation_subjects_are_the_last_training_subjects(n, fraction, expected):
    from synflair.train.validation import validation_subjects

    train = [f"ph{i:02d}" for i in range(n, 0, -1)]  # unsorted on purpose
    chosen = validation_subjects(train, fraction)
    assert chosen == sorted(train)[n - expected :] if expected else chosen == []
    with pytest.raises(ValueError, match="validation fraction"):
        validation_subjects(train, 1.0)


class _StopAfter:
    def __init__(self, n):
        self.n = n

    @property
    def requested(self):
        self.n -= 1
        return self.n < 0


def test_resume_keeps_the_selection_state(cohort, tmp_path):
    from synflair.train.session import TrainingInterrupted

    manifest, validation_path = cohort
    config = config_from_dict(RECIPE)
    rule = InputNormalization()
    data = load_training_data(read_manifest(manifest), rule)
    validation = load_validation(read_validation_manifest(validation_path), rule)
    init = load_model(train_stage(config, 1, data, out=tmp_path / "s1.pt",
                                  workdir=tmp_path / "w1"))  # fmt: skip
    whole = load_model(train_stage(config, 2, data, out=tmp_path / "a.pt", init=init,
                                   workdir=tmp_path / "wa", validation=validation))  # fmt: skip
    with pytest.raises(TrainingInterrupted):
        train_stage(config, 2, data, out=tmp_path / "b.pt", workdir=tmp_path / "wb", init=init,
                    validation=validation, stop=_StopAfter(6))  # fmt: skip
    resumed = load_model(train_stage(config, 2, data, out=tmp_path / "b.pt", init=init,
                                     workdir=tmp_path / "wb", validation=validation,
                                     resume=True))  # fmt: skip
    assert resumed.selection == whole.selection
    for key, value in whole.generator_state.items():
        assert torch.equal(value, resumed.generator_state[key]), key
    history = pd.read_csv(tmp_path / "wb" / "validation.tsv", sep="\t")
    assert list(history["iteration"]) == [0, 4, 8, 12]


def test_manifest_lesions_column_is_optional(tmp_path):
    rows = "subject\tmdme\tmask\ttarget\tconventional{}\na\tm.nii\tk.nii\tt.nii\tc.nii{}\n"
    (tmp_path / "plain.tsv").write_text(rows.format("", ""))
    (tmp_path / "with.tsv").write_text(rows.format("\tlesions", "\tl.nii"))
    (tmp_path / "empty.tsv").write_text(rows.format("\tlesions", "\t"))
    assert read_manifest(tmp_path / "plain.tsv")[0].lesions is None
    assert read_manifest(tmp_path / "with.tsv")[0].lesions.name == "l.nii"
    assert read_manifest(tmp_path / "empty.tsv")[0].lesions is None


def test_a_training_subject_without_lesions_loads_with_an_empty_lesion_map(tmp_path):
    """The workflow writes an empty lesion map for a conventional FLAIR without lesions."""
    from synflair.nifti import save

    affine = np.diag([2.0, 2.0, 5.0, 1.0])
    shape = (8, 8, 2)
    rng = np.random.default_rng(0)
    paths = {k: tmp_path / f"{k}.nii.gz" for k in ("mdme", "mask", "target", "conventional")}
    save(rng.uniform(1, 2, (*shape, 8)).astype(np.float32), affine, paths["mdme"])
    save(np.ones(shape, np.uint8), affine, paths["mask"], dtype=np.uint8)
    for key in ("target", "conventional"):
        save(rng.uniform(1, 2, shape).astype(np.float32), affine, paths[key])
    rows = {"lesion": np.zeros(shape, np.uint8), "none": np.zeros(shape, np.uint8)}
    rows["lesion"][3, 3, 0] = 1
    lines = ["subject\tmdme\tmask\ttarget\tconventional\tlesions"]
    for name, lesions in rows.items():
        save(lesions, affine, tmp_path / f"{name}_lesions.nii.gz", dtype=np.uint8)
        files = "\t".join(str(paths[k]) for k in ("mdme", "mask", "target", "conventional"))
        lines.append(f"{name}\t{files}\t{tmp_path / f'{name}_lesions.nii.gz'}")
    (tmp_path / "manifest.tsv").write_text("\n".join(lines) + "\n")
    data = load_training_data(read_manifest(tmp_path / "manifest.tsv"), InputNormalization())
    assert len(data.lesion_voxels) == 1  # the one lesion voxel; the empty map adds none


def test_a_relative_recipe_trains_on_the_synthetic_flair_as_input(cohort, tmp_path):
    """data.relative: the synthetic FLAIR is the last input, and the output is relative to it."""
    from synflair import intensity
    from synflair.nifti import load_data

    manifest, validation_path = cohort
    frame = pd.read_csv(manifest, sep="\t")
    # the tiny cohort's target is its synthetic FLAIR (no CSF suppression)
    frame.assign(synthetic=frame["target"]).to_csv(tmp_path / "m.tsv", sep="\t", index=False)
    rows = read_manifest(tmp_path / "m.tsv")
    config = config_from_dict({**RECIPE, "data": {**RECIPE.get("data", {}), "relative": True}})
    rule = InputNormalization.from_config(config.data)
    first = load_training_data(rows[:1], rule)
    assert first.in_channels == 9
    synthetic, _ = load_data(rows[0].synthetic, ndim=3)
    mask = load_data(rows[0].mask, ndim=3)[0] > 0
    scaled, _ = intensity.to_common_scale(synthetic, mask, rule.intracranial_mean)
    voxels = first.slices[:, 8][first.slices[:, 8] != 0]
    expected = np.sort(scaled[mask] / rule.target_divisor)
    np.testing.assert_allclose(np.sort(voxels.numpy())[-50:], expected[-50:], rtol=1e-5)
    data = load_training_data(rows, rule)
    with pytest.raises(SynflairError, match="'synthetic' column"):
        load_training_data(read_manifest(manifest), rule)
    validation = load_validation(read_validation_manifest(validation_path), InputNormalization())
    out1 = train_stage(config, 1, data, out=tmp_path / "s1.pt", workdir=tmp_path / "w1")
    model = load_model(out1)
    assert model.normalization.relative and model.generator().relative
    assert validation[0].inputs.shape[1] == 8  # a plain rule loads no synthetic channel
