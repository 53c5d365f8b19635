"""Noise schedules and the DDPM / DDIM update rules, pinned against the papers' formulas."""

import math

import pytest
import torch

from studio.schedulers import (MIN_STEPS, SCHEDULERS, DDIMScheduler, DDPMScheduler, DPMSolverMultistepScheduler,
                               alphas_cumprod, cosine_betas, linear_betas, make_betas, make_scheduler,
                               trailing_timesteps)


@pytest.mark.parametrize("kind", ["linear", "cosine"])
@pytest.mark.parametrize("T", [50, 1000])
def test_alpha_bar_decreasing_in_unit_interval(kind, T):
    a = alphas_cumprod(make_betas(kind, T))
    assert a.shape == (T,)
    assert (a > 0).all() and (a < 1).all()
    assert (a[1:] < a[:-1]).all()


def test_linear_schedule_matches_ho_et_al():
    b = linear_betas(1000)
    assert b[0].item() == pytest.approx(1e-4) and b[-1].item() == pytest.approx(0.02)


def test_cosine_schedule_formula():
    T, s = 1000, 0.008
    a = alphas_cumprod(cosine_betas(T))

    def f(t):  # Nichol & Dhariwal 2021, eq. 17
        return math.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2

    # index t holds the paper's ᾱ at t + 1; β is only clipped at the very end
    for t in [0, 1, 10, 250, 500, 900, 990]:
        assert a[t].item() == pytest.approx(f(t + 1) / f(0), rel=1e-9)
    assert cosine_betas(T).max() <= 0.999


def test_add_noise_eq4():
    s = DDPMScheduler(100, "linear")
    x0, eps = torch.randn(3, 1, 4, 4), torch.randn(3, 1, 4, 4)
    t = torch.tensor([0, 50, 99])
    out = s.add_noise(x0, eps, t)
    for i in range(3):
        a = s.alphas_cumprod[t[i]].item()
        torch.testing.assert_close(out[i], math.sqrt(a) * x0[i] + math.sqrt(1 - a) * eps[i])
    torch.testing.assert_close(s.add_noise(x0, eps, 7), s.add_noise(x0, eps, torch.full((3,), 7)))


def test_timesteps():
    s = DDIMScheduler(1000)
    s.set_timesteps(1000)
    assert s.timesteps.dtype == torch.int64
    assert torch.equal(s.timesteps, torch.arange(999, -1, -1))
    for n in [2, 7, 50, 999]:
        s.set_timesteps(n)
        ts = s.timesteps
        assert len(ts) == n and ts[0] == 999 and (ts[1:] < ts[:-1]).all() and ts[-1] >= 0
        assert s.prev_timestep(ts[-1]) == -1
    with pytest.raises(ValueError, match=r"2\.\.1000, got 1001"):
        s.set_timesteps(1001)


def test_trailing_timesteps_lin_et_al_2024():
    """Table 2 of Lin et al. 2024: t_i = round(T − i·T/n) − 1; the last step starts near T/n."""
    s = DDIMScheduler(1000)
    for n, expected in [(2, [999, 499]), (4, [999, 749, 499, 249]), (3, [999, 666, 332]),
                        (10, list(range(999, 0, -100)))]:
        s.set_timesteps(n)
        assert s.timesteps.tolist() == expected
    assert trailing_timesteps(50, 50).tolist() == list(range(49, -1, -1))


@pytest.mark.parametrize("cls", list(SCHEDULERS.values()))
def test_one_step_is_refused_with_the_reason(cls):
    s = cls(1000, "cosine")
    with pytest.raises(ValueError, match=r"in 2\.\.1000, got 1 .*at least 2"):
        s.set_timesteps(1)
    assert MIN_STEPS == 2


