"""The ``stdit`` command line. Commands parse options, call the library and print results."""

from __future__ import annotations

import json
import math
import sys
from fractions import Fraction
from pathlib import Path

import click
from click.core import ParameterSource
from rich.console import Console
from rich.table import Table

from stdit_cli import __version__
from stdit_cli.choices import DEVICES, MAX_STRENGTH, MODEL_NAMES, NOISE_MODES, PRECISIONS
from stdit_cli.presets import PresetError

MODEL_CHOICE = click.Choice(MODEL_NAMES)


class FiniteFloatRange(click.FloatRange):
    """``click.FloatRange`` that also refuses ``nan`` and ``inf`` (which pass its comparisons)."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="stdit")
def main() -> None:
    """stdit: video denoising with spatio-temporal diffusion models."""


def run() -> None:
    """The ``stdit`` executable: :func:`main`, then an exit without the interpreter's teardown
    when nothing is left for it to finish (``stdit_cli.startup``). Tests invoke ``main``."""
    from stdit_cli.startup import exit_quickly, teardown_is_idle

    try:
        main()
    except SystemExit as done:
        if isinstance(done.code, int) and teardown_is_idle():
            exit_quickly(done.code)
        raise


@main.command("inspect-shapes")
@click.option("--model", "model_name", type=MODEL_CHOICE, default="unet", show_default=True, help="Backbone.")
@click.option("--config", "preset", default="tiny", show_default=True, help="Preset name (tiny, small, base) or a YAML file, built with random weights.")
@click.option("--checkpoint", default=None, help="A trained checkpoint instead of --config (a save_pretrained folder or .safetensors file), or 'shipped': the weights `stdit denoise --model M` runs.")
@click.option("--frames", type=click.IntRange(min=1), default=None, help="Frames T (default: the model's window).")
@click.option("--height", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--width", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--video", type=click.Path(path_type=Path), default=None, help="Take the first frames of this video (or frame folder) instead of random data.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def inspect_shapes(model_name, preset, checkpoint, frames, height, width, video, as_json) -> None:
    """Run one forward pass and show the tensor layout at every stage."""
    context = click.get_current_context()
    if checkpoint is not None and context.get_parameter_source("preset") == ParameterSource.COMMANDLINE:
        raise click.UsageError("give --config (a preset, random weights) or --checkpoint (trained weights), not both")
    from stdit_cli.choices import SetupError
    from stdit_cli.shape_report import build_report
    from stdit_cli.video import VideoError
    from stdit_cli.weights import CheckpointError

    given = [f"--{name}" for name in ("height", "width") if context.get_parameter_source(name) == ParameterSource.COMMANDLINE]
    if video is not None and given:
        click.echo(f"note: {'/'.join(given)} set the size of random frames; --video gives its own", err=True)
    # with --checkpoint PATH and no --model: the backbone the checkpoint holds (as `stdit denoise` does)
    model_given = context.get_parameter_source("model_name") == ParameterSource.COMMANDLINE
    if checkpoint not in (None, "shipped") and not model_given:
        model_name = None
    try:
        report = build_report(model_name, preset, frames=frames, height=height, width=width, video=video, checkpoint=checkpoint)
    except (PresetError, CheckpointError) as error:  # the network asked for cannot be built: a usage error
        raise SetupError(str(error)) from None
    except VideoError as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
        return
    console = Console()
    weights = f"preset {report.preset}" if checkpoint is None else report.preset
    table = Table(title=f"{report.model_class} ({report.model}, {weights}): {report.parameters:,} parameters")
    for column in ("stage", "tensor", "shape", "dtype", "layout", "note"):
        table.add_column(column)
    for stage in report.stages:
        shape = "None" if stage.shape is None else str(stage.shape)
        table.add_row(stage.stage, stage.name, shape, stage.dtype or "-", stage.layout, stage.note)
    console.print(table)
    console.print(f"input layout: [bold]{report.input_layout}[/]   permutation: [bold]{report.permutation}[/]")
    if report.token_grid is not None:
        console.print(f"token grid: {json.dumps(report.token_grid)}")


def _low_high(ctx, param, value: tuple) -> tuple:
    """A (LOW, HIGH) option whose LOW is above its HIGH: a usage error, not numpy's traceback mid-run."""
    if value[0] > value[1]:
        raise click.BadParameter(f"LOW {value[0]:g} is above HIGH {value[1]:g}; give the range low first")
    return value


