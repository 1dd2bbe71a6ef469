#!/usr/bin/env python3
"""Train the blind noise-level estimator that ``--noise real`` reads a video's noise level with.

Crops of the training footage (the suite's held-out DAVIS clips excluded, as for the backbones)
are noised one of four ways, each crop's target being the RMS of ``noisy - clean`` on 0..255
(what the real-noise backbone is conditioned on, ``stdit_cli.train.camera_noise.CameraNoiseMix``):

- camera noise (``CameraNoiseMix``: Poisson-Gaussian on a Bayer mosaic, demosaiced, part with the
  noise blurred by in-camera noise reduction, half JPEG-compressed), ``CAMERA_SHARE``;
- white Gaussian noise, sigma 1-75 like the backbones' training, half of it then JPEG-compressed
  (noisy footage that was encoded), ``GAUSSIAN_SHARE``;
- clean, half of it JPEG-compressed (clean footage must read as almost no noise), the rest.

The estimator (``stdit_cli.models.NoiseLevelEstimator``) learns ``log(max(RMS, 0.5))`` with an L1
loss. Validation: fresh crops of the held-out DAVIS clips, every kind, reported as the median
relative error of the level. Writes a ``save_pretrained`` folder.

With ``--real FOLDER`` a share of each batch (``--real-share``) is crops of real noisy photos
with a reference (PolyU's ``*_real.JPG`` / ``*_mean.JPG`` pairs), the target the RMS of ``noisy -
reference`` over the crop, from the cameras named by ``--real-cameras`` only; the other cameras'
crops are validated on (kind "real") and never trained on. ``--init-from`` fine-tunes a trained
estimator instead of starting afresh.

    python scripts/train_noise_estimator.py --out runs/noise-estimator
    python scripts/train_noise_estimator.py --init-from runs/noise-estimator --real ../shared/data/polyu_real_noise \
        --real-cameras Canon5D2 NikonD800 --steps 1500 --lr 3e-4 --out runs/noise-estimator-real
    python scripts/train_noise_estimator.py --init-from runs/noise-estimator-real --real ../shared/data/polyu_real_noise \
        --real-cameras Canon5D2 NikonD800 --camera-blotch-fraction 1.0 --steps 1500 --lr 1e-3 --seed 8 \
        --out runs/noise-estimator-blotch
    cp runs/noise-estimator-blotch/{config.json,diffusion_pytorch_model.safetensors,stdit.json} stdit_cli/weights/noise-estimator/
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from io import BytesIO
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from stdit_cli.models import NoiseLevelEstimator  # noqa: E402
from stdit_cli.train.camera_noise import CameraNoiseMix  # noqa: E402
from stdit_cli.train.content import ContentMix  # noqa: E402
from stdit_cli.train.data import ClipSampler, load_training_data  # noqa: E402
from stdit_cli.train.glyphs import render_glyph_crop  # noqa: E402
from stdit_cli.train.objective import sample_sigma_255  # noqa: E402
from stdit_cli.train.real_pairs import load_real_pairs, random_pair_crop  # noqa: E402
from stdit_cli.weights import readable_as_umask_allows  # noqa: E402

#: the validation suite's DAVIS clips (scripts/validation_suite.py HELD_OUT_DAVIS): never trained on
HELD_OUT = ("blackswan", "car-shadow", "dog", "kite-surf", "scooter-black")
CAMERA_SHARE = 0.45
GAUSSIAN_SHARE = 0.35
JPEG_QUALITY = (50, 95)
KINDS = ("camera", "gaussian", "clean", "real", "gray camera", "text camera", "text gaussian", "text clean")


def real_crops(pairs, count: int, crop: int, rng: np.random.Generator):
    """``count`` random crops of real pairs, flipped and turned at random -> (noisy ``[N, 3, s, s]`` in
    ``[-1, 1]``, RMS of noisy - reference ``[N]``)."""
    noisy_crops, rms = [], []
    for _ in range(count):
        noisy, reference = random_pair_crop(pairs, crop, rng)
        noisy_crops.append(noisy)
        rms.append(np.sqrt(np.mean((noisy.astype(np.float64) - reference) ** 2)))
    # [N, s, s, 3] uint8 -> [N, 3, s, s] in [-1, 1]
    y = torch.from_numpy(np.ascontiguousarray(np.stack(noisy_crops))).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    return y, torch.tensor(rms, dtype=torch.float32)


def training_data(root: Path, held_out: bool):
    davis = sorted(p for p in (root / "davis2016_val_480p").iterdir() if p.is_dir())
    if held_out:
        return load_training_data([f"frames:{p}" for p in davis if p.name in HELD_OUT])
    entries = [f"frames:{p}" for p in davis if p.name not in HELD_OUT]
    entries += [f"frames:{root / 'vimeo_septuplet_samples'}", f"stills:{root / 'bsds500/train'}", f"stills:{root / 'bsds500/test'}"]
    return load_training_data(entries)


def jpeg(frame_uint8: np.ndarray, quality: int) -> np.ndarray:
    buffer = BytesIO()
    Image.fromarray(frame_uint8).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(BytesIO(buffer.getvalue())).convert("RGB"))


def with_glyphs(clean: torch.Tensor, rng: np.random.Generator, fraction: float) -> tuple[torch.Tensor, np.ndarray]:
    """``clean`` ``[B, 3, 1, H, W]`` in ``[-1, 1]`` with a ``fraction`` of its crops replaced by printed
    text and rules (``stdit_cli.train.glyphs``), some of them drawn over the crop they replace; and
    which crops were replaced (``[B]`` bool)."""
    replaced = np.zeros(clean.shape[0], dtype=bool)
    if fraction <= 0:
        return clean, replaced  # no draw: runs without text as before
    clean = clean.clone()
    for b in range(clean.shape[0]):
        if rng.random() < fraction:
            replaced[b] = True
            # [3, H, W] in [-1, 1] -> [H, W, 3] uint8, the photo the text may be drawn over
            photo = torch.round((clean[b, :, 0] + 1) * 127.5).clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
            glyphs = render_glyph_crop(clean.shape[-1], rng, photo)
            # [H, W, 3] uint8 -> [3, H, W] in [-1, 1]
            clean[b, :, 0] = torch.from_numpy(glyphs).permute(2, 0, 1).float() / 127.5 - 1.0
    return clean, replaced


def noisy_batch(clean: torch.Tensor, rng: np.random.Generator, generator: torch.Generator, camera: CameraNoiseMix,
                gray_camera: CameraNoiseMix | None = None, gray_share: float = 0.0, no_jpeg: np.ndarray | None = None):  # fmt: skip
    """``clean`` ``[B, 3, 1, H, W]`` in ``[-1, 1]`` -> (noisy ``[B, 3, H, W]`` in ``[-1, 1]``, target RMS ``[B]``, kind index ``[B]``).

    A ``gray_share`` of the camera crops go through ``gray_camera`` (black-and-white) instead; the
    white-noise and clean crops marked in ``no_jpeg`` (``[B]`` bool) are not JPEG-compressed (JPEG's
    ringing around print is tens of levels: labelled as noise, it teaches that print is noise)."""
    batch = clean.shape[0]
    kinds = rng.choice(3, size=batch, p=[CAMERA_SHARE, GAUSSIAN_SHARE, 1 - CAMERA_SHARE - GAUSSIAN_SHARE])
    # [B, 3, 1, H, W] -> [B, H, W, 3] uint8 on 0..255
    clean_uint8 = torch.round((clean[:, :, 0] + 1) * 127.5).clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    noisy, reference = clean_uint8.copy(), clean_uint8.copy()
    sigmas = sample_sigma_255(batch, generator).numpy()

    def as_uint8(clip: torch.Tensor) -> np.ndarray:  # [1, 3, 1, H, W] in [-1, 1] -> [H, W, 3] uint8
        return torch.round((clip[0, :, 0] + 1) * 127.5).permute(1, 2, 0).numpy().astype(np.uint8)

    for b, kind in enumerate(kinds):
        if kind == 0:
            gray = gray_camera is not None and gray_share > 0 and rng.random() < gray_share  # no draw without gray: runs as before
            picked = (gray_camera if gray else camera).noisy_clips(clean[b : b + 1], rng)
            noisy[b] = as_uint8(picked.y)
            if gray:  # measured against the gray picture
                reference[b] = as_uint8(picked.clean)
                kinds[b] = KINDS.index("gray camera")
            continue
        if kind == 1:
            noise = rng.standard_normal(clean_uint8[b].shape) * sigmas[b]
            noisy[b] = np.clip(np.round(clean_uint8[b] + noise), 0, 255).astype(np.uint8)
        if rng.random() < 0.5 and (no_jpeg is None or not no_jpeg[b]):
            noisy[b] = jpeg(noisy[b], int(rng.integers(JPEG_QUALITY[0], JPEG_QUALITY[1] + 1)))
    rms = np.sqrt(np.mean((noisy.astype(np.float64) - reference) ** 2, axis=(1, 2, 3)))
    # [B, H, W, 3] uint8 -> [B, 3, H, W] in [-1, 1]
    y = torch.from_numpy(noisy).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    return y, torch.from_numpy(rms).float(), kinds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("runs/noise-estimator"))
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--crop", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--val-batches", type=int, default=8)
    parser.add_argument("--camera-blur-fraction", type=float, default=0.3,
                        help="share of camera-noise crops whose noise is blurred (correlated noise; stdit train's option)")
    parser.add_argument("--camera-blur-sigma", type=float, nargs=2, default=(0.5, 1.5), help="that blur's sigma range, pixels")
    parser.add_argument("--camera-shot-range", type=float, nargs=2, default=(1e-5, 1.2e-2),
                        help="log-uniform range of the cameras' shot-noise gain (stdit train's option)")
    parser.add_argument("--camera-blotch-fraction", type=float, default=0.0,
                        help="share of the crops with blurred colour noise (70%% of camera crops) whose colour noise keeps "
                             "its amplitude: a phone's low-light colour blotches (CameraNoiseMix.blotch_fraction)")
    parser.add_argument("--camera-blotch-gain", type=float, nargs=2, default=(0.6, 1.5),
                        help="range of those blotches' RMS over the colour noise's before the blur")
    parser.add_argument("--camera-gray-fraction", type=float, default=0.0,
                        help="share of camera-noise crops made black-and-white after the noise (stdit train's option), "
                             "their shot gain drawn in --camera-gray-shot-range")
    parser.add_argument("--camera-gray-shot-range", type=float, nargs=2, default=(1e-5, 1e-1),
                        help="log-uniform range of the black-and-white crops' shot-noise gain (the real-noise backbone's)")
    parser.add_argument("--scale-range", type=float, nargs=2, default=(1.0, 2.0),
                        help="training crops area-downscaled by a factor drawn in this range (validation: 1-2 always); "
                             "larger factors give denser texture, as in small videos")  # fmt: skip
    parser.add_argument("--text-fraction", type=float, default=0.0,
                        help="share of the training crops replaced by printed text and rules (stdit_cli.train.glyphs), then "
                             "noised like the rest: dense sharp glyphs are not noise")  # fmt: skip
    parser.add_argument("--init-from", type=Path, default=None, help="fine-tune this trained estimator (a save_pretrained folder)")
    parser.add_argument("--channels", type=int, default=32, help="a fresh estimator's width (NoiseLevelEstimator; not with --init-from)")
    parser.add_argument("--depth", type=int, default=5, help="a fresh estimator's number of 3x3 convolutions (receptive field 2 * (2 * depth + 1) px)")
    parser.add_argument("--real", type=Path, default=None, help="a folder of real noisy photos with references (*_real.JPG, *_mean.JPG)")
    parser.add_argument("--real-cameras", nargs="+", default=["Canon5D2", "NikonD800"],
                        help="the cameras (file-name prefix) whose photos train; the others validate")
    parser.add_argument("--real-share", type=float, default=0.25, help="share of each batch from --real")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    content = ContentMix(tuple(args.scale_range), 0.2, 0.15)  # the backbones' content mix: scales, soft, smooth fields
    sampler = ClipSampler(training_data(args.data, held_out=False), 1, args.crop, seed=args.seed, content=content)
    val_content = ContentMix((1.0, 2.0), 0.2, 0.15)
    val_sampler = ClipSampler(training_data(args.data, held_out=True), 1, args.crop, seed=args.seed + 1, content=val_content)
    # the camera-noise mix of the real-noise backbone's last stage (scripts/train_defaults.sh)
    camera = CameraNoiseMix(fraction=1.0, blur_fraction=args.camera_blur_fraction,
                            blur_sigma=tuple(args.camera_blur_sigma), chroma_fraction=0.7,
                            shot_range=tuple(args.camera_shot_range), blotch_fraction=args.camera_blotch_fraction,
                            blotch_gain=tuple(args.camera_blotch_gain))  # fmt: skip
    # infrared night cameras: gray luma noise, up to the night end of the backbone's cameras (gray noise reads as
    # a fraction of the colour noise it came from, so the colour crops' range tops out too low for it)
    gray_camera = CameraNoiseMix(fraction=1.0, blur_fraction=args.camera_blur_fraction, blur_sigma=tuple(args.camera_blur_sigma),
                                 chroma_fraction=0.7, shot_range=tuple(args.camera_gray_shot_range), gray_fraction=1.0)  # fmt: skip
    gray = dict(gray_camera=gray_camera, gray_share=args.camera_gray_fraction)
    rng, generator = np.random.default_rng(args.seed + 2), torch.Generator().manual_seed(args.seed + 3)
    if args.init_from is not None:
        from stdit_cli.weights import load_noise_estimator

        model = load_noise_estimator(args.init_from)
    else:
        model = NoiseLevelEstimator(channels=args.channels, depth=args.depth)
    real_train, real_val, real_count = [], [], 0
    if args.real is not None:
        real_train = load_real_pairs(args.real, set(args.real_cameras), train=True)
        real_val = load_real_pairs(args.real, set(args.real_cameras), train=False)
        if not real_train:
            raise SystemExit(f"{args.real}: no *_real.JPG of the cameras {args.real_cameras}")
        real_count = round(args.batch_size * args.real_share)
        print(f"real pairs: {len(real_train)} train ({', '.join(args.real_cameras)}), {len(real_val)} validate", flush=True)
    floor = math.log(model.config.min_sigma_255)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, total_steps=args.steps, pct_start=0.05)

    val_rng, val_generator = np.random.default_rng(99), torch.Generator().manual_seed(99)
    validation = [noisy_batch(val_sampler.batch(args.batch_size), val_rng, val_generator, camera, gray_camera, max(args.camera_gray_fraction, 0.3))
                  for _ in range(args.val_batches)]  # fmt: skip
    if args.text_fraction > 0:  # the same held-out crops as printed text, each kind of noise
        for _ in range(args.val_batches // 2):
            text, replaced = with_glyphs(val_sampler.batch(args.batch_size), val_rng, 1.0)
            y, rms, kinds = noisy_batch(text, val_rng, val_generator, camera, no_jpeg=replaced)
            validation.append((y, rms, np.where(kinds < 3, kinds + KINDS.index("text camera"), kinds)))
    if real_val:
        for _ in range(args.val_batches):
            y, rms = real_crops(real_val, args.batch_size, args.crop, val_rng)
            validation.append((y, rms, np.full(args.batch_size, KINDS.index("real"))))

    def validate() -> dict[str, dict[str, float]]:
        """Per kind: the median relative error of the level, and the median ratio read / true (its bias)."""
        model.eval()
        ratios: dict[str, list[float]] = {kind: [] for kind in KINDS}
        with torch.no_grad():
            for y, rms, kinds in validation:
                ratio = model(y).sigma_255 / rms.clamp(min=model.config.min_sigma_255)
                for kind, value in zip(kinds, ratio.tolist()):
                    ratios[KINDS[kind]].append(value)
        model.train()
        return {kind: {"median_relative_error": round(float(np.median(np.abs(np.array(values) - 1))), 4),
                       "median_ratio": round(float(np.median(values)), 4)} for kind, values in ratios.items() if values}  # fmt: skip

    started = time.perf_counter()
    history = [{"step": 0, "validation": validate()}]
    print(json.dumps(history[0]), flush=True)
    for step in range(1, args.steps + 1):
        clean, text = with_glyphs(sampler.batch(args.batch_size - real_count), rng, args.text_fraction)
        y, rms, _ = noisy_batch(clean, rng, generator, camera, **gray, no_jpeg=text)
        if real_count:
            real_y, real_rms = real_crops(real_train, real_count, args.crop, rng)
            y, rms = torch.cat([y, real_y]), torch.cat([rms, real_rms])
        target = torch.log(rms).clamp(min=floor)
        loss = (model(y).log_sigma - target).abs().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % 250 == 0 or step == args.steps:
            record = {"step": step, "loss": round(loss.item(), 4), "validation": validate(),
                      "minutes": round((time.perf_counter() - started) / 60, 1)}  # fmt: skip
            history.append(record)
            print(json.dumps(record), flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(args.out), safe_serialization=True)
    readable_as_umask_allows(args.out)  # safetensors writes 0600
    metadata = {"trained_steps": args.steps, "train_config": {k: str(v) for k, v in vars(args).items()}, "history": history,
                "shares": {"camera": CAMERA_SHARE, "gaussian": GAUSSIAN_SHARE, "real": real_count / args.batch_size},
                "real_train": [name for _, _, name in real_train], "real_validate": [name for _, _, name in real_val]}  # fmt: skip
    (args.out / "stdit.json").write_text(json.dumps(metadata, indent=2) + "\n")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