def test_ddpm_step_eq11():
    """Full chain, no clipping: the posterior-mean step equals Ho et al. eq. 11 + σ_t z."""
    s = DDPMScheduler(100, "linear", clip_sample=False)
    x, eps, z = torch.randn(2, 1, 5, 5), torch.randn(2, 1, 5, 5), torch.randn(2, 1, 5, 5)
    b, a = s.betas, s.alphas_cumprod
    for t in [99, 40, 1]:
        beta, abar, abar_prev = b[t].item(), a[t].item(), a[t - 1].item()
        mean = (x - beta / math.sqrt(1 - abar) * eps) / math.sqrt(1 - beta)
        var = (1 - abar_prev) / (1 - abar) * beta
        out = s.step(eps, t, x, noise=z)
        torch.testing.assert_close(out.prev_sample, mean + math.sqrt(var) * z)
        torch.testing.assert_close(out.pred_original_sample,
                                   (x - math.sqrt(1 - abar) * eps) / math.sqrt(abar))
        assert s.variance(t) == pytest.approx(var)
    # the last step adds no noise and returns the mean, which is x̂_0
    out = s.step(eps, 0, x, noise=z)
    torch.testing.assert_close(out.prev_sample, out.pred_original_sample)


def test_ddpm_step_clips_x0():
    s = DDPMScheduler(100, "linear")
    x, eps = 5 * torch.randn(4, 1, 3, 3), torch.randn(4, 1, 3, 3)
    out = s.step(eps, 0, x)
    assert out.pred_original_sample.abs().max() <= 1
    torch.testing.assert_close(out.prev_sample, out.pred_original_sample)


