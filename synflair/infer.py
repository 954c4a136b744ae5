"""DL-FLAIR from an MDME NIfTI with a trained generator: the file-level API of ``synflair infer``.

:func:`infer_file` (paths in, the DL-FLAIR NIfTI out) is what the command
(:mod:`synflair.infer_cli`) and the workflow run::

    synflair infer --model stage-2/model.pt --mdme sub-01_mdme.nii.gz \\
        --mask sub-01_mask.nii.gz --out sub-01_desc-dl_FLAIR.nii.gz [--full]

**Protocol check.** A model file that records its training MDME protocol(s)
(:mod:`synflair.models.record`) is applied only to an exam whose sidecar
(``sub-01_mdme.json`` beside the NIfTI) matches one of them within the
documented tolerance; otherwise a one-line error names the parameter, the
exam's value and the model's. Model files written before the record existed
are applied with a warning that the protocol is not checked.

The output lies on the MDME grid and on the common FLAIR scale of
:mod:`synflair.intensity` (the generator output times the model's
``target_divisor``). By default only the voxels inside ``--mask`` are
evaluated and every other voxel is 0; ``--full`` (or no mask, for models
normalized over the whole volume) evaluates every voxel. The result is
deterministic: every voxel is computed independently, in fixed chunks.

**Speed on the CPU.** A naive 1x1-convolution forward spends its time in
256 sigmoid/ELU evaluations per voxel and in memory traffic between layers.
:class:`FusedGenerator` evaluates the voxels channels-last in cache-sized
chunks: one ``(chunk x C) @ (C x 256)`` matrix product for both hidden
layers, one sigmoid over all 256 units (the ELU is derived from a sigmoid of
the negated pre-activation: ``e^h - 1 = 1/sigmoid(-h) - 2``), and
matrix-vector products for the two outputs; the input normalization is folded
into the first layer's weights. Chunks are shared among worker threads (one
torch thread each), so a core that other processes slow down does not stall
the others.
"""

from __future__ import annotations

import itertools
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from synflair import nifti
from synflair.errors import SynflairError
from synflair.io.sidecar import read_mdme_sidecar, sidecar_path
from synflair.models.device import describe_device, resolve_device
from synflair.models.generator import PixelGenerator
from synflair.models.modelfile import ModelFile, load_model
from synflair.models.normalization import InputNormalization, check_mdme_volumes
from synflair.models.record import check_exam_protocol

__all__ = ["FusedGenerator", "check_protocol", "infer_file", "predict_volume"]

log = logging.getLogger(__name__)


