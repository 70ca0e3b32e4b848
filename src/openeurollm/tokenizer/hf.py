"""The tokenizer files of a release folder, loadable offline by `transformers.AutoTokenizer`.

`AutoTokenizer.from_pretrained(DIR)` then encodes exactly as `TextTokenizer` does: the same
tokenizer.json, no bos/eos added implicitly, no clean-up of spaces on decode, and special-token
strings inside text split as ordinary characters (`split_special_tokens`), as ours does.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tokenizers import Tokenizer

from openeurollm.io.fileio import atomic_path, write_json
from openeurollm.tokenizer.train import BOS, EOS, PAD

# transformers' "no limit" value; the release passes the model's context length instead.
_UNLIMITED = 1_000_000_000_000_000_019_884_624_838_656


def save_hf_tokenizer(
    tokenizer_json_path: str | Path, out_dir: str | Path, model_max_length: int | None = None
) -> list[str]:
    """Write tokenizer.json, tokenizer_config.json and special_tokens_map.json into out_dir."""
    src, out = Path(tokenizer_json_path), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    added = [t.content for t in Tokenizer.from_file(str(src)).get_added_tokens_decoder().values()]
    for required in (BOS, EOS, PAD):
        if required not in added:
            raise ValueError(f"{src}: no {required} token; not a tokenizer of this project")
    extra = [t for t in added if t not in (BOS, EOS, PAD)]
    special = {"bos_token": BOS, "eos_token": EOS, "pad_token": PAD}
    if extra:
        special["additional_special_tokens"] = extra  # type: ignore[assignment]
    with atomic_path(out / "tokenizer.json") as tmp:
        shutil.copyfile(src, tmp)
    write_json(
        out / "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            **special,
            "add_bos_token": False,
            "add_eos_token": False,
            "clean_up_tokenization_spaces": False,
            "split_special_tokens": True,
            "model_max_length": model_max_length or _UNLIMITED,
        },
    )
    write_json(out / "special_tokens_map.json", special)
    return ["special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"]