def test_ddim_step_eq12_respaced():
    s = DDIMScheduler(1000, "cosine", clip_sample=False, eta=0.5)
    s.set_timesteps(10)
    x, eps, z = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4)
    t, t_prev = s.timesteps[3].item(), s.timesteps[4].item()
    assert s.prev_timestep(t) == t_prev
    a_t, a_s = s.alphas_cumprod[t].item(), s.alphas_cumprod[t_prev].item()
    x0 = (x - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
    sigma = 0.5 * math.sqrt((1 - a_s) / (1 - a_t)) * math.sqrt(1 - a_t / a_s)  # eq. 16
    expected = math.sqrt(a_s) * x0 + math.sqrt(1 - a_s - sigma ** 2) * eps + sigma * z  # eq. 12
    out = s.step(eps, t, x, noise=z)
    torch.testing.assert_close(out.prev_sample, expected)
    torch.testing.assert_close(out.pred_original_sample, x0)


def test_ddim_eta0_deterministic():
    s = DDIMScheduler(1000, "linear", eta=0.0)
    s.set_timesteps(20)
    x, eps = torch.randn(2, 1, 4, 4), torch.randn(2, 1, 4, 4)
    for t in s.timesteps:
        a = s.step(eps, t, x, torch.Generator().manual_seed(1)).prev_sample
        b = s.step(eps, t, x, torch.Generator().manual_seed(2)).prev_sample
        assert torch.equal(a, b)


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_ddim_eta1_variance_is_ddpm_posterior_variance(kind):
    ddim, ddpm = DDIMScheduler(200, kind, eta=1.0), DDPMScheduler(200, kind)
    for t in range(1, 200):
        beta = ddpm.betas[t].item()
        a, a_prev = ddpm.alphas_cumprod[t].item(), ddpm.alphas_cumprod[t - 1].item()
        beta_tilde = (1 - a_prev) / (1 - a) * beta
        assert ddim.variance(t) == pytest.approx(beta_tilde, rel=1e-6)
        assert ddpm.variance(t) == pytest.approx(beta_tilde, rel=1e-6)


@pytest.mark.parametrize("clip", [False, True])
def test_ddim_eta1_step_is_ddpm_step(clip):
    """At full timesteps DDIM with η = 1 is ancestral DDPM (Song et al. 2021, §4.1)."""
    ddim, ddpm = DDIMScheduler(100, "cosine", clip, eta=1.0), DDPMScheduler(100, "cosine", clip)
    x0 = torch.randn(3, 1, 4, 4).clamp(-1, 1)
    eps, z = torch.randn(3, 1, 4, 4), torch.randn(3, 1, 4, 4)
    for t in [99, 60, 10, 0]:
        x_t = ddpm.add_noise(x0, eps, t)  # so that ε is the exact noise and x̂_0 needs no clipping
        torch.testing.assert_close(ddim.step(eps, t, x_t, noise=z).prev_sample,
                                   ddpm.step(eps, t, x_t, noise=z).prev_sample)


@pytest.mark.parametrize("steps", [100, 7])
def test_with_clipping_ddim_eta1_is_the_ddpm_step_and_eta0_first_order_dpm_solver(steps):
    """x̂_0 far outside [−1, 1], so clipping acts: DDIM re-derives ε from the clipped x̂_0
    (GLIDE / improved-diffusion), and then η = 1 is the DDPM posterior step and η = 0 is
    first-order DPM-Solver++ (which only uses x̂_0), with the same inputs and noise."""
    ddim1, ddim0 = DDIMScheduler(100, "cosine", True, eta=1.0), DDIMScheduler(100, "cosine", True, eta=0.0)
    ddpm = DDPMScheduler(100, "cosine", True)
    for sch in (ddim1, ddim0, ddpm):
        sch.set_timesteps(steps)
    g = torch.Generator().manual_seed(0)
    x_t, eps, z = (3 * torch.randn(3, 1, 4, 4, generator=g, dtype=torch.float64) for _ in range(3))
    for t in ddpm.timesteps.tolist():
        x0 = ddpm.predict_original(eps, t, x_t)
        assert x0.abs().max() == 1 and ddpm.predict_original(eps, t, x_t).ne(
            DDPMScheduler(100, "cosine", False).predict_original(eps, t, x_t)).any()  # clipping acts
        torch.testing.assert_close(ddim1.step(eps, t, x_t, noise=z).prev_sample,
                                   ddpm.step(eps, t, x_t, noise=z).prev_sample)
        dpm = DPMSolverMultistepScheduler(100, "cosine", True)  # fresh: no history, first order
        dpm.set_timesteps(steps)
        torch.testing.assert_close(ddim0.step(eps, t, x_t).prev_sample, dpm.step(eps, t, x_t).prev_sample)


@pytest.mark.parametrize("cls,extra", [(DDPMScheduler, {}), (DDIMScheduler, {"eta": 0.7}),
                                       (DPMSolverMultistepScheduler, {})])
def test_config_round_trip(cls, extra):
    s = cls(num_train_timesteps=300, beta_schedule="cosine", clip_sample=False, **extra)
    r = cls.from_config(s.config)
    assert r.config == s.config
    for sch in (s, r):
        sch.set_timesteps(30)
    x, eps = torch.randn(2, 1, 4, 4), torch.randn(2, 1, 4, 4)
    for t in s.timesteps[::7]:
        out_s = s.step(eps, t, x, torch.Generator().manual_seed(3))
        out_r = r.step(eps, t, x, torch.Generator().manual_seed(3))
        assert torch.equal(out_s.prev_sample, out_r.prev_sample)
    assert torch.equal(s.betas, r.betas)
    assert isinstance(make_scheduler("ddim", **DDIMScheduler().config), DDIMScheduler)


def optimal_eps(m, s2, abar):
    """E[ε | x_t] for x_0 ~ N(m, s²): √(1−ᾱ)(x_t − √ᾱ m)/(ᾱ s² + 1 − ᾱ)."""
    return lambda x, t: (math.sqrt(1 - abar[t]) * (x - math.sqrt(abar[t]) * m)
                         / (abar[t] * s2 + 1 - abar[t]))


@pytest.mark.parametrize("kind", ["linear", "cosine"])
@pytest.mark.parametrize("sampler,steps,eta", [("ddpm", 1000, None), ("ddpm", 100, None),
                                               ("ddim", 100, 0.0), ("ddim", 1000, 0.0),
                                               ("ddim", 100, 1.0), ("dpmpp2m", 25, None),
                                               ("dpmpp2m", 50, None)])
def test_exact_eps_reproduces_gaussian(kind, sampler, steps, eta):
    """With the exact ε-predictor of a Gaussian data set, samples have its mean and variance.

    (Deterministic DDIM under-disperses a little with few steps: var ≈ 0.22 at 50 steps,
    0.234 at 100, 0.246 at 1000 on the linear schedule — discretisation error.)"""
    m, std, n = 0.3, 0.5, 4000
    kwargs = {"eta": eta} if eta is not None else {}
    assert sampler in SCHEDULERS
    s = make_scheduler(sampler, num_train_timesteps=1000, beta_schedule=kind, clip_sample=False,
                       **kwargs)
    s.set_timesteps(steps)
    eps_fn = optimal_eps(m, std ** 2, s.alphas_cumprod.tolist())
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 1, generator=g, dtype=torch.float64)
    for t in s.timesteps:
        x = s.step(eps_fn(x, int(t)), t, x, g).prev_sample
    assert x.mean().item() == pytest.approx(m, abs=0.04)
    assert x.var().item() == pytest.approx(std ** 2, rel=0.1)