class FusedGenerator:
    """Fast CPU evaluation of a :class:`~synflair.models.PixelGenerator` on voxel lists.

    Parameters
    ----------
    generator : PixelGenerator
    input_scale : float
        ``q`` of the normalization: raw signals are divided by it (folded into
        the first layer).
    output_scale : float
        The output is multiplied by it (the model's ``target_divisor``).
    magnitude : bool
        Take ``|S|`` of the raw signals first.
        A relative generator's last column is the synthetic FLAIR times
        ``input_scale`` (so that the folded scale gives back the normalized value),
        and the output is multiplied by it too.
    chunk : int
        Voxels per chunk (1024: the two ``chunk x 256`` float32 buffers fit a
        2 MiB L2 cache).
    """

    def __init__(
        self,
        generator: PixelGenerator,
        input_scale: float = 1.0,
        output_scale: float = 1.0,
        *,
        magnitude: bool = False,
        chunk: int = 1024,
    ) -> None:
        if not input_scale > 0 or not output_scale > 0:
            raise ValueError(f"scales must be > 0, not {input_scale!r}, {output_scale!r}")
        if chunk < 1:
            raise ValueError(f"chunk must be a positive integer, not {chunk!r}")
        with torch.no_grad():
            g = generator
            w_s = g.signal_hidden.weight[:, :, 0, 0].double()
            w_g = g.suppression_hidden.weight[:, :, 0, 0].double()
            # columns [0, h): signal pre-activations; [h, 2h): negated suppression pre-activations
            weight = torch.cat([w_s, -w_g]).T / float(input_scale)
            bias = torch.cat([g.signal_hidden.bias, -g.suppression_hidden.bias]).double()
            out_s = g.signal_out.weight[0, :, 0, 0].double()
            out_g = g.suppression_out.weight[0, :, 0, 0].double()
            self.weight = weight.float().contiguous()  # (C, 2h)
            self.bias = bias.float().contiguous()
            self.out_signal = out_s.float().contiguous()
            self.out_gate = out_g.float().contiguous()
            self.bias_signal = float(g.signal_out.bias[0])
            self.bias_gate = float(g.suppression_out.bias[0] - 2.0 * out_g.sum())
        self.hidden = g.hidden
        self.in_channels = g.in_channels
        self.relative = g.relative
        self.input_scale = float(input_scale)
        self.output_scale = float(output_scale)
        self.magnitude = magnitude
        self.chunk = int(chunk)

    def _evaluate(self, x: torch.Tensor, out: torch.Tensor, buffers) -> None:
        """Evaluate one chunk ``x (m, C)`` into ``out (m,)``."""
        inputs, pre, act, signal, gate, tmp = (b[: x.shape[0]] for b in buffers)
        h = self.hidden
        # a contiguous copy: the same matrix-product kernel whatever the caller's layout
        if self.magnitude:
            torch.abs(x, out=inputs)
        else:
            inputs.copy_(x)
        torch.addmm(self.bias, inputs, self.weight, out=pre)
        torch.sigmoid(pre, out=act)
        # suppression stream: act = sigmoid(-h_g) = u, pre = -h_g
        #   elu(h_g) = relu(h_g) + min(e^h_g - 1, 0) = -min(-h_g, 0) + min(1/u, 2) - 2
        act[:, h:].reciprocal_().clamp_(max=2.0)
        pre[:, h:].clamp_(max=0.0)
        torch.mv(act[:, h:], self.out_gate, out=gate)
        torch.mv(pre[:, h:], self.out_gate, out=tmp)
        gate.sub_(tmp).add_(self.bias_gate).sigmoid_()
        # signal stream: (w . sigmoid(h_s) + b)^2
        torch.mv(act[:, :h], self.out_signal, out=signal)
        signal.add_(self.bias_signal).square_()
        torch.mul(signal, gate, out=out).mul_(self.output_scale)
        if self.relative:  # times the synthetic FLAIR (the last input), normalized
            out.mul_(inputs[:, -1].abs()).div_(self.input_scale)

    def __call__(self, voxels: np.ndarray | torch.Tensor, threads: int | None = None) -> np.ndarray:
        """FLAIR of each voxel.

        Parameters
        ----------
        voxels : array_like
            ``(n, C)`` float32 raw signals (any strides, e.g. an F-ordered volume
            reshaped; no copy is made).
        threads : int, optional
            Worker threads (default: ``torch.get_num_threads()``).

        Returns
        -------
        numpy.ndarray
            ``(n,)`` float32.
        """
        x = torch.as_tensor(voxels)
        if x.ndim != 2 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"voxels must have shape (n, {self.in_channels}), not {tuple(x.shape)}"
            )
        x = x.float()
        n = x.shape[0]
        out = torch.empty(n, dtype=torch.float32)
        starts = range(0, n, self.chunk)
        threads = max(1, min(threads or torch.get_num_threads(), len(starts)))
        counter = itertools.count()

        def worker() -> None:
            c, h2 = self.chunk, 2 * self.hidden
            buffers = (
                torch.empty(c, self.in_channels),
                torch.empty(c, h2),
                torch.empty(c, h2),
                *(torch.empty(c) for _ in range(3)),
            )
            while (index := next(counter)) < len(starts):
                s = starts[index]
                self._evaluate(x[s : s + c], out[s : s + c], buffers)

        previous = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with torch.no_grad():
                if threads == 1:
                    worker()
                else:
                    with ThreadPoolExecutor(threads) as pool:
                        for future in [pool.submit(worker) for _ in range(threads)]:
                            future.result()
        finally:
            torch.set_num_threads(previous)
        return out.numpy()


def _voxels(mdme: np.ndarray, mask: np.ndarray | None):
    """``(n, C)`` signals of the voxels in ``mask`` (all if None), gathered in memory order.

    Returns the voxels (a view when possible), the flat voxel indices (None for
    all) and the memory order (``"F"`` or ``"C"``) the indices refer to.
    """
    order = "F" if mdme.flags.f_contiguous else "C"
    channels = mdme.shape[3]
    flat = mdme.reshape(-1, channels, order=order)  # a view for either layout
    if mask is None:
        return flat, None, order
    index = np.flatnonzero(mask.ravel(order=order))
    if order == "C":
        return flat[index], index, order
    # channel-major memory: gather each channel with one sequential pass
    gathered = np.empty((channels, index.size), dtype=mdme.dtype)
    for c in range(channels):
        np.take(flat[:, c], index, out=gathered[c])
    return gathered.T, index, order


