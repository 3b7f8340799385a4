"""Training configuration: one dataclass, a docstring per field."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .env import EnvConfig
from .rewards import WEIGHTS_UNTIL_FLIP10


@dataclass
class PPOConfig:
    hidden_dims: tuple[int, ...] = (256, 128)
    """Hidden layers of the actor and of the critic."""
    init_std: float = 0.5
    """Initial action noise (in action units; one unit moves a PD target by ACTION_SCALE radians)."""
    learning_rate: float = 3e-4
    """Adam step size."""
    late_learning_rate: float | None = 1e-4
    """Adam step size from late_after_samples on (None: learning_rate throughout). The lineage's tracking came
    down fastest when the rate was cut to a third once landing held (flip13: 0.5 cm within 3.5M samples).
    None until scratch8."""
    late_after_samples: int = 8_000_000
    """Samples after which late_learning_rate applies."""
    schedule: str = "fixed"
    """'fixed' or rsl-rl's 'adaptive' (which, with 8k-sample batches, kept the step size pinned near its 1e-5
    floor in our runs: the per-minibatch KL check fires long before a useful step is taken)."""
    desired_kl: float = 0.01
    """Target KL for the adaptive schedule."""
    gamma: float = 0.95
    """Discount per control step (30 Hz): a horizon of about 0.7 s, DeepMimic's. 0.97 (about 1.1 s) until
    scratch24. Alone, 0.95 was ahead early and behind late (scratch18 against scratch9, seed 1: 6.77 / 7.83 cm
    against 7.98 / 9.14 at 3.5M samples, 5.24 / 6.55 against 4.94 / 5.81 at 8.5M); with mirror_rollout_log_prob
    it stays ahead (scratch22 4.77 / 5.57 at 8.5M). 0.9 tracked the canonical body closer still early but landed
    later (69.5% / 33.5% at 3.5M)."""
    lam: float = 0.95
    """GAE lambda."""
    num_steps_per_env: int = 32
    """Control steps collected per environment per iteration (num_envs * this = samples per iteration)."""
    num_learning_epochs: int = 10
    """Passes over each batch. 5 until scratch8; 10 took scratch5 to 5.72 / 6.52 cm in 90 min where scratch2
    (5 epochs, otherwise the same) stood at 7.07 / 7.43."""
    num_mini_batches: int = 8
    """Mini-batches per epoch: gradient steps per pass over the batch, at about the same compute. 4 until
    scratch9; 8 (scratch9 against scratch8, same seed): 4.16 / 5.00 cm at 17.0M samples against 4.47 / 5.24
    at 17.5M, and ahead at every point measured."""
    clip_param: float = 0.2
    """PPO ratio clip."""
    entropy_coef: float = 0.0
    """Entropy bonus; exploration comes from the learned std."""
    value_loss_coef: float = 1.0
    """Weight of the value loss."""
    max_grad_norm: float = 1.0
    """Gradient clipping."""
    mirror_augmentation: bool = True
    """Also learn from the left-right mirror image of every sample (policy/mirror_augmentation.py). Off until
    scratch8; scratch6 (on) against scratch5 (off): 4.82 / 5.59 cm at 14.0M samples against 5.79 / 6.56 at 13.0M."""
    mirror_rollout_log_prob: bool = True
    """Give each mirror image the larger of its own old log-probability, under the policy that collected the
    batch, and its original's (True), or its original's alone, as rsl-rl does (False, until scratch24;
    policy/mirror_augmentation.py says why it matters and why not its own alone). With gamma 0.95, same seed
    (scratch22 against scratch18), canonical / variants cm at 3.5M, 5.0M, 7.0M, 8.5M samples: 6.13 / 7.32 against
    6.77 / 7.83, 5.22 / 6.12 against 5.65 / 6.14, 4.65 / 5.34 against 5.50 / 6.28, 4.77 / 5.57 against 5.24 /
    6.55. Its second seed (scratch23) measured 5.09 / 5.78 at 7.0M. About 8% more time per sample."""
    privileged_critic: bool = False
    """Also show the critic each body's offset from its reference (ImitationEnv.privileged_observations), what
    the rewards are made of; the actor, and so the exported policy, sees only the core's observation. On by
    default from scratch13 until its 14M-sample figures: scratch13 (on) against scratch9 (off), same seed:
    ahead early (6.86 / 7.78 cm at 3.5M samples against 7.98 / 9.14), behind late (5.60 / 6.40 at 8.5M against
    4.94 / 5.81; 4.84 / 5.67 at 14.0M against 4.35 / 5.04), so off by default again."""

    noise_ceiling: tuple[int, int, float] | None = None
    """(from samples, to samples, std): after each update the action noise is capped by a ceiling that falls
    linearly from init_std to std between the two sample counts and stays at std after (None: learned freely).
    scratch17 ((1.5M, 5M, 0.12) on scratch9's recipe) landed less often on the variants at 5M samples and
    tracked no closer: the learned noise follows the tracking, it does not hold it back."""

    def rsl_rl_cfg(self) -> dict:
        model = {
            "class_name": "MLPModel",
            "hidden_dims": list(self.hidden_dims),
            "activation": "elu",
            "obs_normalization": True,
        }
        symmetry = None
        if self.mirror_augmentation:
            from .mirror_augmentation import augment

            symmetry = {"use_data_augmentation": True, "use_mirror_loss": False, "data_augmentation_func": augment}
        return {
            "num_steps_per_env": self.num_steps_per_env,
            "save_interval": 10**9,
            "obs_groups": {"actor": ["policy"],
                           "critic": ["policy", "privileged"] if self.privileged_critic else ["policy"]},
            "actor": {**model, "distribution_cfg": {"class_name": "GaussianDistribution", "init_std": self.init_std,
                                                    "std_type": "scalar"}},
            "critic": dict(model),
            "algorithm": {
                "class_name": "PPO",
                "num_learning_epochs": self.num_learning_epochs,
                "num_mini_batches": self.num_mini_batches,
                "clip_param": self.clip_param,
                "gamma": self.gamma,
                "lam": self.lam,
                "value_loss_coef": self.value_loss_coef,
                "entropy_coef": self.entropy_coef,
                "learning_rate": self.learning_rate,
                "max_grad_norm": self.max_grad_norm,
                "use_clipped_value_loss": False,
                "schedule": self.schedule,
                "desired_kl": self.desired_kl,
                "symmetry_cfg": symmetry,
            },
            "multi_gpu": None,
        }


@dataclass
class TrainConfig:
    env: EnvConfig = field(default_factory=EnvConfig)
    """The imitation task."""
    ppo: PPOConfig = field(default_factory=PPOConfig)
    """The learner."""
    seed: int = 0
    """Seed of bodies, starts and network initialization (evaluation seeds never overlap these)."""
    checkpoint_minutes: float = 3.0
    """Wall-clock minutes between checkpoints (the latest one is what --resume continues from)."""
    snapshot_every_samples: int = 2_000_000
    """Keep a numbered snapshot this often (the takes of earlier training stages come from these)."""
    refresh_variants_every: int = 5
    """Iterations between refreshes of some of the random bodies in the pool."""

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(d: dict) -> "TrainConfig":
        ppo = dict(d["ppo"])
        ppo["hidden_dims"] = tuple(ppo["hidden_dims"])
        # Checkpoints from before a field existed, or before its default changed while it was not yet stored,
        # trained as its old value: the clip as is, flip10's weights, the body-position kernel of then, the feet as
        # captured, no foot-depth end, a fixed kernel, one learning rate, no mirror images, rsl-rl's mirror ratio.
        env = {"reference_flight": "clip", "reference_feet": "clip", "reward_weights": dict(WEIGHTS_UNTIL_FLIP10),
               "body_position_scale": 100.0, "max_foot_depth": None, "adaptive_body_position_scale": False,
               **d["env"]}
        ppo = {"late_learning_rate": None, "mirror_augmentation": False, "mirror_rollout_log_prob": False,
               "privileged_critic": False, **ppo}
        rest = {k: v for k, v in d.items() if k not in ("env", "ppo")}
        return TrainConfig(env=EnvConfig(**env), ppo=PPOConfig(**ppo), **rest)