def test_every_registered_scheduler_is_checked_against_the_gaussian():
    """The analytic end-to-end test above must cover every scheduler in the registry."""
    covered = {p[0] for p in test_exact_eps_reproduces_gaussian.pytestmark[0].args[1]}
    assert covered == set(SCHEDULERS)


def _dpm_coefficients(s, t):
    a = s.alphas_cumprod[t].item()
    return math.sqrt(a), math.sqrt(1 - a), 0.5 * math.log(a / (1 - a))


def test_dpm_solver_first_step_is_deterministic_ddim():
    """First-order DPM-Solver++ is DDIM with η = 0 (Lu et al. 2022, §3.1)."""
    dpm = DPMSolverMultistepScheduler(1000, "cosine", clip_sample=False)
    ddim = DDIMScheduler(1000, "cosine", clip_sample=False, eta=0.0)
    for sch in (dpm, ddim):
        sch.set_timesteps(10)
    x, eps = torch.randn(2, 1, 4, 4, dtype=torch.float64), torch.randn(2, 1, 4, 4, dtype=torch.float64)
    t = dpm.timesteps[0]
    torch.testing.assert_close(dpm.step(eps, t, x).prev_sample, ddim.step(eps, t, x).prev_sample)


def test_dpm_solver_second_order_update_algorithm2():
    s = DPMSolverMultistepScheduler(1000, "linear", clip_sample=False)
    s.set_timesteps(8)
    x_u, eps_u = torch.randn(3, 1, 2, 2, dtype=torch.float64), torch.randn(3, 1, 2, 2, dtype=torch.float64)
    u, t, nxt = (int(v) for v in s.timesteps[:3])
    x_t = s.step(eps_u, u, x_u).prev_sample
    eps_t = torch.randn_like(x_t)
    out = s.step(eps_t, t, x_t)
    (al_u, si_u, la_u), (al_t, si_t, la_t), (al_s, si_s, la_s) = (_dpm_coefficients(s, k) for k in (u, t, nxt))
    x0_u, x0_t = (x_u - si_u * eps_u) / al_u, (x_t - si_t * eps_t) / al_t
    h, h_prev = la_s - la_t, la_t - la_u
    r = h_prev / h
    d = (1 + 1 / (2 * r)) * x0_t - 1 / (2 * r) * x0_u
    expected = si_s / si_t * x_t - al_s * (math.exp(-h) - 1) * d
    torch.testing.assert_close(out.prev_sample, expected)
    torch.testing.assert_close(out.pred_original_sample, x0_t)


def test_dpm_solver_history_state_round_trip_and_stale_history_ignored():
    s = DPMSolverMultistepScheduler(1000, "cosine")
    s.set_timesteps(10)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 1, 4, 4, generator=g)
    eps = [torch.randn(2, 1, 4, 4, generator=g) for _ in range(10)]
    ts = s.timesteps
    for i in range(4):
        x = s.step(eps[i], ts[i], x).prev_sample
    saved, x_saved = s.state(), x.clone()
    for i in range(4, 10):
        x = s.step(eps[i], ts[i], x).prev_sample
    # restoring the history reproduces the rest exactly
    r = DPMSolverMultistepScheduler(1000, "cosine")
    r.set_timesteps(10)
    r.load_state(saved)
    y = x_saved
    for i in range(4, 10):
        y = r.step(eps[i], ts[i], y).prev_sample
    assert torch.equal(x, y)
    # without it the solver starts first-order (a different, still valid, path)
    fresh = DPMSolverMultistepScheduler(1000, "cosine")
    fresh.set_timesteps(10)
    first = fresh.step(eps[4], ts[4], x_saved).prev_sample
    r.load_state(saved)
    assert not torch.equal(first, r.step(eps[4], ts[4], x_saved).prev_sample)
    # a history from a timestep that does not precede t is ignored: the step equals a fresh one
    fresh.load_state({"history_t": int(ts[1]), "history_x0": torch.zeros(2, 1, 4, 4)})
    torch.testing.assert_close(fresh.step(eps[4], ts[4], x_saved).prev_sample, first)
    with pytest.raises(ValueError):
        DDIMScheduler().load_state(saved)