def predict_volume(
    model: ModelFile,
    mdme: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    full: bool = False,
    device: str | torch.device = "cpu",
    threads: int | None = None,
    name: str = "MDME",
    synthetic: np.ndarray | None = None,
) -> np.ndarray:
    """DL-FLAIR of one MDME volume, on the common FLAIR scale.

    Parameters
    ----------
    model : ModelFile
    mdme : numpy.ndarray
        ``(X, Y, Z, C)`` MDME signals (C = the model's MDME channels).
    mask : numpy.ndarray of bool, optional
        ``(X, Y, Z)`` intracranial mask: the normalization region (when the
        model normalizes inside it) and, unless ``full``, the voxels evaluated.
    full : bool
        Evaluate every voxel, not only those in ``mask``.
    device : str or torch.device
        ``cpu`` uses :class:`FusedGenerator`; ``cuda`` the network on the GPU.
    threads : int, optional
        CPU worker threads.
    name : str
        Names the MDME in errors.
    synthetic : numpy.ndarray, optional
        ``(X, Y, Z)`` synthetic FLAIR of the same exam; required by ``relative``
        models (with ``mask``: it is brought to the common scale inside it).

    Returns
    -------
    numpy.ndarray
        ``(X, Y, Z)`` float32, finite; 0 outside the mask unless ``full``.

    Raises
    ------
    SynflairError
        For inputs that do not fit the model, or a prediction holding a
        non-finite voxel (never written).
    """
    rule: InputNormalization = model.normalization
    check_mdme_volumes(mdme.shape, rule.mdme_channels, rule.inputs, name)
    if mask is not None and mask.shape != mdme.shape[:3]:
        raise SynflairError(f"{name}: mask shape {mask.shape} != image grid {mdme.shape[:3]}")
    if mask is None and (rule.needs_mask or rule.relative):
        raise SynflairError(
            f"{model.path}: the model normalizes its inputs inside the intracranial mask; "
            "pass --mask"
        )
    evaluate_all = full or mask is None
    voxels, index, order = _voxels(mdme, None if evaluate_all else mask)
    q = _input_scale(rule, mdme, mask, voxels, evaluate_all, name)
    if rule.relative:
        voxels = _with_synthetic(model, voxels, index, order, synthetic, mask, q)
    generator = model.generator()
    device = torch.device(device)
    if device.type == "cpu":
        fused = FusedGenerator(
            generator, q, rule.target_divisor, magnitude=rule.inputs == "magnitude"
        )
        values = fused(voxels, threads=threads)
    else:
        values = _predict_torch(generator, voxels, q, rule, device)
    bad = values.size - int(np.count_nonzero(np.isfinite(values)))
    if bad:
        raise SynflairError(
            f"{model.path}: the prediction for {name} holds {bad} non-finite voxel(s) "
            f"(NaN or inf) of {values.size} evaluated; nothing written (the model's weights "
            "or the MDME signals are out of range)"
        )
    result = np.zeros(mdme.shape[:3], dtype=np.float32, order=order)
    flat = result.reshape(-1, order=order)  # a view
    flat[slice(None) if index is None else index] = values
    return result


def _input_scale(rule, mdme, mask, voxels, evaluate_all, name) -> float:
    """The normalization's ``q`` over its region (``voxels``: those to be evaluated)."""
    if not rule.needs_mask:
        return rule.input_scale(mdme, None, name)
    if evaluate_all:
        return rule.input_scale(_voxels(mdme, mask)[0], None, name)
    return rule.input_scale(voxels, None, name)


def _synthetic_missing(model: ModelFile) -> SynflairError:
    """The refusal of a ``relative`` model given no synthetic FLAIR."""
    return SynflairError(
        f"{model.path}: the model's output is relative to the synthetic FLAIR "
        "(data.relative: true); pass the exam's synthetic FLAIR with --synthetic"
    )


def _with_synthetic(model, voxels, index, order, synthetic, mask, q) -> np.ndarray:
    """``voxels (n, C)`` with the synthetic FLAIR (normalized, times ``q``) as column C+1.

    Times ``q`` because every column is divided by ``q`` next (:class:`FusedGenerator`
    folds it into the first layer), which gives back the normalized value.
    """
    if synthetic is None:
        raise _synthetic_missing(model)
    if synthetic.shape != mask.shape:
        raise SynflairError(
            f"synthetic FLAIR shape {synthetic.shape} != MDME image grid {mask.shape}"
        )
    scaled = model.normalization.normalize_target(synthetic, mask, name="the synthetic FLAIR")
    column = np.asarray(scaled, dtype=np.float32).reshape(-1, order=order)
    column = column if index is None else column[index]
    return np.column_stack([voxels, column * np.float32(q)]).astype(np.float32, copy=False)


@torch.no_grad()
def _predict_torch(generator, voxels, q, rule, device, chunk=1 << 22) -> np.ndarray:
    """The network itself on ``device`` (GPU path), in chunks of voxels."""
    generator = generator.to(device)
    out = np.empty(voxels.shape[0], dtype=np.float32)
    for s in range(0, voxels.shape[0], chunk):
        x = torch.as_tensor(np.ascontiguousarray(voxels[s : s + chunk]), device=device)
        x = (x.abs() if rule.inputs == "magnitude" else x) / q
        out[s : s + chunk] = (generator.forward_voxels(x) * rule.target_divisor).cpu().numpy()
    return out


