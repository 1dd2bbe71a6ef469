"""Noise-level estimation on generated natural-looking clips with a known noise level."""


import numpy as np
import pytest

from stdit_cli.pipeline.noise_level import estimate_sigma_255


def natural_frames(
    seed: int = 0, frame_count: int = 2, height: int = 128, width: int = 160, dark_bright: bool = False
) -> np.ndarray:
    """A clean clip of smooth shading, sharp-edged shapes and fine 1/f texture → uint8 ``[T, H, W, 3]``.

    The camera pans one pixel per frame. ``dark_bright`` puts large black and white areas in view,
    where 8-bit clipping cuts the noise off.
    """
    rng = np.random.default_rng(seed)
    canvas_h, canvas_w = height, width + frame_count
    yy, xx = np.mgrid[0:canvas_h, 0:canvas_w] / max(canvas_h, canvas_w)  # [H, W] in 0..1
    shading = 60 * xx - 30 * yy + 15 * np.sin(2 * np.pi * (1.3 * xx + 0.7 * yy))
    shapes = np.zeros((3, canvas_h, canvas_w))
    for _ in range(10):  # rectangles and discs of random colours
        colour = rng.uniform(-50, 50, size=(3, 1, 1))
        top, left = rng.uniform(0, 1, 2) * [canvas_h, canvas_w]
        size = rng.uniform(0.1, 0.4) * canvas_h
        if rng.random() < 0.5:
            mask = (yy * max(canvas_h, canvas_w) - top) ** 2 + (xx * max(canvas_h, canvas_w) - left) ** 2 < size**2
        else:
            rows, cols = np.mgrid[0:canvas_h, 0:canvas_w]
            mask = (rows >= top) & (rows < top + size) & (cols >= left) & (cols < left + 1.5 * size)
        shapes += colour * mask
    # camera optics: soften the edges with a [1, 2, 1] / 4 blur along both axes
    for axis in (1, 2):
        shapes = (np.roll(shapes, 1, axis) + 2 * shapes + np.roll(shapes, -1, axis)) / 4
    # 1/f texture: white noise shaped by a power-law amplitude spectrum, std 5 grey levels
    spectrum = np.fft.fft2(rng.standard_normal((canvas_h, canvas_w)))
    frequency = np.hypot(*np.meshgrid(np.fft.fftfreq(canvas_h), np.fft.fftfreq(canvas_w), indexing="ij"))
    texture = np.real(np.fft.ifft2(spectrum / np.maximum(frequency, 1.0 / canvas_w) ** 1.2))
    texture *= 5.0 / texture.std()
    gains = np.array([1.0, 0.8, 0.6])[:, None, None]  # correlated colour channels
    scene = 120 + gains * (shading + texture) + shapes  # [3, H, W]
    if dark_bright:
        scene[:, : canvas_h // 3] = 4 + 0.3 * texture[: canvas_h // 3]  # near-black band
        scene[:, -canvas_h // 4 :] = 252 + 0.3 * texture[-canvas_h // 4 :]  # near-white band
    scene = np.clip(np.round(scene), 0, 255).astype(np.uint8).transpose(1, 2, 0)  # [H, W, 3]
    return np.stack([scene[:, t : t + width] for t in range(frame_count)])  # [T, H, W, 3]


def add_noise(frames_uint8: np.ndarray, sigma_255: float, seed: int = 1, per_channel: bool = True) -> np.ndarray:
    """The benchmark noise model: ``clip(round(x + sigma * z), 0, 255)``, ``z`` i.i.d. normal."""
    rng = np.random.default_rng(seed)
    shape = frames_uint8.shape if per_channel else frames_uint8.shape[:-1] + (1,)
    noisy = frames_uint8 + sigma_255 * rng.standard_normal(shape)
    return np.clip(np.round(noisy), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def clean_clip() -> np.ndarray:
    return natural_frames(seed=0)


@pytest.mark.parametrize("sigma_255", [5, 15, 30, 60])
def test_estimate_matches_known_sigma(clean_clip, sigma_255):
    estimate = estimate_sigma_255(add_noise(clean_clip, sigma_255))
    # < 0.3 dB PSNR loss from a wrong start timestep needs ~5% relative error; keep a margin
    assert abs(estimate / sigma_255 - 1) < 0.03, estimate


def test_clean_clip_gives_small_estimate(clean_clip):
    # edges and 1/f texture are image content, not noise; uint8 rounding alone is sigma 0.29
    assert estimate_sigma_255(clean_clip) < 0.5


def test_estimate_increases_with_sigma(clean_clip):
    sigmas = [0, 2, 5, 10, 20, 40, 75]
    estimates = [estimate_sigma_255(add_noise(clean_clip, sigma_255, seed=3)) for sigma_255 in sigmas]
    assert all(b > a for a, b in zip(estimates, estimates[1:])), estimates


@pytest.mark.parametrize("sigma_255", [10, 50])
def test_clipping_at_black_and_white_is_modelled(sigma_255):
    noisy = add_noise(natural_frames(seed=5, dark_bright=True), sigma_255)
    saturated = np.mean((noisy == 0) | (noisy == 255))
    assert saturated > 0.2, f"the clip should clip a lot, got {saturated:.0%}"
    # a plain noise measurement sees the clipped (smaller) noise and reads ~15-25% low at sigma 50
    estimate = estimate_sigma_255(noisy)
    assert abs(estimate / sigma_255 - 1) < 0.05, estimate


def test_channel_clipped_on_part_of_the_frame():
    """A black blue channel over a sky (as under green foliage) holds less noise than red and green;
    the textured rest of the blue channel must not pass for noise."""
    clip = natural_frames(seed=0).astype(np.float64)
    fur = np.random.default_rng(7).standard_normal(clip.shape[:3])  # pixel-fine texture [T, H, W]
    clip[:, 77:] += 20 * fur[:, 77:, :, None] * np.array([1.0, 0.8, 0.6])
    clip[:, :77, :, 2] = 2
    clip = np.clip(np.round(clip), 0, 255).astype(np.uint8)
    # without per-channel whitening the estimate reads ~2% high
    assert abs(estimate_sigma_255(add_noise(clip, 25)) / 25 - 1) < 0.01


def test_single_frame_and_tiny_frame():
    clip = natural_frames(seed=2, frame_count=1)
    assert abs(estimate_sigma_255(add_noise(clip, 25)) / 25 - 1) < 0.05
    tiny = add_noise(clip[:, 40:56, 60:76], 25)  # [1, 16, 16, 3]
    assert abs(estimate_sigma_255(tiny) / 25 - 1) < 0.25


def test_grayscale_video(clean_clip):
    grey = np.repeat(clean_clip[..., :1], 3, axis=-1)  # R = G = B
    # colour noise on grey content
    assert abs(estimate_sigma_255(add_noise(grey, 20)) / 20 - 1) < 0.05
    # one noise value per pixel, copied to the three channels: must not read as noise-free
    assert abs(estimate_sigma_255(add_noise(grey, 20, per_channel=False)) / 20 - 1) < 0.15


def test_deterministic(clean_clip):
    noisy = add_noise(clean_clip, 15)
    assert estimate_sigma_255(noisy) == estimate_sigma_255(noisy.copy())


@pytest.mark.parametrize(
    "frames",
    [
        np.zeros((4, 4, 3), np.uint8),  # no time axis
        np.zeros((1, 32, 32, 3), np.float32),  # not uint8
        np.zeros((1, 4, 4, 3), np.uint8),  # too few pixels
    ],
)
def test_rejects_unusable_input(frames):
    with pytest.raises(ValueError):
        estimate_sigma_255(frames)


def _write_yuv420_lossless(path, frames_uint8):
    """x264 lossless in 4:2:0: luma is kept exactly, colour is subsampled like a camera file's."""
    import imageio_ffmpeg

    height, width = frames_uint8.shape[1:3]
    writer = imageio_ffmpeg.write_frames(str(path), (width, height), fps=25, codec="libx264", quality=None,
                                         pix_fmt_out="yuv420p", output_params=["-qp", "0"], macro_block_size=1)  # fmt: skip
    writer.send(None)
    for frame in frames_uint8:
        writer.send(np.ascontiguousarray(frame))
    writer.close()
    return path


@pytest.mark.parametrize("sigma_255", [10, 25])
def test_chroma_subsampled_video_is_measured_on_luma(tmp_path, sigma_255):
    from stdit_cli.pipeline import DenoiseOptions, VideoDenoiser
    from stdit_cli.pipeline.noise_kind import SUBSAMPLED_LEVEL_SCALE
    from stdit_cli.pipeline.noise_level import estimate_sigma_255_from_luma
    from stdit_cli.video import VideoReader
    from stdit_cli.weights import resolve_checkpoint

    noisy = add_noise(natural_frames(frame_count=8, height=96, width=128), sigma_255)
    path = _write_yuv420_lossless(tmp_path / "camera.mp4", noisy)
    with VideoReader(path) as reader:
        assert reader.info.chroma_subsampled
        stored = reader.read(0, len(reader))
        # the colour estimator settles on the low-passed chroma directions; luma does not
        assert estimate_sigma_255(stored) < 0.6 * sigma_255
        assert estimate_sigma_255_from_luma(stored) == pytest.approx(sigma_255, rel=0.15)
        # the Gaussian weights run at less than the luma level: the colour noise was averaged 2x2
        denoiser = VideoDenoiser(resolve_checkpoint("unet", None), DenoiseOptions())
        assert denoiser.estimate_sigma(reader) == pytest.approx(SUBSAMPLED_LEVEL_SCALE * sigma_255, rel=0.1)


def test_luma_level_is_read_on_the_sampled_patches_as_on_the_whole_luma_plane():
    from stdit_cli.pipeline.noise_level import LUMA_NOISE_GAIN, estimate_sigma_255_from_luma, luma_uint8

    frames = add_noise(natural_frames(frame_count=4, height=72, width=96), 20)
    whole_plane = estimate_sigma_255(luma_uint8(frames)) / LUMA_NOISE_GAIN  # [T, H, W, 1] first
    assert estimate_sigma_255_from_luma(frames) == pytest.approx(whole_plane, rel=1e-4)
    with pytest.raises(ValueError, match="RGB"):
        estimate_sigma_255(frames[..., :1], luma=True)


def test_rgb_and_444_video_is_not_chroma_subsampled():
    from stdit_cli.video import VideoInfo
    import dataclasses

    fields = {f.name for f in dataclasses.fields(VideoInfo)}
    assert "pix_fmt" in fields
    for pix_fmt, subsampled in [("yuv420p", True), ("yuv422p", True), ("nv12", True), ("yuv420p10le", True),
                                ("yuv444p", False), ("gbrp", False), ("rgb24", False), ("gray", False), ("", False)]:  # fmt: skip
        info = VideoInfo.__new__(VideoInfo)
        object.__setattr__(info, "pix_fmt", pix_fmt)
        assert info.chroma_subsampled is subsampled, pix_fmt
