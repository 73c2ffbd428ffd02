"""A fine-tune repeats itself: the same seed on the same machine gives the same model, to the last bit.

A real (tiny) fine-tune of the packaged MiniLM, three times in one process: each run
must reseed what the one before it drew from (the new head's weights, dropout, the
batch order), or the repeat comes out different.
"""

from __future__ import annotations

import numpy as np
import pytest

from callcenterai.config import TrainTransformerParams
from callcenterai.models import finetune, training_loop
from callcenterai.models.tokens import encode_texts, prepare_tokenizer

LABELS = ["Access", "Hardware", "Purchase"]
TICKETS = [
    ("reset my password please", 0),
    ("cannot log in to the vpn since this morning", 0),
    ("account locked after the update, need access to the shared drive", 0),
    ("laptop screen cracked", 1),
    ("keyboard not working on the new docking station", 1),
    ("printer on the third floor jams every morning", 1),
    ("order a second monitor for the new starter", 2),
    ("purchase approval needed for licences", 2),
    ("quote for ten headsets, budget code attached", 2),
    ("mfa token lost", 0),
    ("mouse broken", 1),
    ("new phone for the sales team, manager approved", 2),
    ("wifi drops in meeting room b", 1),
    ("grant me admin rights on the build server", 0),
    ("renew the adobe subscription", 2),
    ("battery swells on my laptop", 1),
]


@pytest.fixture()
def torch_settings():
    """fine_tune sets torch's process-wide threads and deterministic mode: put them back."""
    import torch

    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    fill = torch.utils.deterministic.fill_uninitialized_memory
    yield
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic)
    torch.utils.deterministic.fill_uninitialized_memory = fill


def _fine_tune(seed: int) -> tuple[np.ndarray, list[float]]:
    """Logits of every ticket after one epoch, and the epoch's losses."""
    from tokenizers import Tokenizer

    checkpoint = finetune.resolve_checkpoint("all-MiniLM-L6-v2")
    tokenizer = prepare_tokenizer(Tokenizer.from_file(f"{checkpoint}/tokenizer.json"), 16)
    ids = encode_texts(tokenizer, [text for text, _ in TICKETS], 16)[0]
    y = np.array([label for _, label in TICKETS])
    params = TrainTransformerParams(epochs=1, batch_size=8, max_length=16, device="cpu", seed=seed)
    model, history, _ = training_loop.fine_tune(checkpoint, LABELS, ids, y, ids, y, params, "cpu")
    record = history[0]
    return finetune.torch_logits(model, ids, 8, "cpu"), [record.train_loss, record.val_loss]


@pytest.mark.slow  # three real fine-tunes of MiniLM
def test_the_same_seed_gives_the_same_model_to_the_last_bit(torch_settings):
    logits, losses = _fine_tune(seed=42)
    repeat_logits, repeat_losses = _fine_tune(seed=42)
    other_logits, _ = _fine_tune(seed=7)
    assert np.array_equal(repeat_logits, logits) and repeat_losses == losses
    # The seed is what decides: another one trains another model (so the runs above did train).
    assert not np.allclose(other_logits, logits, atol=1e-4)
