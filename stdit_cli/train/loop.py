"""The training loop: diffusion objective, EMA, checkpoints, exact resume, validation, accelerate.

Single process needs no launcher; ``accelerate launch -m stdit_cli train …`` runs data-parallel
on several GPUs (each process draws its own clips from a rank-offset seed).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from accelerate import Accelerator
from diffusers import DDPMScheduler
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel

from stdit_cli.pipeline.adapters import adapter_for
from stdit_cli.pipeline.sampler import DEFAULT_SCHEDULE, DiffusionSampler
from stdit_cli.presets import build_from_preset
from stdit_cli.train.camera_noise import CameraNoiseMix
from stdit_cli.train.compressed_noise import CompressedNoiseMix
from stdit_cli.train.real_pairs import RealPairMix
from stdit_cli.train.content import ContentMix
from stdit_cli.train.data import ClipSampler, TrainingData, load_training_data
from stdit_cli.train.distill import Teacher
from stdit_cli.train.objective import make_training_pair, sigma_loss_weight
from stdit_cli.video.atomic import temporary_name
from stdit_cli.weights import (
    SHIPPED, CheckpointError, copy_level_estimator, load_checkpoint, readable_as_umask_allows, save_checkpoint, shipped_checkpoint_dir,
)

_MIXED_PRECISION = {"fp32": "no", "bf16": "bf16", "fp16": "fp16"}
STATE_FOLDER = "training_state"
#: in it, beside accelerate's files: the EMA, the step and the generators' states (written last)
STATE_FILE = "stdit_state.pt"

#: steps between two reads of the loss on an accelerator. Reading it makes the host wait for the
#: step's last kernel, so the next step's clips and kernels could not be queued while it runs;
#: the display shows the mean over these steps (on the CPU: every step, reading costs nothing)
LOSS_READ_EVERY = 20



def _options_act(names: list[str]) -> str:
    """``--a-b acts`` / ``--a, --b act`` for config field names."""
    flags = ", ".join("--" + name.replace("_", "-") for name in names)
    return flags + (" acts" if len(names) == 1 else " act")


def idle_options(config: TrainConfig, given: set[str]) -> list[str]:
    """Of the options ``given`` on the command line (``TrainConfig`` field names), those the run would
    ignore because the option they act with is off: said rather than dropped."""
    idle = []
    camera = sorted(name for name in given if name.startswith("camera_") and name != "camera_fraction")
    if camera and not config.camera_fraction:
        idle.append(_options_act(camera) + " only with --camera-fraction above 0")
    if "real_fraction" in given and config.real_fraction and not config.real_pairs:
        idle.append("--real-fraction acts only with --real-pairs FOLDER")
    if config.real_pairs and not config.real_fraction:
        idle.append("--real-pairs is used only with --real-fraction above 0")
    if "real_cameras" in given and not config.real_pairs:
        idle.append("--real-cameras acts only with --real-pairs FOLDER")
    if "teacher_weight" in given and not config.teacher:
        idle.append("--teacher-weight acts only with --teacher CHECKPOINT")
    compressed = sorted(name for name in given if name in ("compressed_crf", "compressed_clean_fraction"))
    if compressed and not config.compressed_fraction:
        idle.append(_options_act(compressed) + " only with --compressed-fraction above 0")
    return idle


def check_training_device(device: str, precision: str) -> None:
    """Refuse a ``--device`` this machine lacks and fp16 where it would not run (accelerate falls back
    to the CPU, and to fp32 there, without a word): `stdit_cli.runtime.RuntimeSetupError`, one line."""
    from stdit_cli.runtime import RuntimeSetupError, resolve_device

    place = resolve_device(device)  # an explicit device that is missing: RuntimeSetupError
    if place.type != "cuda" and precision == "fp16":
        raise RuntimeSetupError(f"--precision fp16 trains on a CUDA GPU only (on {place.type} it would run as fp32): use bf16 or fp32")


@dataclass
class TrainConfig:
    """Every ``stdit train`` option."""

    model: str = "unet"
    preset: str = "small"
    data: list[str] = field(default_factory=list)
    val: str | None = None
    out: str = "runs/unet"
    frames: int | None = None  # None = the model's window
    crop: int = 64
    batch_size: int = 8
    steps: int = 5000  # the length of the learning-rate schedule
    stop_at: int | None = None  # end this run early at this step (resume later to go on)
    lr: float = 2e-4
    warmup: int = 200
    ema_decay: float = 0.999
    prediction_type: str = "epsilon"
    downscale: int = 1
    checkpoint_every: int = 1000
    val_every: int = 500
    seed: int = 0
    device: str = "auto"
    precision: str = "fp32"
    resume: str | None = None
    init_from: str | None = None  # start from these weights (fresh optimiser, schedule and EMA)
    init_partial: bool = False  # init_from may be another configuration: copy the tensors both share
    sigma_weight_power: float = 0.0  # weight each clip's loss by (sigma/25)**power (objective.sigma_loss_weight)
    scale_range: tuple[float, float] = (1.0, 1.0)  # area-downscale each crop by a factor in this range
    soft_fraction: float = 0.0  # share of clips blurred like a soft lens (content.ContentMix)
    smooth_fraction: float = 0.0  # share of clips replaced by smooth synthetic fields
    camera_fraction: float = 0.0  # share of clips given camera noise instead of white noise (camera_noise.CameraNoiseMix)
    camera_jpeg_fraction: float = 0.5  # share of those also JPEG-compressed
    camera_chroma_fraction: float = 0.0  # share of those whose colour noise is blurred (in-camera chroma noise reduction)
    camera_blotch_fraction: float = 0.0  # share of the blurred-colour ones whose colour noise keeps its amplitude (a phone's low-light blotches)
    camera_blur_fraction: float = 0.3  # share of those whose noise is blurred (in-camera noise reduction: correlated noise)
    camera_blur_sigma: tuple[float, float] = (0.5, 1.5)  # that blur's Gaussian sigma range, pixels
    camera_shot_range: tuple[float, float] = (1e-5, 1.2e-2)  # log-uniform range of the cameras' shot-noise gain
    camera_random_cfa: bool = False  # each camera-noise clip's Bayer phase drawn from the four (else RGGB at the top left)
    camera_clean_fraction: float = 0.0  # share of the camera-noise clips left clean, labelled with a level in camera_clean_level
    camera_clean_level: tuple[float, float] = (3.0, 10.0)
    camera_h264_fraction: float = 0.0  # share of the camera-noise clips stored as 4:2:0 H.264 instead of JPEG
    camera_h264_crf: tuple[int, int] = (16, 28)  # that encode's x264 CRF range
    camera_sharpen_fraction: float = 0.0  # share of the camera-noise clips sharpened after the noise, the target alike
    camera_sharpen_amount: tuple[float, float] = (0.2, 1.0)  # that unsharp mask's amount range
    camera_gray_fraction: float = 0.0  # share of the camera-noise clips (and of the real pairs) made black-and-white (luma) before compression
    camera_gray_level: str = "rms"  # a gray clip's level: "rms" of its noise, or "learned": what `stdit denoise` reads on it
    level_estimator: str | None = None  # the estimator "learned" reads with (a folder; None: the shipped one), saved with the weights
    compressed_fraction: float = 0.0  # share of the other clips given white noise stored as 4:2:0 H.264 (compressed_noise.CompressedNoiseMix)
    compressed_crf: tuple[int, int] = (12, 30)  # range of that encode's x264 CRF
    compressed_clean_fraction: float = 0.0  # share of those encoded without noise (labelled with the level read on them)
    real_pairs: str | None = None  # a folder of real noisy photos with references (real_pairs.RealPairMix)
    real_cameras: tuple[str, ...] = ("Canon5D2", "NikonD800")  # the cameras of real_pairs that train
    real_fraction: float = 0.0  # share of clips replaced by real pairs
    teacher: str | None = None  # a checkpoint whose prediction is blended into the target (distill.Teacher)
    teacher_weight: float = 0.75  # its share of the target

    def content_mix(self) -> ContentMix:
        return ContentMix(tuple(self.scale_range), self.soft_fraction, self.smooth_fraction)

    def camera_mix(self) -> CameraNoiseMix:
        return CameraNoiseMix(self.camera_fraction, self.camera_jpeg_fraction, blur_fraction=self.camera_blur_fraction,
                              blur_sigma=tuple(self.camera_blur_sigma), chroma_fraction=self.camera_chroma_fraction,
                              blotch_fraction=self.camera_blotch_fraction,
                              shot_range=tuple(self.camera_shot_range), random_cfa_phase=self.camera_random_cfa,
                              clean_fraction=self.camera_clean_fraction, clean_level=tuple(self.camera_clean_level),
                              h264_fraction=self.camera_h264_fraction, h264_crf=tuple(self.camera_h264_crf),
                              sharpen_fraction=self.camera_sharpen_fraction, sharpen_amount=tuple(self.camera_sharpen_amount),
                              gray_fraction=self.camera_gray_fraction, gray_level=self._gray_level_reader())  # fmt: skip

    def _gray_level_reader(self):
        """``--camera-gray-level learned``: the blind level of :attr:`level_estimator` (the shipped
        estimator by default), as ``stdit denoise`` reads it."""
        if not self.labels_with_estimator:
            return None
        from stdit_cli.pipeline.learned_level import LearnedNoiseLevel

        return LearnedNoiseLevel.shipped(folder=self.level_estimator).blind_level_of

    @property
    def labels_with_estimator(self) -> bool:
        """Whether clips are labelled with an estimator's reading, which the weights then read videos with."""
        return self.camera_gray_level == "learned" and bool(self.camera_gray_fraction)

    def compressed_mix(self) -> CompressedNoiseMix:
        return CompressedNoiseMix(self.compressed_fraction, tuple(self.compressed_crf), clean_fraction=self.compressed_clean_fraction)