def _parse_sigma(ctx, param, value: str) -> float | None:
    if value == "auto":
        return None
    try:
        sigma = float(value)
    except ValueError:
        raise click.BadParameter(f"expected 'auto' or a number on the 0..255 scale, got {value!r}") from None
    if not 0 <= sigma <= 255:
        raise click.BadParameter(f"sigma must be within 0..255, got {sigma:g}")
    return sigma


#: frame rates written as decimals that mean the NTSC fractions (as cameras and editors label them)
_NTSC_RATES = {"23.976": Fraction(24000, 1001), "23.98": Fraction(24000, 1001), "29.97": Fraction(30000, 1001),
               "47.952": Fraction(48000, 1001), "59.94": Fraction(60000, 1001), "119.88": Fraction(120000, 1001)}  # fmt: skip


def _parse_frame_rate(ctx, param, value: str | None) -> Fraction | None:
    if value is None:
        return None
    try:
        rate = _NTSC_RATES.get(value.strip()) or Fraction(value.strip())
    except (ValueError, ZeroDivisionError):
        raise click.BadParameter(f"expected a rate such as 24, 29.97 or 30000/1001, got {value!r}") from None
    if not 0 < rate <= 1000:
        raise click.BadParameter(f"the frame rate must be within (0, 1000] frames/s, got {value}")
    return rate


def _parse_batch_size(ctx, param, value: str) -> int | None:
    if value == "auto":
        return None
    try:
        size = int(value)
    except ValueError:
        raise click.BadParameter(f"expected 'auto' or a positive integer, got {value!r}") from None
    if size < 1:
        raise click.BadParameter(f"expected 'auto' or a positive integer, got {size}")
    return size


