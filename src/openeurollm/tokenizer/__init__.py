"""Tokenizer: byte-level BPE trained on a language-balanced sample, and its fertility report.

- `sampling.py`  how much of each language the trainer sees (natural / temperature / uniform)
- `train.py`     the tokenizer's pipeline (NFC, pre-tokenization, byte-level BPE) and training
- `parity.py`    parity-aware BPE: each merge chosen for the language that is currently worst off
- `fertility.py` tokens per word / character, bytes per token and parity against English
- `encoder.py`   `TextTokenizer`, the thin wrapper the rest of the project encodes with
- `hf.py`        the release folder's tokenizer files for `transformers.AutoTokenizer`
"""

from openeurollm.tokenizer.encoder import TextTokenizer

__all__ = ["TextTokenizer"]
