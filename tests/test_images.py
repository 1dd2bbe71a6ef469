"""A photo in, a photo out: image outputs, EXIF orientation, and the CLI on a still."""

from __future__ import annotations

import io
import json
import subprocess
import warnings
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageOps, JpegImagePlugin

from stdit_cli.cli import main
from stdit_cli.video import VideoError, VideoReader, default_output_path, open_writer, probe_video
from stdit_cli.video.image_writer import ImageWriter, check_image_output
from stdit_cli.video.orientation import EXIF_ORIENTATIONS


def _picture(height=30, width=44, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.stack([xx * 5, yy * 7, (xx + yy) * 3], -1)
    return ((base + rng.integers(0, 40, base.shape)) % 256).astype(np.uint8)


@pytest.mark.parametrize("name, expected", [
    ("shot.png", "shot.denoised.png"), ("IMG_1.JPG", "IMG_1.denoised.JPG"), ("scan.tiff", "scan.denoised.tiff"),
    ("clip.mkv", "clip.denoised.mp4"), ("clip.MOV", "clip.denoised.mp4"),
])  # fmt: skip
def test_an_image_comes_back_with_its_own_extension_and_a_video_as_mp4(tmp_path, name, expected):
    assert default_output_path(tmp_path / name) == tmp_path / expected


@pytest.mark.parametrize("suffix", [".png", ".tif", ".bmp", ".webp"])
def test_lossless_image_formats_store_the_frame_bit_exactly(tmp_path, suffix):
    frame = _picture()
    out = tmp_path / f"out{suffix}"
    with open_writer(out, 44, 30, 25, lossless=True) as writer:
        assert isinstance(writer, ImageWriter)
        writer.write(frame[None])
    assert writer.lossless
    np.testing.assert_array_equal(np.asarray(Image.open(out).convert("RGB")), frame)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left


def test_jpeg_is_lossy_but_close_and_keeps_full_colour_when_asked(tmp_path):
    frame = _picture()
    out = tmp_path / "out.jpg"
    with open_writer(out, 44, 30, 25, lossless=True, full_chroma=True) as writer:  # as-input lossless: JPEG anyway
        writer.write(frame[None])
    assert not writer.lossless
    with Image.open(out) as image:
        assert image.format == "JPEG" and JpegImagePlugin.get_sampling(image) == 0  # 4:4:4
        error = np.abs(np.asarray(image.convert("RGB")).astype(int) - frame.astype(int)).mean()
    assert 0 < error < 6


def test_an_image_appears_only_when_complete(tmp_path):
    out = tmp_path / "out.png"
    with pytest.raises(RuntimeError):
        with ImageWriter(out, 44, 30) as writer:
            writer.write(_picture()[None])
            raise RuntimeError("stopped")
    assert not out.exists()
    with pytest.raises(VideoError, match="no frames"):
        ImageWriter(out, 44, 30).close()
    writer = ImageWriter(out, 44, 30)
    writer.write(_picture()[None])
    with pytest.raises(VideoError, match="one frame"):
        writer.write(_picture()[None])
    assert list(tmp_path.iterdir()) == []


def test_an_image_output_is_refused_for_a_video_or_a_lossless_jpeg(tmp_path):
    check_image_output(tmp_path / "out.png", 1, True)
    check_image_output(tmp_path / "out.mp4", 40, True)
    check_image_output(tmp_path / "out.jpg", 1, None)
    with pytest.raises(VideoError, match="holds one frame and the input has 6"):
        check_image_output(tmp_path / "out.png", 6)
    with pytest.raises(VideoError, match="JPEG cannot store"):
        check_image_output(tmp_path / "out.jpeg", 1, True)


@pytest.mark.parametrize("tag", sorted(EXIF_ORIENTATIONS))
def test_a_photo_is_read_upright_as_its_exif_orientation_says(tmp_path, tag):
    path = tmp_path / "photo.png"
    exif = Image.Exif()
    exif[0x0112] = tag
    Image.fromarray(_picture()).save(path, exif=exif)
    upright = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
    info = probe_video(path)
    assert (info.height, info.width) == upright.shape[:2]
    with VideoReader(path) as reader:
        np.testing.assert_array_equal(reader.read(0, 1)[0], upright)


def test_a_png_with_exif_and_a_colour_profile_is_read_upright(tmp_path, identity_checkpoint):
    # FFmpeg 8 gives such a PNG's frame a side data type PyAV 18 does not know: reading the frame's
    # side data raised, then crashed the process (until 2026-12-06)
    path = tmp_path / "screenshot.png"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(_picture()).save(path, exif=exif, icc_profile=b"a colour profile, carried as it is" * 4)
    upright = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
    with VideoReader(path) as reader:
        np.testing.assert_array_equal(reader.read(0, 1)[0], upright)
    result = CliRunner().invoke(main, ["denoise", str(path), "--checkpoint", str(identity_checkpoint), "--sigma", "10",
                                       "--quiet"], catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "screenshot.denoised.png").convert("RGB")), upright)