@main.command()
@click.argument("inputs", nargs=-1, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(), default=None, help="Output file (one input), or a folder, created if missing (default: <stem>.denoised.mp4 beside each input; a photo, .png/.jpg/.tif/.webp/.bmp, comes back as <stem>.denoised with its own extension; a folder of pictures as the folder <name>.denoised); '-': stdout, once complete (a video as Matroska).")
@click.option("--inputs-from", metavar="FILE", default=None, help="Also denoise the paths listed in FILE, one per line ('-': stdin; blank lines and # comments skipped).")
@click.option("--relative-to", type=click.Path(file_okay=False, path_type=Path), default=None, help="With -o FOLDER: recreate each input's folders below this one under FOLDER.")
@click.option("--skip-existing", is_flag=True, help="Skip inputs whose output exists and is complete (a rerun resumes a stopped batch).")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write one JSON line per input (status, error, sigma, frames, seconds...) to this file as the batch goes.")
@click.option("--overwrite", is_flag=True, help="Replace existing output files (never the input).")
@click.option("--model", "model_name", type=MODEL_CHOICE, default="unet", show_default=True, help="Backbone whose shipped weights to use (with --checkpoint: the one it holds, unless given).")
@click.option("--checkpoint", type=click.Path(exists=True, path_type=Path), default=None, help="A save_pretrained folder, or a .safetensors file with its config.json.")
@click.option("--noise", type=click.Choice(NOISE_MODES), default="auto", show_default=True, help="The kind of noise. real: camera/phone noise (signal-dependent, correlated, compressed), the real-noise weights and a blind learned level. gaussian: added white noise, --sigma exact. auto: gaussian when --sigma N is given (or with --checkpoint); with no number, per video: gaussian when the noise reads as white, else real (with --fast: the cheaper real-noise weights where they ship).")
@click.option("--sigma", callback=_parse_sigma, default="auto", show_default=True, help="Noise level on the 0..255 scale (with --noise real: the noise's RMS), or 'auto' to estimate it.")
@click.option("--strength", type=FiniteFloatRange(0.0, MAX_STRENGTH), default=1.0, show_default=True, help="How much to denoise. Below 1 keeps grain: a share 1-S of the removed noise is put back (0.7 keeps 30%). Above 1 denoises as if the noise were S times the given or estimated sigma: smoother, at the cost of fine detail.")
@click.option("--steps", type=click.IntRange(min=1), default=1, show_default=True, help="Sampler steps from t* (1 = one-shot estimate).")
@click.option("--scheduler", type=click.Choice(["ddim", "ddpm"]), default="ddim", show_default=True)
@click.option("--eta", type=FiniteFloatRange(0.0, 1.0), default=0.0, show_default=True, help="DDIM noise weight, 0..1 (0 = deterministic; 1 = as much fresh noise as DDPM).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sampler's noise (same seed, same output).")
@click.option("--tile", type=click.IntRange(min=8), default=None, help="Spatial tile side in pixels (default: per model and device; the unet 640 on a CPU, 1024 on a GPU).")
@click.option("--tile-overlap", type=click.IntRange(min=0), default=None, help="Pixels shared by neighbouring tiles (default: per model).")
@click.option("--window-overlap", type=click.IntRange(min=0), default=None, help="Frames shared by consecutive windows (default: 0, every frame denoised once per view).")
@click.option("--batch-size", callback=_parse_batch_size, default="auto", show_default=True, help="Windows/tiles per forward pass, or 'auto' (1 on CPU; sized from free memory on GPUs).")
@click.option("--fast", is_flag=True, help="Cheaper: the model's smaller shipped checkpoint where one ships (unet: the default's layout with a third of its channels, about a quarter of its FLOPs) and x264 superfast at CRF 9 instead of veryfast at CRF 10 (same fidelity, about 1.2x the bytes); one view, whatever the frame size (the default: one from 640x272 up). On a 2-core CPU with bf16 in hardware 1.4-2.4x the speed of ffmpeg -vf nlmeans as typed, 2.5x the default's speed on one without (fp32: README, Speed) and above its quality on average, less clean than the default on flat footage and fine texture (README: Quality).")
@click.option("--ensemble", type=click.Choice(["1", "2", "4", "8"]), default=None, show_default="1; 2 for a still; below 640x272 as many as fit in one view's time there", help="Average the model over N symmetric views of each window (2: + transposed; 4: + rotated 180 degrees and anti-transposed; 8: all mirrors and rotations): N times the model time for a better estimate (validation suite, sigma 25: 2 views +0.35 dB over 1).")
@click.option("--compile", "compile_model", is_flag=True, help="torch.compile the backbone (falls back to eager where unsupported).")
@click.option("--device", type=click.Choice(DEVICES), default="auto", show_default=True)
@click.option("--precision", type=click.Choice(PRECISIONS), default="auto", show_default=True, help="Autocast precision. auto: bf16 on CUDA and on CPUs with native bf16 (AVX512-BF16/AMX), fp32 elsewhere.")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="CPU threads (default: $OMP_NUM_THREADS if set, else every core).")
@click.option("--lossless/--lossy", default=None, help="Bit-exact RGB output (libx264rgb -qp 0, or FFV1 in .mkv), or H.264 (x264 veryfast at CRF 10; --fast: superfast at CRF 9). Default: lossless when the input is stored losslessly (FFV1, x264 -qp 0, PNG...), else H.264, 4:4:4 for an RGB or 4:4:4 input, 4:2:0 otherwise.")
@click.option("--frame-rate", "frame_rate", callback=_parse_frame_rate, default=None, metavar="RATE", help="The rate of the video a folder of pictures is read as, frames/s (default 25): 24, 30000/1001, or 29.97 and the other NTSC decimals, read as 30000/1001 and so on. It sets the output video's rate with -o clip.mp4. Videos keep their own rate.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON line per video on stdout.")
def denoise(inputs, output, inputs_from, relative_to, skip_existing, report, overwrite, model_name, checkpoint, noise, sigma, strength, steps, scheduler, eta, seed, tile, tile_overlap,
            window_overlap, batch_size, fast, ensemble, compile_model, device, precision, threads, lossless, frame_rate, quiet,
            as_json) -> None:  # fmt: skip
    """Denoise one or more videos (a batch: one model load; see --inputs-from, --skip-existing, --report).

    An input may also be a photo, a folder of numbered pictures read as a 25 fps video (--frame-rate),
    or '-': a video piped into stdin (needs -o)."""
    from stdit_cli.batch.interrupts import exit_after_signal
    from stdit_cli.batch.runner import DenoiseJob, run_denoise
    from stdit_cli.pipeline import DenoiseOptions

    options = DenoiseOptions(
        sigma_255=sigma, strength=strength, steps=steps, scheduler=scheduler, eta=eta, seed=seed, tile=tile, tile_overlap=tile_overlap,
        window_overlap=window_overlap, batch_size=batch_size, fast=fast, compile=compile_model, device=device,
        precision=precision, lossless=lossless, ensemble=None if ensemble is None else int(ensemble), noise=noise,
        frame_rate=frame_rate,
    )  # fmt: skip
    if checkpoint is not None and click.get_current_context().get_parameter_source("model_name") != ParameterSource.COMMANDLINE:
        model_name = None  # the backbone the checkpoint holds
    job = DenoiseJob(inputs=list(inputs), output=output, overwrite=overwrite, model_name=model_name,
                     checkpoint=checkpoint, options=options, threads=threads, quiet=quiet, as_json=as_json,
                     inputs_from=inputs_from, skip_existing=skip_existing, report=report, relative_to=relative_to)  # fmt: skip
    code = run_denoise(job)
    if code > 128:  # stopped by signal code - 128: all written and reported
        exit_after_signal(code)
    sys.exit(code)


