"""Thin stage adapters: each reads its inputs, calls the domain modules, returns its record."""

from openeurollm.pipeline.stages import (  # noqa: F401
    curate,
    eval,
    ingest,
    mix,
    release,
    report,
    shards,
    tokenizer,
    train,
)
