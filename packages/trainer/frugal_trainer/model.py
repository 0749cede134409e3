"""The reference GPT: decoder-only, learned positions, pre-LayerNorm blocks, untied output head.

With width 1024, 12 layers, vocabulary 32,768 and sequence 1,024 it has 219,314,176 parameters, the
model of the H100 reference figures."""

import dataclasses
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

HAS_SDPA = hasattr(F, "scaled_dot_product_attention")


@dataclasses.dataclass
class GPTConfig:
    layers: int = 2
    hidden_size: int = 64
    heads: int = 4
    vocab_size: int = 256
    sequence_length: int = 32
    dropout: float = 0.0
    # SDPA (flash / memory-efficient kernels) where torch has it; False forces the explicit s×s softmax.
    fused_attention: bool = True
    activation_checkpointing: bool = False


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.heads = cfg.heads
        self.qkv = nn.Linear(cfg.hidden_size, 3 * cfg.hidden_size)
        self.proj = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.dropout = cfg.dropout
        self.fused = cfg.fused_attention and HAS_SDPA
        if not self.fused:
            mask = torch.tril(torch.ones(cfg.sequence_length, cfg.sequence_length, dtype=torch.bool))
            self.register_buffer("mask", mask.view(1, 1, cfg.sequence_length, cfg.sequence_length), persistent=False)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(x).split(c, dim=2)
        q = q.view(b, t, self.heads, c // self.heads).transpose(1, 2)
        k = k.view(b, t, self.heads, c // self.heads).transpose(1, 2)
        v = v.view(b, t, self.heads, c // self.heads).transpose(1, 2)
        p = self.dropout if self.training else 0.0
        if self.fused:
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(~self.mask[:, :, :t, :t], float("-inf"))
            att = F.dropout(F.softmax(att, dim=-1), p=p, training=self.training)
            y = att @ v
        y = y.transpose(1, 2).contiguous().view(b, t, c)
        return F.dropout(self.proj(y), p=p, training=self.training)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.hidden_size)
        self.attn = CausalSelfAttention(cfg)
        self.ln2 = nn.LayerNorm(cfg.hidden_size)
        self.fc = nn.Linear(cfg.hidden_size, 4 * cfg.hidden_size)
        self.fc_out = nn.Linear(4 * cfg.hidden_size, cfg.hidden_size)
        self.dropout = cfg.dropout

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        h = self.fc_out(F.gelu(self.fc(self.ln2(x))))
        return x + F.dropout(h, p=self.dropout, training=self.training)


def _checkpointed(block, x):
    from torch.utils.checkpoint import checkpoint

    try:
        # preserve_rng_state (default True) replays dropout masks exactly in the recomputation.
        return checkpoint(block, x, use_reentrant=False)
    except TypeError:  # torch without the use_reentrant keyword
        return checkpoint(block, x)


class GPT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        if cfg.hidden_size % cfg.heads != 0:
            raise ValueError("hiddenSize (%d) must be a multiple of heads (%d)" % (cfg.hidden_size, cfg.heads))
        self.cfg = cfg
        self.token_embedding = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.position_embedding = nn.Embedding(cfg.sequence_length, cfg.hidden_size)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.layers)])
        self.ln_f = nn.LayerNorm(cfg.hidden_size)
        self.head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)
        self.apply(self._init_weights)
        # GPT-2 scaled init of the residual projections (Radford et al. 2019, section 2.3).
        for name, p in self.named_parameters():
            if name.endswith("proj.weight") or name.endswith("fc_out.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.layers))

    @staticmethod
    def _init_weights(module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def parameter_count(self):
        return sum(p.numel() for p in self.parameters())

    def flops_per_token(self):
        # Training FLOPs per token: 6·N (forward + backward, Kaplan et al. 2020) plus causal attention
        # scores and values, 6·L·T·D per token (the convention of the reference figures).
        c = self.cfg
        return 6 * self.parameter_count() + 6 * c.layers * c.sequence_length * c.hidden_size

    def forward(self, idx, targets=None):
        _, t = idx.shape
        pos = torch.arange(t, device=idx.device)
        x = self.token_embedding(idx) + self.position_embedding(pos)
        x = F.dropout(x, p=self.cfg.dropout, training=self.training)
        for block in self.blocks:
            if self.cfg.activation_checkpointing and self.training:
                x = _checkpointed(block, x)
            else:
                x = block(x)
        logits = self.head(self.ln_f(x))
        if targets is None:
            return logits
        # The loss on fp32 logits: a bf16/fp16 softmax over 32k classes loses precision.
        return F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.view(-1))