@main.command()
@click.option("--model", "model_name", type=MODEL_CHOICE, default="unet", show_default=True)
@click.option("--config", "preset", default="small", show_default=True, help="Preset name or YAML file.")
@click.option("--data", multiple=True, required=True, help="Folder of videos, frame sequences or stills; prefix video:/frames:/stills: to force the kind. Repeatable.")
@click.option("--val", default=None, help="Folder holding the held-apart validation clip (default: the first training sequence).")
@click.option("--frames", type=click.IntRange(min=1), default=None, help="Frames per clip (default: the model's window).")
@click.option("--crop", type=click.IntRange(min=8), default=64, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--steps", type=click.IntRange(min=1), default=5000, show_default=True, help="Length of the run (and of its learning-rate schedule).")
@click.option("--stop-at", type=click.IntRange(min=1), default=None, help="End this run at this step, keeping the --steps schedule; --resume latest goes on later.")
@click.option("--lr", type=FiniteFloatRange(min=0.0), default=2e-4, show_default=True)
@click.option("--warmup", type=click.IntRange(min=0), default=200, show_default=True)
@click.option("--ema-decay", type=FiniteFloatRange(0.0, 1.0), default=0.999, show_default=True)
@click.option("--prediction-type", type=click.Choice(["epsilon", "v_prediction"]), default="epsilon", show_default=True)
@click.option("--downscale", type=click.IntRange(min=1), default=1, show_default=True, help="Box-downscale the training data by this factor.")
@click.option("--out", default="runs/unet", show_default=True, help="Output folder (checkpoints and final weights).")
@click.option("--checkpoint-every", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--val-every", type=click.IntRange(min=1), default=500, show_default=True)
@click.option("--resume", default=None, help="A checkpoint folder, or 'latest' in --out.")
@click.option("--init-from", default=None, help="Start from this checkpoint's weights (same model and preset) with a fresh optimiser, schedule and EMA: a fine-tune. 'shipped': the weights `stdit denoise --model M` runs (unet: with --config halfres-wide).")
@click.option("--init-partial", is_flag=True, help="--init-from may hold another configuration of the model: copy the tensors both have (same name and shape), drop its others, initialise the preset's others fresh.")
@click.option("--sigma-weight-power", type=FiniteFloatRange(), default=0.0, show_default=True, help="Weight each clip's loss by (sigma/25)^P: P > 0 moves training effort towards high noise.")
@click.option("--scale-range", type=(FiniteFloatRange(min=1.0), FiniteFloatRange(min=1.0)), callback=_low_high, default=(1.0, 1.0), show_default=True, help="Area-downscale each crop by a factor drawn in [LOW, HIGH] (native and downscaled detail).")
@click.option("--soft-fraction", type=FiniteFloatRange(0.0, 1.0), default=0.0, show_default=True, help="Share of clips blurred like a soft lens (Gaussian, 0.6-2 px).")
@click.option("--smooth-fraction", type=FiniteFloatRange(0.0, 1.0), default=0.0, show_default=True, help="Share of clips replaced by synthetic flat fields and smooth gradients.")
@click.option("--camera-fraction", type=FiniteFloatRange(0.0, 1.0), default=0.0, show_default=True, help="Share of clips given realistic camera noise (signal-dependent, demosaiced, some blurred) instead of white Gaussian noise.")
@click.option("--camera-jpeg-fraction", type=FiniteFloatRange(0.0, 1.0), default=0.5, show_default=True, help="Share of the camera-noise clips also JPEG-compressed (quality 50-95).")
@click.option("--camera-chroma-fraction", type=FiniteFloatRange(0.0, 1.0), default=0.0, show_default=True, help="Share of the camera-noise clips whose colour noise is blurred 1.5-4 px (in-camera chroma noise reduction).")
@click.option("--camera-blotch-fraction", type=FiniteFloatRange(0.0, 1.0), default=0.0, show_default=True, help="Share of those blurred-colour clips whose colour noise keeps its full amplitude (times 0.6-1.5): the colour blotches a phone leaves in low light.")
@click.option("--camera-blur-fraction", type=FiniteFloatRange(0.0, 1.0), default=0.3, show_default=True, help="Share of the camera-noise clips whose noise is blurred (in-camera noise reduction: spatially correlated noise).")
@click.option("--camera-blur-sigma", type=(FiniteFloatRange(min=0.0), FiniteFloatRange(min=0.0)), callback=_low_high, default=(0.5, 1.5), show_default=True, help="Range of that blur's Gaussian sigma, pixels (drawn per clip).")
@click.option("--camera-shot-range", type=(FiniteFloatRange(min=0.0, min_open=True), FiniteFloatRange(min=0.0, min_open=True)), callback=_low_high, default=(1e-5, 1.2e-2), show_default=True, help="Log-uniform range of the cameras' shot-noise gain (linear 0..1 raw scale): 1.2e-2 gives noise of RMS about 30 on 0..255 before any blur, 1e-1 about 85 (dim phone footage).")
@click.option("--camera-clean-fraction", type=FiniteFloatRange(0.0, 1.0), default=0.0, show_default=True, help="Share of the camera-noise clips left clean but labelled with a level from --camera-clean-level (the blind level reads clean texture as noise: such a clip should come back unchanged).")
@click.option("--camera-clean-level", type=(FiniteFloatRange(min=0.0), FiniteFloatRange(min=0.0)), callback=_low_high, default=(3.0, 10.0), show_default=True, help="Range of that label, on 0..255 (drawn per clip).")
@click.option("--camera-random-cfa", is_flag=True, help="Draw each camera-noise clip's Bayer phase (RGGB, GRBG, GBRG, BGGR as the crop sees it) instead of always RGGB from the top-left pixel.")
@click.option("--camera-h264-fraction", type=FiniteFloatRange(0.0, 1.0), default=0.0, show_default=True, help="Share of the camera-noise clips stored as 4:2:0 H.264 (how phones store video) instead of JPEG.")
@click.option("--camera-h264-crf", type=(click.IntRange(0, 51), click.IntRange(0, 51)), callback=_low_high, default=(16, 28), show_default=True, help="Range of that encode's x264 CRF (drawn per clip).")
@click.option("--camera-gray-fraction", type=FiniteFloatRange(0.0, 1.0), default=0.0, show_default=True, help="Share of the camera-noise clips made black-and-white (BT.601 luma in all three channels) after the noise and before JPEG, the clean target alike (an infrared night camera's video); as much of the --real-pairs photos too.")
@click.option("--camera-gray-level", type=click.Choice(["rms", "learned"]), default="rms", show_default=True, help="A black-and-white clip's level label: the RMS of its noise, or the level `stdit denoise` reads on it (the shipped estimator, which reads heavy gray noise low).")
@click.option("--level-estimator", type=click.Path(exists=True, file_okay=False), default=None, help="With --camera-gray-level learned: the noise-level estimator that reads the labels (a folder; default: the shipped one), saved with the weights, which read videos' levels with it.")
@click.option("--camera-sharpen-fraction", type=FiniteFloatRange(0.0, 1.0), default=0.0, show_default=True, help="Share of the camera-noise clips sharpened after the noise (an unsharp mask on luma, radius 0.7-1.5 px, as phones sharpen), the clean target sharpened alike.")
@click.option("--camera-sharpen-amount", type=(FiniteFloatRange(min=0.0), FiniteFloatRange(min=0.0)), callback=_low_high, default=(0.2, 1.0), show_default=True, help="Range of that unsharp mask's amount (drawn per clip).")
@click.option("--compressed-fraction", type=FiniteFloatRange(0.0, 1.0), default=0.0, show_default=True, help="Share of the white-noise clips stored as 4:2:0 H.264 after the noise (how noisy footage arrives), labelled with the level the pipeline reads on them.")
@click.option("--compressed-crf", type=(click.IntRange(0, 51), click.IntRange(0, 51)), callback=_low_high, default=(12, 30), show_default=True, help="Range of that encode's x264 CRF (drawn per clip).")
@click.option("--compressed-clean-fraction", type=FiniteFloatRange(0.0, 1.0), default=0.0, show_default=True, help="Share of those clips encoded without noise, labelled with the level read on them (dense clean texture reads as noise: it should come back unchanged).")
@click.option("--real-pairs", type=click.Path(exists=True, file_okay=False), default=None, help="A folder of real noisy photos with references (PolyU's layout: *_real.JPG beside *_mean.JPG): --real-fraction of the clips become still crops of them.")
@click.option("--real-cameras", multiple=True, default=("Canon5D2", "NikonD800"), show_default=True, help="The cameras (first field of the file name) of --real-pairs that train; the others stay for validation. Repeatable.")
@click.option("--real-fraction", type=FiniteFloatRange(0.0, 1.0), default=0.0, show_default=True, help="Share of clips replaced by real noisy/reference pairs.")
@click.option("--teacher", type=click.Path(exists=True), default=None, help="A checkpoint (same noise schedule and window) whose prediction is blended into the training target: distillation from a stronger model.")
@click.option("--teacher-weight", type=FiniteFloatRange(0.0, 1.0), default=0.75, show_default=True, help="The teacher's share of the target (1: pure imitation).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--precision", type=click.Choice(["fp32", "bf16", "fp16"]), default="fp32", show_default=True)
@click.option("--threads", type=click.IntRange(min=1), default=None, help="CPU threads (default: all cores).")
def train(model_name, preset, data, val, frames, crop, batch_size, steps, stop_at, lr, warmup, ema_decay, prediction_type, downscale,
          out, checkpoint_every, val_every, resume, init_from, init_partial, sigma_weight_power, scale_range, soft_fraction,
          smooth_fraction, camera_fraction, camera_jpeg_fraction, camera_chroma_fraction, camera_blotch_fraction, camera_blur_fraction, camera_blur_sigma, camera_shot_range,
          camera_random_cfa, camera_clean_fraction, camera_clean_level, camera_h264_fraction, camera_h264_crf, camera_sharpen_fraction, camera_sharpen_amount, camera_gray_fraction, camera_gray_level, level_estimator, compressed_fraction, compressed_crf, compressed_clean_fraction, real_pairs, real_cameras, real_fraction, teacher, teacher_weight, seed, device, precision, threads) -> None:  # fmt: skip
    """Train a backbone on the diffusion objective (checkpoints go to --out)."""
    from stdit_cli.choices import SetupError
    from stdit_cli.runtime import RuntimeSetupError, set_threads
    from stdit_cli.train.data import DataError
    from stdit_cli.train.loop import TrainConfig, TrainError, check_training_device, idle_options
    from stdit_cli.train.progress import run_with_progress
    from stdit_cli.weights import CheckpointError

    context = click.get_current_context()
    if init_from is not None and resume not in (None, "latest"):  # latest: go on if the run has a checkpoint, else start from init_from
        raise click.UsageError("--init-from starts a new run from a checkpoint and --resume goes on with one: give one of them "
                               "(or --resume latest: go on with --out's run where it has a checkpoint, else start from --init-from)")
    if stop_at is not None and stop_at > steps:
        raise click.UsageError(f"--stop-at {stop_at} is past the run's end (--steps {steps}): give a step at most {steps}")
    try:
        check_training_device(device, precision)
    except RuntimeSetupError as error:
        raise SetupError(str(error)) from None
    given = {name for name in context.params if context.get_parameter_source(name) == ParameterSource.COMMANDLINE}
    set_threads(threads)
    config = TrainConfig(
        model=model_name, preset=preset, data=list(data), val=val, out=out, frames=frames, crop=crop,
        batch_size=batch_size, steps=steps, stop_at=stop_at, lr=lr, warmup=warmup, ema_decay=ema_decay,
        prediction_type=prediction_type, downscale=downscale, checkpoint_every=checkpoint_every,
        val_every=val_every, seed=seed, device=device, precision=precision, resume=resume, init_from=init_from, init_partial=init_partial,
        sigma_weight_power=sigma_weight_power, scale_range=scale_range, soft_fraction=soft_fraction,
        smooth_fraction=smooth_fraction, camera_fraction=camera_fraction, camera_jpeg_fraction=camera_jpeg_fraction,
        camera_chroma_fraction=camera_chroma_fraction, camera_blotch_fraction=camera_blotch_fraction, camera_blur_fraction=camera_blur_fraction, camera_blur_sigma=camera_blur_sigma,
        camera_shot_range=camera_shot_range, camera_random_cfa=camera_random_cfa,
        camera_clean_fraction=camera_clean_fraction, camera_clean_level=camera_clean_level,
        camera_h264_fraction=camera_h264_fraction, camera_h264_crf=camera_h264_crf,
        camera_sharpen_fraction=camera_sharpen_fraction, camera_sharpen_amount=camera_sharpen_amount,
        camera_gray_fraction=camera_gray_fraction, camera_gray_level=camera_gray_level, level_estimator=level_estimator,
        compressed_fraction=compressed_fraction, compressed_crf=compressed_crf,
        compressed_clean_fraction=compressed_clean_fraction, real_pairs=real_pairs, real_cameras=tuple(real_cameras), real_fraction=real_fraction,
        teacher=teacher, teacher_weight=teacher_weight,
    )  # fmt: skip
    for message in idle_options(config, given):
        click.echo(f"warning: {message}; ignored", err=True)
    try:
        run_with_progress(config)
    except (PresetError, CheckpointError) as error:  # the network or the weights asked for: a usage error
        raise SetupError(str(error)) from None
    except (DataError, TrainError, FileNotFoundError, ValueError) as error:  # ValueError: the data's own (real pairs...)
        raise click.ClickException(str(error).strip().splitlines()[0]) from None


if __name__ == "__main__":
    main()
