"""Training: loop, parallelism, checkpoints, schedules, metrics, data windows, signals."""
