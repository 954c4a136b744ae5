"""One virtual subject: draw every random parameter, then simulate the images.

:func:`draw_subject` draws everything random about a subject into a frozen
:class:`SubjectParameters` from one ``rng``, giving each random step its own
child stream (``rng.spawn``), so that changing one step's draws leaves the
others unchanged. :func:`simulate_subject` is deterministic: the same
parameters give the same arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synflair.phantom import acquisition
from synflair.phantom.anatomy import Template
from synflair.phantom.atrophy import Atrophy, apply_atrophy, draw_atrophy
from synflair.phantom.deformation import (
    HEAD_CENTER_MNI,
    Deformation,
    Pose,
    draw_deformation,
    draw_motion,
    draw_pose,
)
from synflair.phantom.fields import (
    B1Field,
    BackgroundPhase,
    ReceiveBias,
    draw_b1,
    draw_background_phase,
    draw_receive_bias,
)
from synflair.phantom.flow import FlowPerturbation, draw_flow, flow_maps
from synflair.phantom.lesions import Lesion, draw_lesions, render_composition
from synflair.phantom.presets import PhantomPreset
from synflair.phantom.sampling import sample_maps
from synflair.phantom.scalp import ScalpLayers, draw_scalp, scalp_fractions
from synflair.phantom.tissues import COMPARTMENTS, TissueValues, draw_tissues
from synflair.physics import CONVENTIONAL_FLAIR, MDME_PAPER

__all__ = [
    "STREAMS",
    "SubjectAnatomy",
    "SubjectImages",
    "SubjectParameters",
    "draw_subject",
    "pool_fractions",
    "simulate_subject",
]

#: The random steps, each drawn from its own child of the subject's generator.
STREAMS = (
    "pose",
    "deformation",
    "atrophy",
    "lesions",
    "tissues",
    "scalp",
    "b1",
    "bias",
    "phase",
    "flow",
    "motion",
    "noise",
    "flair_bias",
)
_CSF = COMPARTMENTS.index("CSF")
_WM = COMPARTMENTS.index("WM")
_LESION = COMPARTMENTS.index("lesion")


@dataclass(frozen=True, eq=False)
class SubjectParameters:
    """Everything random about one subject (see :func:`draw_subject`).

    ``bias`` is the receive sensitivity of the MDME raw images (uncorrected, as
    the quantification receives them); ``flair_bias`` that of the conventional
    FLAIR, a separate series that the scanner's surface-coil intensity
    correction has already flattened differently. Both are fixed in the scanner
    frame, so the head moving between the series also changes what it sees.
    """

    pose: Pose
    deformation: Deformation
    atrophy: Atrophy
    lesions: tuple[Lesion, ...]
    tissues: TissueValues
    scalp: ScalpLayers
    b1: B1Field
    bias: ReceiveBias
    phase: BackgroundPhase
    flow: FlowPerturbation
    motion: Pose
    noise_seed: int
    flair_bias: ReceiveBias

    @property
    def head_center(self) -> np.ndarray:
        """The head centre in the scanner (MDME) frame, RAS mm."""
        return (self.pose.matrix() @ np.append(HEAD_CENTER_MNI, 1.0))[:3]

    def motion_matrix(self) -> np.ndarray:
        """4x4 ``M`` with ``x_flair = M @ x_mdme`` for a point of the head (scanner RAS)."""
        return self.motion.matrix(center=self.head_center)


def _slab_mask(template: Template, pose: Pose, preset: PhantomPreset) -> np.ndarray:
    """Template voxels that the pose puts inside the imaged slab."""
    g = preset.geometry
    to_scanner = pose.matrix() @ template.affine
    half = 0.5 * ((g.n_slices - 1) * g.slice_step + g.slice_thickness)
    # Axial slices: the slab coordinate is the scanner z (RAS superior).
    a = to_scanner[2, :3]
    b = to_scanner[2, 3] - g.center_mni[2]
    i, j, k = (np.arange(n, dtype=np.float32) for n in template.shape)
    z = a[0] * i[:, None, None] + a[1] * j[None, :, None] + a[2] * k[None, None, :] + b
    return np.abs(z) <= half


def draw_subject(
    rng: np.random.Generator, preset: PhantomPreset, template: Template
) -> SubjectParameters:
    """Draw one subject's parameters.

    Parameters
    ----------
    rng : numpy.random.Generator
        The subject's generator; one child stream per name in :data:`STREAMS`.
    preset : PhantomPreset
        Geometry (lesions are placed inside the imaged slab) and model settings.
    template : Template

    Returns
    -------
    SubjectParameters
    """
    streams = dict(zip(STREAMS, rng.spawn(len(STREAMS)), strict=True))
    m = preset.model
    pose = draw_pose(streams["pose"], m.rotation_deg, m.translation_mm, m.scale_range)
    center = (pose.matrix() @ np.append(HEAD_CENTER_MNI, 1.0))[:3]
    return SubjectParameters(
        pose=pose,
        deformation=draw_deformation(
            streams["deformation"],
            template.affine,
            template.shape,
            m.deformation_mm,
            m.deformation_smoothness_mm,
        ),
        atrophy=draw_atrophy(streams["atrophy"], m.atrophy_sulcal_mm, m.atrophy_ventricular_mm),
        lesions=draw_lesions(
            streams["lesions"],
            template,
            m.max_lesions,
            _slab_mask(template, pose, preset),
            severity=m.lesion_severity,
            edge=m.lesion_edge,
            black_hole_fraction=m.black_hole_fraction,
            fluid=m.black_hole_fluid,
        ),
        tissues=draw_tissues(streams["tissues"], m.tissue_spread),
        scalp=draw_scalp(streams["scalp"]),
        b1=draw_b1(streams["b1"], center, m.b1_deviation),
        bias=draw_receive_bias(streams["bias"], center, m.bias_strength, m.coil_gain),
        phase=draw_background_phase(streams["phase"], center, len(MDME_PAPER.te)),
        flow=draw_flow(
            streams["flow"], m.flow_fraction, m.flow_inflow, m.flow_loss, m.flow_phase_rad
        ),
        motion=draw_motion(streams["motion"], m.motion_rotation_deg, m.motion_translation_mm),
        noise_seed=int(streams["noise"].integers(0, 2**63 - 1)),
        flair_bias=draw_receive_bias(streams["flair_bias"], center, m.flair_bias_strength),
    )


class SubjectAnatomy:
    """A subject's template-space maps and the map from scanner points to compartments.

    Parameters
    ----------
    params : SubjectParameters
    template : Template
    """

    def __init__(self, params: SubjectParameters, template: Template):
        wm, gm = apply_atrophy(template, params.atrophy)
        lesion, normal, fluid = render_composition(params.lesions, template, wm)
        self.params = params
        self.template = template
        self.maps = {
            "icv": template.icv,
            "WM": wm - lesion,
            "GM": gm,
            "lesion": lesion,
            "lesion_normal": normal,
            "lesion_fluid": fluid,
            "distance": template.icv_distance,
            "ventricles": template.ventricles,
        }

    def fractions(
        self,
        points: np.ndarray,
        motion: np.ndarray | None = None,
        ventricles: bool = False,
        composition: bool = False,
    ):
        """Compartment fractions at scanner ``points``.

        Parameters
        ----------
        points : numpy.ndarray, shape (3, ...)
            Scanner RAS positions, mm.
        motion : numpy.ndarray, shape (4, 4), optional
            Head motion ``M`` (scanner -> scanner) applied before imaging.
        ventricles : bool
            Also return the ventricle/cistern indicator.
        composition : bool
            Also return the lesions' normal-appearing and fluid parts.

        Returns
        -------
        fractions : numpy.ndarray of float32, shape (len(COMPARTMENTS), ...)
            Intracranial fractions sum to the intracranial fraction; all sum to <= 1.
        ventricles : numpy.ndarray of float32, shape (...), only if requested
        composition : numpy.ndarray of float32, shape (2, ...), only if requested
            Fractions of the voxel that are the normal-appearing and the fluid part
            of lesion tissue (see :func:`pool_fractions`).
        """
        shape = np.shape(points)[1:]
        flat = np.asarray(points, dtype=np.float64).reshape(3, -1)
        to_head = np.linalg.inv(self.params.pose.matrix())
        if motion is not None:
            to_head = to_head @ np.linalg.inv(motion)
        template_points = self.params.deformation(to_head[:3, :3] @ flat + to_head[:3, 3:4])
        inverse = np.linalg.inv(self.template.affine).astype(np.float32)
        index = inverse[:3, :3] @ template_points + inverse[:3, 3:4]

        names = ["icv", "WM", "GM", "lesion", "distance"]
        names += ["ventricles"] * ventricles + ["lesion_normal", "lesion_fluid"] * composition
        sample = dict(zip(names, sample_maps([self.maps[n] for n in names], index), strict=True))

        icv = sample["icv"]
        out = np.zeros((len(COMPARTMENTS), flat.shape[1]), dtype=np.float32)
        for name in ("WM", "GM", "lesion"):
            out[COMPARTMENTS.index(name)] = sample[name]
        out[_CSF] = np.clip(icv - out.sum(axis=0), 0.0, 1.0)
        scalp = scalp_fractions(sample["distance"], template_points, self.params.scalp)
        extra = sum(scalp.values())
        scale = np.where(icv + extra > 1.0, np.clip(1.0 - icv, 0, 1) / np.maximum(extra, 1e-6), 1)
        for name, value in scalp.items():
            out[COMPARTMENTS.index(name)] = value * scale
        out = out.reshape((len(COMPARTMENTS), *shape))
        extra = []
        if ventricles:
            extra.append(sample["ventricles"].reshape(shape))
        if composition:
            parts = [sample[n].reshape(shape) for n in ("lesion_normal", "lesion_fluid")]
            extra.append(np.minimum(np.stack(parts), out[_LESION]))
        return (out, *extra) if extra else out


def pool_fractions(fractions: np.ndarray, composition: np.ndarray) -> np.ndarray:
    """The fractions of the water pools the signal sums (:data:`SIGNAL_POOLS`).

    The normal-appearing part of lesion tissue relaxes like white matter and the
    fluid part like CSF (without flow); the lesion pool keeps the abnormal rest.

    Parameters
    ----------
    fractions : numpy.ndarray, shape (len(COMPARTMENTS), ...)
        Compartment fractions (the truth).
    composition : numpy.ndarray, shape (2, ...)
        Normal-appearing and fluid fractions of the voxel, each inside the lesion
        fraction (:meth:`SubjectAnatomy.fractions`).

    Returns
    -------
    numpy.ndarray of float32, shape (len(SIGNAL_POOLS), ...)
        Sums to the same total as ``fractions``.
    """
    normal, fluid = np.asarray(composition, dtype=np.float32)
    pools = np.concatenate([np.asarray(fractions, dtype=np.float32), fluid[None]])
    pools[_WM] += normal
    pools[_LESION] = np.maximum(pools[_LESION] - normal - fluid, 0.0)
    return pools


@dataclass(frozen=True, eq=False)
class SubjectImages:
    """The simulated series and the ground truth on the reconstruction grid.

    Attributes
    ----------
    affine : numpy.ndarray, shape (4, 4)
        RAS affine of the reconstruction grid (both series share the prescription).
    mdme : numpy.ndarray of complex64, shape (M_i, M_j, K, 8)
        MDME raw images, delay-major.
    flair : numpy.ndarray of float32, shape (M_i, M_j, K)
        Conventional FLAIR magnitude (with head motion).
    fractions : numpy.ndarray of float32, shape (len(COMPARTMENTS), M_i, M_j, K)
        Compartment fractions (slice-profile weighted, cell averaged), MDME space.
    fractions_flair : numpy.ndarray of float32, same shape
        The same in the conventional FLAIR's geometry: the moved head as the FLAIR's
        slices (same prescription, same profile) cut it. With head motion, a lesion
        that fills an MDME slice can straddle two FLAIR slices; this is what the
        FLAIR images.
    b1 : numpy.ndarray of float32, shape (M_i, M_j, K)
    flair_noisefree : numpy.ndarray of float32, shape (M_i, M_j, K)
        Conventional FLAIR without noise and motion, in MDME space.
    """

    affine: np.ndarray
    mdme: np.ndarray
    flair: np.ndarray
    fractions: np.ndarray
    b1: np.ndarray
    flair_noisefree: np.ndarray
    fractions_flair: np.ndarray


def simulate_subject(
    params: SubjectParameters, preset: PhantomPreset, template: Template
) -> SubjectImages:
    """Simulate the MDME and conventional FLAIR series of one subject, and the truth.

    Deterministic in its arguments. See :mod:`synflair.phantom.acquisition` for the
    signal chain.
    """
    g = preset.geometry
    anatomy = SubjectAnatomy(params, template)
    sim_shape, recon = g.sim_matrix, g.recon_matrix
    sim_affine = acquisition.grid_affine(g, sim_shape)
    recon_affine = acquisition.grid_affine(g, recon)
    normal = sim_affine[:3, 2] / np.linalg.norm(sim_affine[:3, 2])
    offsets, weights = acquisition.slice_profile(g.slice_thickness, g.profile_samples)
    motion = params.motion_matrix()
    n_vol, n_slices = MDME_PAPER.n_volumes, g.n_slices

    mdme = np.zeros((*recon, n_slices, n_vol), dtype=np.complex64)
    flair = np.zeros((*recon, n_slices), dtype=np.float32)
    noisefree = np.zeros_like(flair)
    fractions = np.zeros((len(COMPARTMENTS), *recon, n_slices), dtype=np.float32)
    fractions_flair = np.zeros_like(fractions)
    b1_truth = np.zeros_like(flair)

    for k in range(n_slices):
        center = acquisition.plane_points(sim_affine, sim_shape, k)
        through = center[:, None] + offsets[None, :, None, None] * normal[:, None, None, None]
        profile = weights.astype(np.float32)[:, None, None]
        frac_mdme, vent, pools_mdme = _slice_pools(anatomy, through, profile, None)
        frac_flair, _, pools_flair = _slice_pools(anatomy, through, profile, motion)
        bias = params.bias(center).astype(np.float32)
        mdme[:, :, k, :] = _mdme_slice(params, preset, k, center, pools_mdme, vent, bias)
        flair[:, :, k], noisefree[:, :, k] = _flair_slice(
            params, preset, k, center, pools_flair, pools_mdme
        )
        fractions[..., k] = acquisition.downsample(frac_mdme, g.oversample)
        fractions_flair[..., k] = acquisition.downsample(frac_flair, g.oversample)
        b1_truth[:, :, k] = params.b1(acquisition.plane_points(recon_affine, recon, k))

    return SubjectImages(
        affine=recon_affine,
        mdme=mdme,
        flair=flair,
        fractions=fractions,
        b1=b1_truth,
        flair_noisefree=noisefree,
        fractions_flair=fractions_flair,
    )


def _slice_pools(anatomy: SubjectAnatomy, through, profile, motion):
    """Compartment fractions, ventricle fraction and pool fractions of one slice, averaged
    over the slice profile; ``motion`` moves the head (the FLAIR), None does not (MDME,
    whose ventricle fraction is returned; None for the FLAIR)."""
    if motion is None:
        fractions, vent, parts = anatomy.fractions(through, ventricles=True, composition=True)
        vent = np.einsum("s...,s...->...", vent, profile)
    else:
        fractions, parts = anatomy.fractions(through, motion=motion, composition=True)
        vent = None
    fractions = np.einsum("cs...,s...->c...", fractions, profile)
    pools = pool_fractions(fractions, np.einsum("cs...,s...->c...", parts, profile))
    return fractions, vent, pools


def _mdme_slice(params, preset: PhantomPreset, k: int, center, pools, vent, bias) -> np.ndarray:
    """The reconstructed complex MDME images ``(*recon, n_volumes)`` of slice ``k``: signal
    with inflow, receive bias and background phase, then k-space truncation and noise."""
    g = preset.geometry
    t1, t2, pd = params.tissues.pool_arrays()
    sim_shape = g.sim_matrix
    inflow, factor = flow_maps(
        params.flow, sim_shape, g.fov / sim_shape[0], MDME_PAPER.n_volumes, k,
        propensity=0.4 + 0.6 * vent,
    )  # fmt: skip
    signal = acquisition.mdme_signal(
        pools,
        t1,
        t2,
        pd,
        params.b1(center),
        MDME_PAPER,
        csf_index=_CSF,
        inflow=inflow,
        flow_factor=factor,
    )
    echo_of_volume = np.tile(np.arange(len(MDME_PAPER.te)), len(MDME_PAPER.td))
    phases = np.stack([params.phase(center, e) for e in range(len(MDME_PAPER.te))])
    signal *= bias * np.exp(1j * phases[echo_of_volume]).astype(np.complex64)
    rng = np.random.default_rng([params.noise_seed, 0, k])
    return np.moveaxis(
        acquisition.kspace_truncate(
            signal, g.mdme_matrix, g.recon_matrix, noise_sigma=preset.noise_sigma("mdme"), rng=rng
        ),
        0,
        -1,
    )


def _flair_slice(params, preset: PhantomPreset, k: int, center, pools_flair, pools_mdme):
    """Slice ``k`` of the conventional FLAIR (moved head, noise) and of its noise-free,
    unmoved truth."""
    g = preset.geometry
    t1, t2, pd = params.tissues.pool_arrays()
    flair_bias = params.flair_bias(center).astype(np.float32)
    flair_signed = flair_bias * acquisition.flair_signal(
        pools_flair, t1, t2, pd, CONVENTIONAL_FLAIR
    )
    rng = np.random.default_rng([params.noise_seed, 1, k])
    flair = np.abs(
        acquisition.kspace_truncate(
            flair_signed, g.flair_matrix, g.recon_matrix,
            noise_sigma=preset.noise_sigma("flair"), rng=rng,
        )
    )  # fmt: skip
    truth_signed = flair_bias * acquisition.flair_signal(pools_mdme, t1, t2, pd, CONVENTIONAL_FLAIR)
    noisefree = np.abs(acquisition.kspace_truncate(truth_signed, g.flair_matrix, g.recon_matrix))
    return flair, noisefree
