"""Sampler math: noise level ↔ timestep, and exact recovery with an oracle epsilon."""

import math

import pytest
import torch
from diffusers import DDIMScheduler, DDPMScheduler

from stdit_cli.pipeline.sampler import (
    DEFAULT_SCHEDULE,
    DiffusionSampler,
    noise_to_signal,
    sampling_timesteps,
    sigma_255_to_unit,
    start_timestep,
)


def _oracle(x_clean, alphas_cumprod):
    """The exact epsilon of a state ``x_t`` whose clean signal is known."""

    def predict(x_t, t_batch):
        abar = alphas_cumprod[t_batch].to(torch.float64).view(-1, 1, 1, 1, 1)
        return ((x_t.double() - abar.sqrt() * x_clean.double()) / (1 - abar).sqrt()).float()

    return predict


@pytest.mark.parametrize("kind", ["ddim", "ddpm"])
@pytest.mark.parametrize("steps", [1, 2, 3, 7, 20])
@pytest.mark.parametrize("sigma_255", [2.0, 10.0, 25.0, 50.0])
def test_oracle_epsilon_recovers_clean_video(kind, steps, sigma_255):
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 4, 8, 8, generator=gen) * 2 - 1
    y = x + sigma_255_to_unit(sigma_255) * torch.randn(x.shape, generator=gen)
    sampler = DiffusionSampler(kind=kind, steps=steps, eta=0.0)
    out = sampler.denoise(_oracle(x, sampler.alphas_cumprod), y, sigma_255, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(out, x, atol=2e-5), (out - x).abs().max()


def test_ddim_with_eta_also_recovers_with_oracle():
    x = torch.rand(1, 3, 2, 8, 8) * 2 - 1
    y = x + sigma_255_to_unit(30) * torch.randn_like(x)
    sampler = DiffusionSampler(kind="ddim", steps=5, eta=1.0)
    out = sampler.denoise(_oracle(x, sampler.alphas_cumprod), y, 30.0, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(out, x, atol=2e-5)


def test_wrong_epsilon_does_not_recover():
    x = torch.rand(1, 3, 2, 8, 8) * 2 - 1
    y = x + sigma_255_to_unit(25) * torch.randn_like(x)
    sampler = DiffusionSampler(kind="ddim", steps=1)
    out = sampler.denoise(lambda x_t, t: torch.zeros_like(x_t), y, 25.0)
    # a zero epsilon leaves the noisy input: the oracle test above is not vacuous
    assert torch.allclose(out, y, atol=1e-5)
    assert (out - x).abs().max() > 0.1


@pytest.mark.parametrize("sigma_255", [5, 10, 25, 50, 75])
def test_start_timestep_matches_noise_level(sigma_255):
    alphas = DDPMScheduler.from_config(DEFAULT_SCHEDULE).alphas_cumprod
    t = start_timestep(alphas, sigma_255_to_unit(sigma_255))
    nsr = noise_to_signal(alphas.double())
    target = sigma_255_to_unit(sigma_255)
    # nearest in log scale: no neighbour is closer
    for other in (t - 1, t + 1):
        if 0 <= other < len(alphas):
            assert abs(math.log(nsr[t] / target)) <= abs(math.log(nsr[other] / target))
    # 1000 linear steps: at sigma >= 5 the nearest step is within 3% of the noise level
    assert abs(nsr[t] / target - 1) < 0.03


def test_sampling_timesteps_line_up_with_ddpm_chain():
    steps = sampling_timesteps(137, 4)
    assert steps[0] == 137 and steps == sorted(set(steps), reverse=True) and len(steps) == 4
    scheduler = DDPMScheduler.from_config(DEFAULT_SCHEDULE)
    scheduler.set_timesteps(timesteps=steps)
    chain = [int(scheduler.previous_timestep(t)) for t in steps]
    assert chain == steps[1:] + [-1]
    # more steps than timesteps below t_start: every step distinct, none repeated
    assert sampling_timesteps(3, 10) == [3, 2, 1, 0] or sampling_timesteps(3, 10)[0] == 3
    assert sampling_timesteps(0, 5) == [0]


def test_ddim_step_uses_visited_alphas():
    sampler = DiffusionSampler(kind="ddim", steps=3)
    timesteps = sampler.timesteps(40.0)
    scheduler = sampler._scheduler(timesteps)
    x_t = torch.ones(1, 3, 1, 2, 2)
    # with a zero epsilon, DDIM moves x_t to sqrt(abar_prev / abar_t) * x_t
    out = scheduler.step(torch.zeros_like(x_t), timesteps[0], x_t, eta=0.0).prev_sample
    abar = sampler.alphas_cumprod
    expected = math.sqrt(float(abar[timesteps[1]]) / float(abar[timesteps[0]]))
    assert torch.allclose(out, torch.full_like(x_t, expected), atol=1e-6)


def test_ddpm_same_seed_same_output():
    y = torch.rand(1, 3, 2, 8, 8) * 2 - 1
    sampler = DiffusionSampler(kind="ddpm", steps=4)
    zero = lambda x_t, t: torch.zeros_like(x_t)  # noqa: E731
    a = sampler.denoise(zero, y, 25.0, generator=torch.Generator().manual_seed(3))
    b = sampler.denoise(zero, y, 25.0, generator=torch.Generator().manual_seed(3))
    c = sampler.denoise(zero, y, 25.0, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize("prediction_type", ["epsilon", "v_prediction", "sample"])
@pytest.mark.parametrize("clip_sample", [False, True])
def test_final_ddim_step_matches_diffusers(prediction_type, clip_sample):
    # the last deterministic step (to abar = 1) is computed directly; it must give diffusers' value,
    # and a clipped schedule must still go through diffusers (its x0 is clamped)
    schedule = {**DEFAULT_SCHEDULE, "prediction_type": prediction_type, "clip_sample": clip_sample}
    sampler = DiffusionSampler(schedule, kind="ddim", steps=2)
    timesteps = sampler.timesteps(30.0)
    scheduler = sampler._scheduler(timesteps)
    generator = torch.Generator().manual_seed(0)
    x_t = torch.randn(2, 3, 2, 5, 6, generator=generator) * 3
    output = torch.randn(2, 3, 2, 5, 6, generator=generator)
    last = timesteps[-1]
    got = scheduler.step(output, last, x_t, eta=0.0).prev_sample
    reference = DDIMScheduler.step(scheduler, output, scheduler._table_index[last], x_t, eta=0.0).prev_sample
    assert torch.allclose(got, reference, atol=1e-5, rtol=1e-5)
    assert (got.abs().max() <= 1.0) == clip_sample