@dataclass
class ValidationClip:
    """A held-apart clean clip and its fixed noisy version at ``sigma_255``."""

    clean: torch.Tensor  # [1, 3, T, H, W] in [-1, 1]
    noisy: torch.Tensor  # [1, 3, T, H, W] in [-1, 1], 8-bit noise
    sigma_255: float

    @classmethod
    def from_data(cls, data: TrainingData, frames: int, crop: int, sigma_255: float = 25.0, seed: int = 1234) -> "ValidationClip":
        sequence = data.sequences[0] if data.sequences else np.stack([data.stills[0]] * frames)
        clip = sequence[:frames]
        h, w = clip.shape[1:3]
        top, left = max((h - crop) // 2, 0), max((w - crop) // 2, 0)
        clip = clip[:, top : top + crop, left : left + crop]
        # [T, H, W, 3] uint8 -> [1, 3, T, H, W] in [-1, 1]
        clean = torch.from_numpy(np.ascontiguousarray(clip)).permute(3, 0, 1, 2)[None].float() / 127.5 - 1.0
        noise = torch.randn(clean.shape, generator=torch.Generator().manual_seed(seed))
        noisy = torch.clamp(torch.round((clean + 1) * 127.5 + sigma_255 * noise), 0, 255) / 127.5 - 1.0
        return cls(clean=clean, noisy=noisy, sigma_255=sigma_255)


def psnr(estimate: torch.Tensor, clean: torch.Tensor) -> float:
    """PSNR in dB of two ``[-1, 1]`` tensors on the 8-bit scale (estimate rounded like a file)."""
    a = torch.round((estimate.clamp(-1, 1) + 1) * 127.5)
    b = torch.round((clean + 1) * 127.5)
    mse = torch.mean((a - b) ** 2).item()
    return 10 * math.log10(255.0**2 / max(mse, 1e-10))


@torch.no_grad()
def validate(model, adapter, schedule, clip: ValidationClip, device) -> float:
    """PSNR of the one-step estimate on the validation clip."""
    sampler = DiffusionSampler(schedule, "ddim", steps=1)
    model.eval()
    estimate = sampler.denoise(lambda x, t: adapter.predict(model, x, t), clip.noisy.to(device), clip.sigma_255)
    model.train()
    return psnr(estimate.cpu(), clip.clean)


def _jsonable(value):
    """A config value as JSON reads it back (tuples as lists), for comparing saved and built configs."""
    return json.loads(json.dumps(value))


class TrainError(RuntimeError):
    """A training run that cannot start or go on: one line, naming what is wrong."""


def _checkpoints(out: Path) -> list[tuple[int, Path]]:
    """``(step, folder)`` of the run's complete checkpoints, by step. A ``checkpoint-N`` folder
    whose state is missing (a save stopped part-way, before saves became atomic) and folders such
    as ``checkpoint-best`` kept by hand are not checkpoints of the run."""
    found = []
    for folder in out.glob("checkpoint-*"):
        match = re.fullmatch(r"checkpoint-(\d+)", folder.name)
        if match and (folder / STATE_FOLDER / STATE_FILE).is_file():
            found.append((int(match.group(1)), folder))
    return sorted(found)


def _latest_checkpoint(out: Path) -> Path | None:
    checkpoints = _checkpoints(out)
    return checkpoints[-1][1] if checkpoints else None


def _init_folder(init_from: str, model_name: str) -> Path:
    """``--init-from``'s folder: a path, or :data:`SHIPPED` for the weights ``stdit denoise --model
    <model_name>`` runs (a fine-tune of the default on one's own footage)."""
    if init_from != SHIPPED:
        return Path(init_from)
    folder = shipped_checkpoint_dir(model_name)
    if folder is None:
        raise CheckpointError(f"--init-from {SHIPPED}: no weights ship for --model {model_name}")
    return folder


def _check_output_folder(out: Path, resume: str | None) -> None:
    """Refuse an ``--out`` that is a file, or that holds an earlier run when not resuming it
    (training into it would mix the two runs' checkpoints, and ``--resume latest`` later would
    pick up whichever is further)."""
    if out.exists() and not out.is_dir():
        raise TrainError(f"--out {out}: is a file, not a folder")
    for parent in out.parents:
        if parent.exists() and not parent.is_dir():
            raise TrainError(f"--out {out}: {parent} is a file, not a folder")
    if resume is None and out.is_dir():
        earlier = _checkpoints(out)
        if earlier or (out / "config.json").is_file():
            held = f"its checkpoints up to step {earlier[-1][0]}" if earlier else "its trained weights"
            raise TrainError(f"--out {out}: holds an earlier run ({held}): --resume latest to go on with it, "
                             f"or give another --out")  # fmt: skip


class Trainer:
    """Owns the model, optimiser, EMA and data for one training run."""

    def __init__(self, config: TrainConfig, log: Callable[[str], None] = print):
        _check_output_folder(Path(config.out), config.resume)
        self._started = False
        self.config = config
        self.log = log
        self.adapter = adapter_for(config.model)
        cpu = config.device == "cpu" or (config.device == "auto" and not torch.cuda.is_available())
        self.accelerator = Accelerator(mixed_precision=_MIXED_PRECISION[config.precision], cpu=cpu)
        self.schedule = {**DEFAULT_SCHEDULE, "prediction_type": config.prediction_type}
        self.alphas_cumprod = DDPMScheduler.from_config(self.schedule).alphas_cumprod
        torch.manual_seed(config.seed)
        model, self.model_config = build_from_preset(self.adapter.model_class, config.model, config.preset)
        model = self.adapter.prepare(model)
        # with --resume latest, a run that has a checkpoint goes on from it (start()), not from init_from
        if config.init_from and not (config.resume == "latest" and _latest_checkpoint(Path(config.out)) is not None):
            self._load_initial_weights(model, _init_folder(config.init_from, config.model))
        self.frames = config.frames or int(model.num_frames)
        data = load_training_data(config.data, downscale=config.downscale)
        self.log(f"training data: {data.describe()}")
        rank_seed = config.seed + 1000 * self.accelerator.process_index
        self.sampler = ClipSampler(data, self.frames, config.crop, seed=rank_seed, device=self.accelerator.device,
                                   content=config.content_mix())
        # training noise is drawn where the model runs (on a GPU, not by the host)
        self.noise_generator = torch.Generator(device=self.accelerator.device).manual_seed(rank_seed + 1)
        # camera noise is made on the host, in numpy (demosaicing, JPEG)
        self.camera, self.camera_rng = config.camera_mix(), np.random.default_rng(rank_seed + 2)
        self.compressed = config.compressed_mix()  # H.264 on the host too, from the same generator
        self.real = RealPairMix.from_folder(config.real_pairs, config.real_cameras, config.real_fraction,
                                            config.camera_gray_fraction, self.camera.gray_level)  # fmt: skip
        if self.real.active:
            self.log(f"real noise: {len(self.real.pairs)} photos of {', '.join(config.real_cameras)}, {config.real_fraction:.0%} of the clips")
        self.alphas_cumprod = self.alphas_cumprod.to(self.accelerator.device)
        self.teacher = None
        if config.teacher:
            self.teacher = Teacher.load(config.teacher, config.teacher_weight, self.schedule, self.frames, self.accelerator.device)
            self.log(f"teacher: {config.teacher}, {config.teacher_weight:.0%} of the target")
        if self.accelerator.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed crop size: pick the fastest kernels once
        val_data = load_training_data([config.val], option="--val") if config.val else data
        self.val_clip = ValidationClip.from_data(val_data, self.frames, crop=max(config.crop, 128))
        optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.0)
        lr_scheduler = get_scheduler("cosine", optimizer, num_warmup_steps=config.warmup, num_training_steps=config.steps)
        self.model, self.optimizer, self.lr_scheduler = self.accelerator.prepare(model, optimizer, lr_scheduler)
        self.ema = EMAModel(self.accelerator.unwrap_model(self.model).parameters(), decay=config.ema_decay, use_ema_warmup=True,
                            foreach=True)  # fmt: skip
        self.ema.to(self.accelerator.device)
        self.step = 0

    def _load_initial_weights(self, model, folder: Path) -> None:
        """``--init-from``: a checkpoint of the same model and preset (e.g. a fine-tune on larger crops).

        With ``--init-partial`` the checkpoint may hold another configuration of the same model:
        every tensor both have (same name, same shape) is copied, the checkpoint's others are
        dropped and the preset's others (new, or of another shape) keep their fresh initialisation
        (e.g. a slimmer architecture derived from a trained one).
        """
        checkpoint = load_checkpoint(folder, self.config.model)
        mismatched = sorted(k for k, v in self.model_config.items() if checkpoint.model.config.get(k) != v)
        trained = checkpoint.model.state_dict()
        if not mismatched:
            model.load_state_dict(trained, strict=True)
        elif not self.config.init_partial:
            trained_as = checkpoint.metadata.get("train_config", {}).get("preset")
            hint = f"--config {trained_as} builds its network; " if isinstance(trained_as, str) and trained_as != self.config.preset else ""
            raise CheckpointError(f"{folder}: --init-from holds a different {self.config.model} configuration ({', '.join(mismatched)} differ from preset {self.config.preset!r}); {hint}--init-partial copies the tensors they share")
        else:
            self._load_shared_weights(model, trained, folder)
        self.log(f"initialised from {folder} ({checkpoint.metadata.get('trained_steps', '?')} steps)")

    def _load_shared_weights(self, model, trained: dict[str, torch.Tensor], folder: Path) -> None:
        """``--init-partial``: copy the tensors ``model`` shares with ``trained`` (same name and
        shape); the others keep their fresh initialisation. Each group is reported by module."""
        own = model.state_dict()
        shared = {k for k in own.keys() & trained.keys() if own[k].shape == trained[k].shape}
        reshaped = (own.keys() & trained.keys()) - shared
        if not shared:
            raise CheckpointError(f"{folder}: --init-partial found no tensor of equal name and shape in common with preset {self.config.preset!r}")
        model.load_state_dict({k: trained[k] for k in shared}, strict=False)

        def modules(names) -> str:  # "up_blocks.0.layers.1.attention.proj_in.weight" -> "up_blocks.0.layers.1.attention"
            return ", ".join(sorted({".".join(n.split(".")[:4]) for n in names})) or "none"

        self.log(f"--init-partial: copied {len(shared)} of {len(own)} tensors; dropped from the checkpoint: "
                 f"{modules(trained.keys() - own.keys())}; freshly initialised: {modules(own.keys() - trained.keys())}; "
                 f"another shape, freshly initialised: {modules(reshaped)}")

    # --- checkpoints -------------------------------------------------------------------------
    def _noise_state(self) -> dict:
        return {"step": self.step, "sampler": self.sampler.state_dict(), "noise": self.noise_generator.get_state().tolist(),
                "camera": self.camera_rng.bit_generator.state}  # fmt: skip

    def save(self, folder: Path) -> None:
        """Inference weights (EMA) as a ``save_pretrained`` folder + full state for ``--resume``."""
        self.accelerator.wait_for_everyone()
        if not self.accelerator.is_main_process:
            return
        model = self.accelerator.unwrap_model(self.model)
        self.ema.store(model.parameters())
        self.ema.copy_to(model.parameters())
        save_checkpoint(model, folder, self.schedule, self.metadata())
        if self.config.labels_with_estimator:  # the weights read levels with the estimator that labelled them
            copy_level_estimator(self.config.level_estimator, folder)
        self.ema.restore(model.parameters())
        state = folder / STATE_FOLDER
        self.accelerator.save_state(str(state))
        torch.save({"ema": self.ema.state_dict(), **self._noise_state()}, state / STATE_FILE)
        readable_as_umask_allows(state)  # the optimiser state, in safetensors too

    def save_checkpoint_folder(self, folder: Path) -> None:
        """:meth:`save` into a hidden folder beside ``folder``, renamed to it once complete: a run
        stopped mid-save leaves its earlier checkpoints as they were and no half ``checkpoint-N``."""
        temporary = temporary_name(folder, keep_suffix=False)
        self.save(temporary)
        if not self.accelerator.is_main_process:
            return
        if folder.exists():  # the same step saved by an earlier attempt
            shutil.rmtree(folder)
        os.replace(temporary, folder)

    def resume(self, folder: Path) -> None:
        if not folder.is_dir():
            raise TrainError(f"--resume {folder}: no such run or checkpoint folder")
        state = folder / STATE_FOLDER
        if not (state / STATE_FILE).is_file():
            raise TrainError(f"{folder}: no complete {STATE_FOLDER}/ to resume from (a save that was stopped?)")
        self._check_same_model(folder)
        self._note_schedule_change(folder)
        self.accelerator.load_state(str(state))
        extra = torch.load(state / STATE_FILE, weights_only=False)
        self.ema.load_state_dict(extra["ema"])
        self.ema.to(self.accelerator.device)
        self.sampler.load_state_dict(extra["sampler"])
        self.noise_generator.set_state(torch.tensor(extra["noise"], dtype=torch.uint8))
        if "camera" in extra:  # checkpoints from before 2026-12-03 have none
            self.camera_rng.bit_generator.state = extra["camera"]
        self.step = int(extra["step"])

    def _check_same_model(self, folder: Path) -> None:
        """The checkpoint's model is this run's (class and every constructor argument), or one line saying how not."""
        config_path = folder / "config.json"
        if not config_path.is_file():
            return
        saved = json.loads(config_path.read_text())
        model = self.accelerator.unwrap_model(self.model)
        own, built = dict(model.config), type(model).__name__
        if saved.get("_class_name") != built:
            raise CheckpointError(f"{folder}: holds a {saved.get('_class_name')} model, and this run builds {built} "
                             f"(--model {self.config.model}): resume with the --model and --config it was trained with")  # fmt: skip
        differ = sorted(k for k in own if not k.startswith("_") and k in saved and _jsonable(saved[k]) != _jsonable(own[k]))
        if differ:
            shown = ", ".join(f"{k} {saved[k]!r} there, {own[k]!r} here" for k in differ[:3])
            raise CheckpointError(f"{folder}: trained with another --config ({shown}): resume with the one it was trained with")

    def _note_schedule_change(self, folder: Path) -> None:
        """Say so when ``--steps`` differs from the run's: the learning-rate schedule (warm-up, cosine
        decay) was laid out over the old count, and from here follows the new one."""
        metadata_path = folder / "stdit.json"
        if not metadata_path.is_file():
            return
        before = json.loads(metadata_path.read_text()).get("train_config", {}).get("steps")
        if before is not None and int(before) != self.config.steps:
            self.log(f"note: {folder} was trained towards --steps {before}; the learning-rate schedule now "
                     f"follows --steps {self.config.steps} from here (its decay changes shape)")  # fmt: skip

    def metadata(self) -> dict:
        return {"trained_steps": self.step, "train_config": asdict(self.config), "frames": self.frames}

    # --- loop --------------------------------------------------------------------------------
    def train_step(self) -> torch.Tensor:
        """One optimiser step; returns the loss, still on the device (reading it is a sync)."""
        clean = self.sampler.batch(self.config.batch_size)
        noisy = self.camera.noisy_clips(clean, self.camera_rng) if self.camera.active else None
        if self.compressed.active:  # among the clips camera noise left white
            noisy = self.compressed.noisy_clips(clean, self.camera_rng, noisy)
        if self.real.active:  # from the same generator: its state is in every checkpoint
            clean, noisy = self.real.mix(clean, noisy, self.camera_rng)
        pair = make_training_pair(clean, self.alphas_cumprod, self.noise_generator, self.config.prediction_type, noisy=noisy)
        target = pair.target if self.teacher is None else self.teacher.target(pair, self.accelerator.autocast)
        with self.accelerator.autocast():
            prediction = self.adapter.predict(self.model, pair.x_t, pair.timestep)
        # [B, C, T, H, W] squared error -> [B] per clip, weighted by its noise level
        per_clip = (prediction.float() - target).pow(2).flatten(1).mean(dim=1)
        weight = sigma_loss_weight(pair.sigma_255, self.config.sigma_weight_power)
        loss = (weight * per_clip).mean()
        self.accelerator.backward(loss)
        if self.accelerator.sync_gradients:
            self.accelerator.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        self.lr_scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.ema.step(self.accelerator.unwrap_model(self.model).parameters())
        self.step += 1
        return loss.detach()

    def validate_ema(self) -> float:
        model = self.accelerator.unwrap_model(self.model)
        self.ema.store(model.parameters())
        self.ema.copy_to(model.parameters())
        value = validate(model, self.adapter, self.schedule, self.val_clip, self.accelerator.device)
        self.ema.restore(model.parameters())
        return value

    def start(self) -> None:
        """Make the output folder and resume as ``--resume`` says (once; :meth:`run` calls it)."""
        if self._started:
            return
        out = Path(self.config.out)
        if self.config.resume:  # before --out is made: a resume that fails leaves no empty folder behind
            resume_from = _latest_checkpoint(out) if self.config.resume == "latest" else Path(self.config.resume)
            if resume_from is not None:
                self.resume(resume_from)
                self.log(f"resumed from {resume_from} at step {self.step}"
                         + (f" (not from --init-from {self.config.init_from}: the run goes on)" if self.config.init_from else ""))
            else:
                self.log(f"--resume latest: no checkpoint in {out} yet, so a fresh run starts")
        out.mkdir(parents=True, exist_ok=True)
        self._started = True

    def latest_checkpoint(self) -> Path | None:
        """The run's last complete checkpoint, where ``--resume latest`` goes on from."""
        return _latest_checkpoint(Path(self.config.out))

    def run(self, on_step: Callable[[int, float, float | None], None] | None = None) -> Path:
        """Train to ``config.steps``; return the output folder (EMA weights, ready for ``--checkpoint``)."""
        out = Path(self.config.out)
        self.start()
        self.model.train()
        last = min(self.config.steps, self.config.stop_at or self.config.steps)
        if self.step >= last:
            self.log(f"already at step {self.step} of {last}: nothing to train (a longer run needs a larger --steps)")
        read_every = 1 if self.accelerator.device.type == "cpu" else LOSS_READ_EVERY
        losses, loss = [], float("nan")  # losses since the last read (device tensors), last mean read
        while self.step < last:
            losses.append(self.train_step())
            val_psnr = None
            validating = self.step % self.config.val_every == 0 or self.step == last
            if validating or self.step % read_every == 0:
                loss, losses = float(torch.stack(losses).mean()), []
            if validating:
                val_psnr = self.validate_ema()
            if self.step % self.config.checkpoint_every == 0:
                self.save_checkpoint_folder(out / f"checkpoint-{self.step}")
            if on_step is not None:
                on_step(self.step, loss, val_psnr)
        self.save(out)
        if self.accelerator.is_main_process:
            (out / "train_config.json").write_text(json.dumps(asdict(self.config), indent=2) + "\n")
        return out
