"""Training of the backflip policy (torch, rsl-rl-lib PPO) over MuJoCo; the add-on never imports this."""
