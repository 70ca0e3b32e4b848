"""Deduplication: exact (normalized-text hash) and MinHash-LSH near-duplicates, global."""