def check_protocol(
    model: ModelFile, mdme: str | os.PathLike, sidecar: str | os.PathLike | None = None
) -> None:
    """Raise unless the exam's MDME protocol fits the model's training protocol.

    ``sidecar`` defaults to the JSON beside ``mdme``. A model that records no
    protocol (written before synflair recorded it) is accepted with a warning.
    """
    record = model.trained_on
    if record is None or not record.protocols:
        log.warning(
            "%s records no training MDME protocol (a model file written before synflair "
            "recorded it): the exam's protocol is NOT checked against the model's",
            model.path,
        )
        return
    path = Path(sidecar) if sidecar else sidecar_path(mdme)
    if not path.is_file():
        raise SynflairError(
            f"{path}: no such file (expected the MDME JSON sidecar of {mdme}; model "
            f"{model.path} records its training protocol, which the exam's must match)"
        )
    exam = read_mdme_sidecar(path, image=mdme)
    check_exam_protocol(record, exam, model=model.path, name=str(path))


def _synthetic_flair(model: ModelFile, path, mdme_image, mdme_path) -> np.ndarray | None:
    """The synthetic FLAIR a ``relative`` model needs (None for the others), on the MDME grid."""
    if not model.normalization.relative:
        if path:
            log.info("%s: not a relative model; --synthetic %s is not used", model.path, path)
        return None
    if not path:
        raise _synthetic_missing(model)
    data, image = nifti.load_data(path, ndim=3)
    nifti.check_same_grid(image, mdme_image, path, mdme_path)
    return data


def infer_file(
    *,
    model: str | os.PathLike,
    mdme: str | os.PathLike,
    out: str | os.PathLike,
    mask: str | os.PathLike | None = None,
    sidecar: str | os.PathLike | None = None,
    full: bool = False,
    device: str = "cpu",
    threads: int | None = None,
    synthetic: str | os.PathLike | None = None,
) -> Path:
    """Write the DL-FLAIR of one MDME NIfTI (on its grid, on the common FLAIR scale).

    Parameters
    ----------
    model : path-like
        Model file (or a training checkpoint).
    mdme : path-like
        4D MDME NIfTI (8 images, delay-major; 16 for ``real_imag`` models).
    out : path-like
        The DL-FLAIR NIfTI to write (atomically).
    mask : path-like, optional
        Intracranial mask on the MDME grid (required by models that normalize
        inside it).
    sidecar : path-like, optional
        The MDME sidecar (default: the JSON beside ``mdme``), checked against
        the model's training protocol.
    full : bool
        Evaluate every voxel, not only the mask.
    device : {"cpu", "cuda", "auto"}
    threads : int, optional
        CPU worker threads.
    synthetic : path-like, optional
        The exam's synthetic FLAIR on the MDME grid (``synflair quantify``);
        required by ``relative`` models, unused by the others.

    Raises
    ------
    SynflairError
        For a bad model file, an exam that does not fit it (volumes, grid,
        protocol), or a non-finite prediction; nothing is written then.
    """
    if threads is not None and threads < 1:
        raise SynflairError(f"--threads must be a positive integer, not {threads!r}")
    loaded = load_model(model, allow_checkpoint=True)
    image = nifti.load(mdme)
    rule = loaded.normalization
    check_mdme_volumes(image.shape, rule.mdme_channels, rule.inputs, mdme)
    check_protocol(loaded, mdme, sidecar)
    volume_mask = None
    if mask:
        volume_mask = nifti.load_mask(mask, reference=image, reference_path=mdme)
    synthetic_flair = _synthetic_flair(loaded, synthetic, image, mdme)
    signals, _ = nifti.load_data(mdme, ndim=4)
    target = resolve_device(device)
    log.info("inference on %s (--device %s)", describe_device(target), device)
    flair = predict_volume(
        loaded,
        signals,
        volume_mask,
        full=full,
        device=target,
        threads=threads,
        name=str(mdme),
        synthetic=synthetic_flair,
    )
    written = nifti.save(flair, image.affine, Path(os.fspath(out)))
    log.info("wrote %s (stage-%d model %s)", written, loaded.stage, loaded.path)
    if loaded.trained_on is not None:
        log.info("the model was trained on %s", loaded.trained_on.describe())
    if loaded.selection:
        chosen = loaded.selection
        log.info(
            "the model's weights: iteration %s, chosen on validation subjects %s (%s)",
            chosen.get("iteration"),
            ", ".join(chosen.get("subjects", [])),
            chosen.get("rule", ""),
        )
    return written
