"""The input normalization of a model: the generator's input representation and scaling.

Stored with every model file (:mod:`synflair.models.modelfile`) so that
inference applies the rule the model was trained with:

* inputs: ``x_c = S_c / q`` with ``q`` the ``input_percentile``-th percentile
  of ``|S|`` over all channels and all voxels inside the intracranial mask
  (``input_region: intracranial``, the default; or over the whole volume with
  ``input_region: volume``, so that inference needs no mask). Magnitudes are
  taken first for ``inputs: magnitude``. This removes the receiver gain, which
  differs between subjects and scanners, while the ratios between the 8
  images, which carry the relaxation information, are kept.
* FLAIR targets: brought to the common scale of :mod:`synflair.intensity`
  (intracranial mean 2000) and divided by ``target_divisor``; the generator's
  output times ``target_divisor`` is on the common scale.
* ``relative`` models (``data.relative``): the subject's synthetic FLAIR, scaled
  like a target, is one more input channel, the last; the generator's output is
  that channel times a learned non-negative factor
  (:class:`synflair.models.generator.PixelGenerator`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from synflair import intensity
from synflair.errors import SynflairError

__all__ = [
    "INPUT_KINDS",
    "INPUT_REGIONS",
    "MDME_IMAGES",
    "InputNormalization",
    "check_mdme_volumes",
]

#: Raw images of one MDME acquisition (2 echo times x 4 saturation delays).
MDME_IMAGES = 8
#: Generator input representations -> channels per MDME image.
INPUT_KINDS = {"magnitude": 1, "real": 1, "real_imag": 2}
#: Where the input normalization statistic is taken.
INPUT_REGIONS = ("intracranial", "volume")


def check_mdme_volumes(shape: tuple[int, ...], expected: int, inputs: str, name) -> None:
    """Raise unless an MDME image of ``shape`` is 4D with ``expected`` volumes."""
    if len(shape) != 4 or shape[3] != expected:
        volumes = shape[3] if len(shape) == 4 else 1
        raise SynflairError(
            f"{name}: has {volumes} volume(s) (shape {tuple(shape)}); expected a 4D MDME image "
            f"with {expected} volumes for inputs {inputs!r} ({MDME_IMAGES} images, delay-major"
            f"{', real parts then imaginary parts' if inputs == 'real_imag' else ''})"
        )


@dataclass(frozen=True)
class InputNormalization:
    """The per-subject normalization rule, stored with the model (see the module docstring).

    Attributes
    ----------
    inputs : str
        ``magnitude``, ``real`` or ``real_imag``.
    input_percentile : float
        Percentile of ``|S|`` that inputs are divided by.
    input_region : str
        ``intracranial`` (the percentile is taken inside the intracranial mask)
        or ``volume`` (over all voxels).
    target_divisor : float
        Training targets are FLAIR on the common scale divided by this.
    intracranial_mean : float
        The common scale (:data:`synflair.intensity.INTRACRANIAL_MEAN`).
    relative : bool
        The synthetic FLAIR (:meth:`normalize_target`) is the last input channel,
        and the output is relative to it (module docstring).
    """

    inputs: str = "magnitude"
    input_percentile: float = 99.0
    input_region: str = "intracranial"
    target_divisor: float = 1000.0
    intracranial_mean: float = intensity.INTRACRANIAL_MEAN
    relative: bool = False

    @classmethod
    def from_config(cls, config) -> InputNormalization:
        """The rule implied by a training configuration's ``data`` section.

        ``config`` is a :class:`synflair.train.config.DataConfig` (read by
        attribute: ``inputs``, ``input_percentile``, ``input_region``,
        ``target_divisor``, ``relative``).
        """
        return cls(
            config.inputs,
            config.input_percentile,
            config.input_region,
            config.target_divisor,
            relative=config.relative,
        )

    @classmethod
    def from_dict(cls, mapping: dict, name="normalization") -> InputNormalization:
        """Inverse of :meth:`to_dict`; errors name ``name``."""
        try:
            rule = cls(**mapping)
        except TypeError as error:
            raise SynflairError(f"{name}: invalid normalization record {mapping!r}") from error
        valid_kind = rule.inputs in INPUT_KINDS and rule.input_region in INPUT_REGIONS
        if not valid_kind or not isinstance(rule.relative, bool):
            raise SynflairError(f"{name}: invalid normalization record {mapping!r}")
        for key, low, high in (
            ("input_percentile", 0.0, 100.0),
            ("target_divisor", 0.0, math.inf),
            ("intracranial_mean", 0.0, math.inf),
        ):
            value = getattr(rule, key)
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not (number and low < value <= high and math.isfinite(value)):
                raise SynflairError(
                    f"{name}: {key} is {value!r}, expected a finite number in ({low:g}, {high:g}]"
                )
        return rule

    def to_dict(self) -> dict:
        """Plain dict for checkpoints."""
        return asdict(self)

    @property
    def mdme_channels(self) -> int:
        """Input channels that come from the MDME image."""
        return MDME_IMAGES * INPUT_KINDS[self.inputs]

    @property
    def in_channels(self) -> int:
        """Generator input channels: the MDME's, plus the synthetic FLAIR if ``relative``."""
        return self.mdme_channels + int(self.relative)

    def signals(self, mdme: np.ndarray) -> np.ndarray:
        """The generator's raw input signals from the MDME volumes (magnitudes if asked)."""
        return np.abs(mdme) if self.inputs == "magnitude" else mdme

    @property
    def needs_mask(self) -> bool:
        """Whether :meth:`input_scale` needs the intracranial mask."""
        return self.input_region == "intracranial"

    def input_scale(self, mdme: np.ndarray, mask: np.ndarray | None, name="MDME") -> float:
        """``q``: the percentile of ``|S|`` over channels and the voxels of the region.

        Parameters
        ----------
        mdme : numpy.ndarray
            ``(X, Y, Z, C)`` MDME signals, or ``(n, C)`` signals of the voxels
            already selected by the mask (then ``mask`` is None).
        mask : numpy.ndarray of bool or None
            ``(X, Y, Z)`` intracranial mask; ignored for ``input_region: volume``.
        """
        if self.needs_mask and mask is not None:
            mdme = mdme[mask]
        elif self.needs_mask and mdme.ndim != 2:
            raise SynflairError(
                f"{name}: inputs are normalized inside the intracranial mask; a mask is needed"
            )
        values = np.abs(mdme).ravel()
        if values.size == 0:
            raise SynflairError(f"{name}: the intracranial mask is empty; cannot normalize")
        q = float(np.percentile(values, self.input_percentile))
        if not np.isfinite(q) or q <= 0:
            raise SynflairError(
                f"{name}: the {self.input_percentile}th percentile of |S| inside the mask is "
                f"{q!r}; expected a positive value (is the MDME image empty?)"
            )
        return q

    def normalize_inputs(self, mdme: np.ndarray, mask: np.ndarray, name="MDME") -> np.ndarray:
        """``(X, Y, Z, C)`` float32 generator inputs, ``signals / q``."""
        q = self.input_scale(mdme, mask, name)
        return (self.signals(mdme) / np.float32(q)).astype(np.float32, copy=False)

    def normalize_target(self, flair: np.ndarray, mask: np.ndarray, name="FLAIR") -> np.ndarray:
        """FLAIR on the common scale divided by ``target_divisor`` (float32)."""
        scaled, _ = intensity.to_common_scale(flair, mask, self.intracranial_mean, name=str(name))
        return scaled / np.float32(self.target_divisor)
