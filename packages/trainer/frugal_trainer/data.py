"""Deterministic generated training data: batch ``i`` is a pure function of (seed, i), so the data
cursor is just the number of micro-batches consumed and resume replays the exact same tokens."""

import torch


def micro_batch_index(cursor, micro_step, world_size, rank):
    """Which batch of the stream rank ``rank`` trains on as micro-batch ``micro_step`` of the optimizer step
    that starts at ``cursor``: the ranks take turns, so one step of ``a`` micro-batches on ``w`` ranks takes
    batches ``cursor .. cursor + a*w - 1``, each once, and the cursor (micro-batches consumed over every
    rank) means the same on any number of ranks. With one rank this is ``cursor + micro_step``."""
    return cursor + micro_step * world_size + rank


class SyntheticTokens:
    """Learnable token streams: each row is an arithmetic progression modulo the vocabulary (random start
    and stride per row) with 10% of positions replaced by noise, so the loss falls as the model learns."""

    def __init__(self, vocab_size, sequence_length, micro_batch_size, seed, cursor=0):
        self.vocab_size = vocab_size
        self.sequence_length = sequence_length
        self.micro_batch_size = micro_batch_size
        self.seed = seed
        self.cursor = cursor

    def batch(self, index):
        g = torch.Generator()
        # Distinct, reproducible stream per (seed, index); 2**61-1 is prime, keeping seeds apart.
        g.manual_seed((self.seed * 1_000_003 + index) % (2 ** 61 - 1))
        b, t, v = self.micro_batch_size, self.sequence_length + 1, self.vocab_size
        start = torch.randint(0, v, (b, 1), generator=g)
        stride = torch.randint(1, 8, (b, 1), generator=g)
        tokens = (start + stride * torch.arange(t).view(1, t)) % v
        noise = torch.rand((b, t), generator=g) < 0.1
        tokens = torch.where(noise, torch.randint(0, v, (b, t), generator=g), tokens)
        return tokens[:, :-1].contiguous(), tokens[:, 1:].contiguous()

    def next(self):
        x, y = self.batch(self.cursor)
        self.cursor += 1
        return x, y

    def state_dict(self):
        return {"seed": self.seed, "cursor": self.cursor}

    def load_state_dict(self, state):
        self.seed = int(state["seed"])
        self.cursor = int(state["cursor"])