def test_the_cli_denoises_a_png_into_a_png_and_refuses_an_image_for_a_video(tmp_path, identity_checkpoint):
    frame = _picture(32, 48)
    Image.fromarray(frame).save(tmp_path / "photo.png")
    runner = CliRunner()
    result = runner.invoke(main, ["denoise", str(tmp_path / "photo.png"), "--checkpoint", str(identity_checkpoint),
                                  "--sigma", "10", "--quiet"], catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    out = tmp_path / "photo.denoised.png"
    np.testing.assert_array_equal(np.asarray(Image.open(out).convert("RGB")), frame)  # identity model, lossless PNG

    from conftest import make_video

    clip = make_video(tmp_path / "clip.mp4", frames=3, size="32x24")
    result = runner.invoke(main, ["denoise", str(clip), "-o", str(tmp_path / "still.png"), "--checkpoint",
                                  str(identity_checkpoint), "--sigma", "10", "--quiet"], catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 1
    assert "an image holds one frame and the input has 3" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "still.png").exists()


def test_a_photo_keeps_its_exif_and_colour_profile_upright(tmp_path):
    source = tmp_path / "IMG_1.jpg"
    exif = Image.Exif()
    exif[0x0112], exif[0x010F], exif[0x0132] = 6, "Phone maker", "2024:05:01 10:20:30"
    profile = b"not a real profile, but carried as it is" * 4
    Image.fromarray(_picture()).save(source, exif=exif, icc_profile=profile, quality=92)
    for suffix in (".jpg", ".png", ".webp", ".tif"):
        out = tmp_path / f"out{suffix}"
        with open_writer(out, 30, 44, 25, metadata_source=source) as writer:
            writer.write(_picture(44, 30)[None])
        with Image.open(out) as image:
            copied = image.getexif()
            assert (copied[0x010F], copied[0x0132], copied[0x0112]) == ("Phone maker", "2024:05:01 10:20:30", 1), suffix
            assert image.info.get("icc_profile") == profile, suffix
    with open_writer(tmp_path / "out.bmp", 30, 44, 25, metadata_source=source) as writer:  # BMP holds neither
        writer.write(_picture(44, 30)[None])
    with open_writer(tmp_path / "from_video.png", 30, 44, 25, metadata_source=tmp_path / "out.bmp") as writer:
        writer.write(_picture(44, 30)[None])
    assert not Image.open(tmp_path / "from_video.png").getexif()


def test_a_transparent_picture_warns_that_its_alpha_is_not_kept(tmp_path):
    from stdit_cli.video import VideoWarning

    path = tmp_path / "logo.png"
    Image.fromarray(np.dstack([_picture(), np.full((30, 44), 128, np.uint8)]), "RGBA").save(path)
    with pytest.warns(VideoWarning, match="alpha .* not kept"):
        VideoReader(path).close()
    opaque = tmp_path / "opaque.png"
    Image.fromarray(_picture()).save(opaque)
    assert not probe_video(opaque).has_alpha
    # RGBA opaque everywhere (a screenshot), and a CMYK JPEG (FFmpeg decodes it with an opaque
    # alpha): nothing to lose, nothing said
    screenshot = tmp_path / "screenshot.png"
    Image.fromarray(np.dstack([_picture(), np.full((30, 44), 255, np.uint8)]), "RGBA").save(screenshot)
    print_job = tmp_path / "print.jpg"
    Image.fromarray(_picture()).convert("CMYK").save(print_job)
    assert probe_video(print_job).pix_fmt == "gbrap"
    for path in (screenshot, print_job):
        assert not probe_video(path).has_alpha
        with warnings.catch_warnings():
            warnings.simplefilter("error", VideoWarning)
            VideoReader(path).close()


def test_an_animated_gif_warns_about_its_alpha_only_where_it_is_transparent(tmp_path):
    from stdit_cli.video import VideoWarning

    # FFmpeg decodes every GIF with an alpha plane; a GIF's frames after the first leave unchanged
    # pixels transparent, and the decoder fills them in from the frame before: opaque as shown
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (32, 48, 3), dtype=np.uint8)
    frames = [base.copy() for _ in range(6)]
    for index, frame in enumerate(frames):
        frame[8:16, 4 * index : 4 * index + 8] = 255  # a block that moves; the rest unchanged
    opaque = tmp_path / "opaque.gif"
    Image.fromarray(frames[0]).save(opaque, save_all=True, append_images=[Image.fromarray(f) for f in frames[1:]], duration=40)
    assert probe_video(opaque).pix_fmt == "bgra" and not probe_video(opaque).has_alpha
    with warnings.catch_warnings():
        warnings.simplefilter("error", VideoWarning)
        VideoReader(opaque).close()
    # a sticker (flat colours, as GIF stickers are) on a transparent background
    holes = [np.full((32, 48, 4), (40 * index, 120, 200, 255), np.uint8) for index in range(6)]
    for hole in holes:
        hole[:, :10, 3] = 0
    sticker = tmp_path / "sticker.gif"
    Image.fromarray(holes[0], "RGBA").save(sticker, save_all=True, append_images=[Image.fromarray(f, "RGBA") for f in holes[1:]],
                                           duration=40, disposal=2)  # fmt: skip
    assert probe_video(sticker).has_alpha
    with pytest.warns(VideoWarning, match="alpha .* not kept"):
        VideoReader(sticker).close()


