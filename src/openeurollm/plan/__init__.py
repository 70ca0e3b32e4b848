"""The training planner: before a job is submitted, what a recipe's model and layout will cost
on a given GPU (memory per device, throughput, wall time, GPU-hours, energy, compute against
the AI Act thresholds). Closed-form models, no torch: `openeurollm plan` runs on a login node."""
