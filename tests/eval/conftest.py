from pathlib import Path

import pytest
import torch

from ..conftest import single_torch_thread

_one_torch_thread = pytest.fixture(autouse=True)(single_torch_thread)


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[torch.nn.Module, Path, Path]:
    """A tiny model trained briefly on English and German word salad, its tokenizer file and
    its Hugging Face export: (model, tokenizer.json, HF folder). Shared by generation tests."""
    from openeurollm.release.hf_export import export_hf
    from openeurollm.tokenizer.encoder import TextTokenizer

    from .tiny import synthetic_texts, tiny_model, tiny_tokenizer, train_tiny

    tmp = tmp_path_factory.mktemp("trained")
    texts = [t for lang in ("en", "de") for t in synthetic_texts(lang, 60, seed=2)]
    tok_path = tiny_tokenizer(tmp / "tokenizer.json", texts=texts)
    tok = TextTokenizer.from_file(tok_path)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the autouse fixture is not active yet for session fixtures
    try:
        model = tiny_model(tok.vocab_size, seed=7)
        model = train_tiny(model, tok.encode_batch(texts), tok.eos_id, steps=30, batch=8)
    finally:
        torch.set_num_threads(threads)
    export_hf(model.state_dict(), model.args, tok_path, tmp / "hf")
    return model, tok_path, tmp / "hf"
