"""makemore.py's sequence models (github.com/karpathy/makemore: its RNN/GRU cells and its
Transformer, as it writes them) trained the way it trains them — minibatches of 32 whole
items, AdamW lr 5e-4, betas 0.9/0.99, eps 1e-8, weight decay 0.01 — on one thread, eager or
`torch.compile`d, on the CPU or a CUDA GPU. A minimal copy written for the bench (nothing is
fetched at run time). Prints one JSON line in the format of `harness bench`: training steps/s
after a warm-up and the seconds of one pass over the whole validation split (each timing
waits for the GPU to finish).

    python bench/makemore_models.py NAMES_TXT --model transformer [--compile] [--steps 500]
        [--device cpu|cuda]

Items are padded to the longest of their batch, as `harness` pads them; `--pad-to-block`
pads every item to block_size (the longest name + 1) as makemore.py's CharDataset does.
bench/sequence.sh runs it beside `harness bench` with the same settings.
"""

import argparse
import json
import math
import random
import time
import warnings

warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


class NewGELU(nn.Module):
    def forward(self, x):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd, n_head, block_size):
        super().__init__()
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.register_buffer("bias", torch.tril(torch.ones(block_size, block_size)).view(1, 1, block_size, block_size))
        self.n_head, self.n_embd = n_head, n_embd

    def forward(self, x):
        b, t, c = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
        q = q.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
        v = v.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :t, :t] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
        return self.c_proj(y)


class Block(nn.Module):
    def __init__(self, n_embd, n_head, block_size):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head, block_size)
        self.ln_2 = nn.LayerNorm(n_embd)
        self.mlp = nn.ModuleDict(dict(c_fc=nn.Linear(n_embd, 4 * n_embd), c_proj=nn.Linear(4 * n_embd, n_embd), act=NewGELU()))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        m = self.mlp
        return x + m.c_proj(m.act(m.c_fc(self.ln_2(x))))


class Transformer(nn.Module):
    def __init__(self, vocab, block_size, n_embd=64, n_head=4, n_layer=4):
        super().__init__()
        self.wte = nn.Embedding(vocab, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.h = nn.ModuleList([Block(n_embd, n_head, block_size) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab, bias=False)

    def forward(self, idx):
        pos = torch.arange(0, idx.size(1), dtype=torch.long).unsqueeze(0)
        x = self.wte(idx) + self.wpe(pos)
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))


class RNNCell(nn.Module):
    def __init__(self, n_embd, n_embd2):
        super().__init__()
        self.xh_to_h = nn.Linear(n_embd + n_embd2, n_embd2)

    def forward(self, xt, hprev):
        return torch.tanh(self.xh_to_h(torch.cat([xt, hprev], dim=1)))


class GRUCell(nn.Module):
    def __init__(self, n_embd, n_embd2):
        super().__init__()
        self.xh_to_z = nn.Linear(n_embd + n_embd2, n_embd2)
        self.xh_to_r = nn.Linear(n_embd + n_embd2, n_embd2)
        self.xh_to_hbar = nn.Linear(n_embd + n_embd2, n_embd2)

    def forward(self, xt, hprev):
        xh = torch.cat([xt, hprev], dim=1)
        r = F.sigmoid(self.xh_to_r(xh))
        hbar = F.tanh(self.xh_to_hbar(torch.cat([xt, r * hprev], dim=1)))
        z = F.sigmoid(self.xh_to_z(xh))
        return (1 - z) * hprev + z * hbar


class RNN(nn.Module):
    def __init__(self, vocab, cell, n_embd=64, n_embd2=64):
        super().__init__()
        self.start = nn.Parameter(torch.zeros(1, n_embd2))
        self.wte = nn.Embedding(vocab, n_embd)
        self.cell = (RNNCell if cell == "rnn" else GRUCell)(n_embd, n_embd2)
        self.lm_head = nn.Linear(n_embd2, vocab)

    def forward(self, idx):
        b, t = idx.size()
        emb = self.wte(idx)
        hprev = self.start.expand((b, -1))
        hiddens = []
        for i in range(t):
            hprev = self.cell(emb[:, i, :], hprev)
            hiddens.append(hprev)
        return self.lm_head(torch.stack(hiddens, 1))


def encode(words, stoi, width):
    """makemore.py's CharDataset: x = 0, chars, 0…; y = chars, 0, -1…"""
    x = torch.zeros(len(words), width, dtype=torch.long)
    y = torch.full((len(words), width), -1, dtype=torch.long)
    for i, w in enumerate(words):
        ix = torch.tensor([stoi[c] for c in w])
        x[i, 1 : 1 + len(w)] = ix
        y[i, : len(w)] = ix
        y[i, len(w)] = 0
    return x, y


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("names")
    parser.add_argument("--model", choices=["rnn", "gru", "transformer"], default="transformer")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--pad-to-block", action="store_true")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    synchronize = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    torch.set_num_threads(1)
    torch.manual_seed(42)
    random.seed(42)

    words = [w.strip() for w in open(args.names).read().splitlines() if w.strip()]
    chars = sorted(set("".join(words)))
    stoi = {c: i + 1 for i, c in enumerate(chars)}
    vocab, block_size = len(chars) + 1, max(len(w) for w in words) + 1
    random.shuffle(words)
    n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))
    train, val = words[:n1], words[n1:n2]
    xtr, ytr = (t.to(device) for t in encode(train, stoi, block_size))
    lengths = torch.tensor([len(w) + 1 for w in train])

    model = Transformer(vocab, block_size) if args.model == "transformer" else RNN(vocab, args.model)
    model = model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.01, betas=(0.9, 0.99), eps=1e-8)
    if args.compile:
        # The recurrent models unroll a Python loop over the batch's width: one graph per
        # width, each compiled during the warm-up below (never in the timed steps).
        torch._dynamo.config.cache_size_limit = 64
    forward = torch.compile(model, dynamic=True) if args.compile else model

    def loss_of(x, y):
        logits = forward(x)
        return F.cross_entropy(logits.view(-1, logits.size(-1)), y.reshape(-1), ignore_index=-1)

    def step(width=None):
        ix = torch.randint(0, xtr.shape[0], (32,))
        width = width or (block_size if args.pad_to_block else int(lengths[ix].max()))
        ix = ix.to(device)
        loss = loss_of(xtr[ix, :width], ytr[ix, :width])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for width in range(2, block_size + 1):
        step(width)
    for _ in range(args.warmup):
        step()
    synchronize()
    started = time.perf_counter()
    for _ in range(args.steps):
        step()
    synchronize()
    steps_per_sec = args.steps / (time.perf_counter() - started)
    model.eval()
    xval, yval = (t.to(device) for t in encode(val, stoi, block_size))

    def evaluate():
        for i in range(0, len(val), 1024):
            loss_of(xval[i : i + 1024], yval[i : i + 1024]).item()

    with torch.no_grad():
        # Untimed first, as every side's evaluation is timed: torch.compile compiles again
        # for eval() and no_grad here.
        evaluate()
        synchronize()
        started = time.perf_counter()
        evaluate()
        synchronize()
        eval_seconds = time.perf_counter() - started
    name = "pytorch-compile" if args.compile else "pytorch"
    if args.pad_to_block:
        name += " (pad 16)"
    print(json.dumps({"impl": name, "model": args.model, "device": args.device, "batch_size": 32,
                      "steps_per_sec": steps_per_sec,
                      "eval_seconds": eval_seconds, "params": sum(p.numel() for p in model.parameters())}))


if __name__ == "__main__":
    main()
