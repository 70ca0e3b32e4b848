"""Recipe -> stage graph, the runner that skips finished stages, the manifest, executors."""