def _sample_gaussian(sampler, kind, steps, m, std, n=8000, eta=None, clip=False, eps_error=0.0):
    """Samples of the exact-score sampler for x_0 ~ N(m, std²), optionally with a model error
    N(0, eps_error²) added to ε (what a trained net gets wrong)."""
    kwargs = {"eta": eta} if eta is not None else {}
    s = make_scheduler(sampler, num_train_timesteps=1000, beta_schedule=kind, clip_sample=clip, **kwargs)
    s.set_timesteps(steps)
    eps_fn = optimal_eps(m, std ** 2, s.alphas_cumprod.tolist())
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 1, generator=g, dtype=torch.float64)
    for t in s.timesteps.tolist():
        eps = eps_fn(x, t) + eps_error * torch.randn(x.shape, generator=g, dtype=torch.float64)
        x = s.step(eps, t, x, g).prev_sample
    return x


SAMPLER_SETTINGS = [("ddim", 0.0), ("ddim", 1.0), ("ddpm", None), ("dpmpp2m", None)]


@pytest.mark.parametrize("sampler,eta", SAMPLER_SETTINGS)
def test_few_steps_degrade_gracefully_on_the_gaussian(sampler, eta):
    """Exact ε of N(0.2, 0.3²) plus a 10⁻³ model error, cosine schedule, clipping on.  With the
    old spacing, 2 steps were [999, 0]: x̂_0 at ᾱ ≈ 2·10⁻⁹ turned the error into ±1 noise (std
    0.98).  With trailing spacing 2 steps give the right mean and a smaller spread, and the
    spread grows towards the data's as steps are added; nothing saturates."""
    m, std = 0.2, 0.3
    spreads = []
    for steps in (2, 3, 5, 10, 50):
        x = _sample_gaussian(sampler, "cosine", steps, m, std, n=4000, eta=eta, clip=True, eps_error=1e-3)
        assert x.mean().item() == pytest.approx(m, abs=0.03), steps
        assert (x.abs() > 0.999).float().mean().item() < 0.005, steps  # no binary noise
        spreads.append(x.std().item())
    assert 0.05 < spreads[0] and spreads[-1] == pytest.approx(std, rel=0.12)
    assert all(b >= a - 0.005 for a, b in zip(spreads, spreads[1:])), spreads


@pytest.mark.parametrize("sampler,eta", SAMPLER_SETTINGS)
def test_more_steps_never_degrade_with_clipping(sampler, eta):
    """Exact ε of N(0.3, 1), clipping on: x̂_0 leaves [−1, 1] often, and the samples tend to the
    clipped Gaussian (mean 0.203, std 0.702).  The distance of their mean and std to it must
    not grow with the steps (it did for DDIM η = 1 mixing the clipped x̂_0 with the raw ε: std
    0.603 at 10 steps, 0.573 at 1000)."""
    target_mean, target_std = 0.203, 0.702
    distances = []
    for steps in (10, 20, 50, 200, 1000):
        x = _sample_gaussian(sampler, "cosine", steps, 0.3, 1.0, eta=eta, clip=True)
        distances.append(abs(x.mean().item() - target_mean) + abs(x.std().item() - target_std))
    assert all(b <= a + 0.01 for a, b in zip(distances, distances[1:])), distances
    assert distances[-1] < 0.06, distances
