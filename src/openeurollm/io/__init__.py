"""File helpers every layer uses: atomic writes, checksums, Parquet row writing and streaming
reads, progress. This package sits beneath the domain packages and the pipeline and imports
none of them, so `data/`, `train/`, `release/` ... never need `pipeline/` for file work."""