def test_a_cmyk_tiff_comes_back_as_a_readable_rgb_tiff(tmp_path, identity_checkpoint):
    # its EXIF is its first IFD, which lays out four samples: copied, the RGB output was unreadable
    scan = tmp_path / "scan.tif"
    Image.fromarray(_picture()).convert("CMYK").save(scan)
    result = CliRunner().invoke(main, ["denoise", str(scan), "--checkpoint", str(identity_checkpoint), "--sigma", "10",
                                       "--quiet"], catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    with Image.open(tmp_path / "scan.denoised.tif") as written:
        assert (written.mode, written.size) == ("RGB", (44, 30))
        expected = np.asarray(Image.open(scan).convert("RGB")).astype(int)
        assert np.abs(np.asarray(written).astype(int) - expected).max() <= 2  # FFmpeg's and Pillow's CMYK -> RGB


def test_an_animated_webp_is_refused_with_what_to_do(tmp_path):
    frames = [Image.fromarray(_picture(seed=seed)) for seed in range(3)]
    path = tmp_path / "sticker.webp"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=40, loop=0)
    with pytest.raises(VideoError, match="an animated WebP, which FFmpeg cannot decode .* denoise the folder"):
        probe_video(path)


def _ffmpeg_shows(path: Path) -> np.ndarray:
    """The picture as FFmpeg's command line shows it (a HEIF grid assembled, turned upright)."""
    png = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-frames:v", "1", "-f", "image2pipe",
                          "-c:v", "png", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout  # fmt: skip
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


@pytest.mark.parametrize(("name", "size"), [("grid_2x2.heic", (128, 96)), ("grid_2x2_turned.heic", (96, 128))])
def test_a_heic_photo_stored_as_tiles_is_read_whole_and_upright(tmp_path, identity_checkpoint, name, size):
    # tests/data: a 128x96 gradient saved by pillow-heif with tile_size=64, as phones save photos (a HEIF
    # tile grid), the second with EXIF Orientation 6 (pillow-heif stores it as the grid's rotation). PyAV
    # shows the four 64x64 tiles as streams: the first one was denoised as if it were the photo
    source = tmp_path / name
    source.write_bytes((Path(__file__).parent / "data" / name).read_bytes())
    info = probe_video(source)
    assert ((info.width, info.height), info.num_frames, info.heif_tiles) == (size, 1, 4)
    shown = _ffmpeg_shows(source)
    with VideoReader(source) as reader:
        np.testing.assert_array_equal(reader.read(0, 1)[0], shown)
    result = CliRunner().invoke(main, ["denoise", str(source), "--checkpoint", str(identity_checkpoint), "--sigma", "10",
                                       "--quiet"], catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    out = tmp_path / f"{source.stem}.denoised.png"  # stdit writes no HEIF: PNG keeps every sample
    np.testing.assert_array_equal(np.asarray(Image.open(out).convert("RGB")), shown)


def test_a_heic_photo_keeps_its_colour_profile_and_exif_where_pillow_heif_reads_them(tmp_path, identity_checkpoint,
                                                                                      monkeypatch):  # fmt: skip
    pillow_heif = pytest.importorskip("pillow_heif")  # the [heic] extra; the dev extra installs it
    from stdit_cli.video import heif

    pillow_heif.register_heif_opener()
    profile = b"\x00" * 128 + b"a phone's Display P3, carried as it is"
    exif = Image.Exif()
    exif.update({0x0112: 6, 0x010F: "Apple", 0x0132: "2026:01:02 03:04:05"})
    source = tmp_path / "IMG_0001.heic"
    Image.fromarray(_picture(96, 128)).save(source, quality=90, tile_size=64, icc_profile=profile, exif=exif.tobytes())
    assert probe_video(source).heif_tiles == 4
    result = CliRunner().invoke(main, ["denoise", str(source), "--checkpoint", str(identity_checkpoint), "--sigma", "10",
                                       "--json", "--quiet"], catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0 and json.loads(result.output.splitlines()[-1])["warnings"] == []
    with Image.open(tmp_path / "IMG_0001.denoised.png") as written:
        assert written.size == (96, 128)  # turned upright, so Orientation says 1
        assert written.info["icc_profile"] == profile
        assert (written.getexif()[0x010F], written.getexif()[0x0132], written.getexif()[0x0112]) == ("Apple", "2026:01:02 03:04:05", 1)
    # without pillow-heif nothing here reads them: the output says so
    monkeypatch.setattr(heif, "pillow_reads_heif", lambda: False)
    result = CliRunner().invoke(main, ["denoise", str(source), "--checkpoint", str(identity_checkpoint), "--sigma", "10",
                                       "--json", "--quiet", "--overwrite"], catch_exceptions=False)  # fmt: skip
    (warning,) = json.loads(result.output.splitlines()[-1])["warnings"]
    assert "its colour profile (a phone's Display P3) and EXIF are not kept: install pillow-heif" in warning



def test_a_multi_page_tiff_warns_that_only_its_first_page_is_denoised(tmp_path):
    from stdit_cli.video import VideoWarning

    pages = [Image.fromarray(np.roll(_picture(), 7 * index, axis=1)) for index in range(3)]
    stack = tmp_path / "scan.tif"
    pages[0].save(stack, save_all=True, append_images=pages[1:])
    assert probe_video(stack).pages == 3
    with pytest.warns(VideoWarning, match="a TIFF of 3 pages: only the first"):
        VideoReader(stack).close()
    single = tmp_path / "one.tif"
    pages[0].save(single)
    assert probe_video(single).pages == 1


def test_an_animated_gif_comes_back_bit_exact_by_default(tmp_path, identity_checkpoint):
    # a GIF's palette frames are lossless: stored as the input was, they stay so (it was lossy H.264)
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 255, (24, 32, 3), dtype=np.uint8) for _ in range(4)]
    palette = [Image.fromarray(f).quantize(colors=64) for f in frames]
    clip = tmp_path / "loop.gif"
    palette[0].save(clip, save_all=True, append_images=palette[1:], duration=40)
    assert probe_video(clip).lossless
    out = tmp_path / "loop.mp4"
    result = CliRunner().invoke(main, ["denoise", str(clip), "-o", str(out), "--checkpoint", str(identity_checkpoint),
                                       "--sigma", "5", "--json"], catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0 and json.loads(result.stdout.strip().splitlines()[-1])["lossless"] is True
    with VideoReader(out) as written, VideoReader(clip) as source:
        np.testing.assert_array_equal(written.read(0, len(written)), source.read(0, len(source)))


def test_a_pngs_gamma_and_chromaticities_are_kept(tmp_path, identity_checkpoint):
    # a PNG saying how its values map to light (gAMA 1/1.8, cHRM): viewers that honour them show it so
    import struct

    from PIL import PngImagePlugin

    chunks = PngImagePlugin.PngInfo()
    chunks.add(b"gAMA", struct.pack(">I", 55556))
    chunks.add(b"cHRM", struct.pack(">8I", 31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000))
    source = tmp_path / "scan.png"
    Image.fromarray(_picture()).save(source, pnginfo=chunks)
    result = CliRunner().invoke(main, ["denoise", str(source), "--checkpoint", str(identity_checkpoint), "--sigma", "5",
                                       "--quiet"], catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    with Image.open(tmp_path / "scan.denoised.png") as out:
        assert out.info["gamma"] == 0.55556 and out.info["chromaticity"] == (0.3127, 0.329, 0.64, 0.33, 0.3, 0.6, 0.15, 0.06)


def test_a_camera_jpeg_in_422_comes_back_422(tmp_path, identity_checkpoint):
    # cameras store JPEG 4:2:2 (phones 4:2:0): written 4:2:0 its colour lost every other row
    source = tmp_path / "IMG_0001.JPG"
    Image.fromarray(_picture()).save(source, quality=95, subsampling=1)
    assert probe_video(source).half_width_colour
    result = CliRunner().invoke(main, ["denoise", str(source), "--checkpoint", str(identity_checkpoint), "--sigma", "5",
                                       "--quiet"], catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    from PIL import JpegImagePlugin

    with Image.open(tmp_path / "IMG_0001.denoised.JPG") as out:
        assert JpegImagePlugin.get_sampling(out) == 1  # 4:2:2
