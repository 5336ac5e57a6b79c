"""The PyTorch a user would write for each of the harness's models: torch.nn modules and
torch.optim, eager or `torch.compile`d, trained on names.txt on one thread. Prints one JSON
line in the format of `harness bench`: training steps/s after a warm-up and the seconds of
one pass over the validation split in eval mode (the second: the first compiles, under
torch.compile).

    python bench/torch_models.py NAMES_TXT --model wavenet [--compile] [--steps 2000]
        [--batch-size 32] [--threads 1] [--device cpu|cuda]
    models: wavenet (the lecture's final model, SGD lr 0.1), wavenet-conv (n_embd 24,
    n_hidden 48, block 8, AdamW lr 3e-3), bigram (AdamW lr 1e-2).

bench/models.sh runs it beside `harness bench` with the same settings on the CPU;
scripts/gpu-check.sh on a CUDA GPU, where the data lives on the GPU and each timing waits for
the GPU to finish (torch.cuda.synchronize).
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


class FlattenConsecutive(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.n = n

    def forward(self, x):
        b, t, c = x.shape
        return x.reshape(b, t // self.n, c * self.n)


class ChannelsLastBatchNorm(nn.BatchNorm1d):
    """nn.BatchNorm1d over the channels of [B, T, C] (statistics over B and T), normalizing in
    training with the unbiased batch variance, as the lecture's BatchNorm1d and the harness do.
    torch's fused kernel divides by sqrt(var_biased + eps); with n values per channel
    var_unbiased = var_biased * n / (n - 1), so sqrt(var_unbiased + eps) equals
    sqrt(n / (n - 1)) * sqrt(var_biased + eps * (n - 1) / n): the same kernel with eps and the
    weight scaled by (n - 1) / n and its square root. The running variance is unbiased in
    either."""

    def forward(self, x):
        x = x.transpose(1, 2)
        if not self.training:
            return super().forward(x).transpose(1, 2)
        keep = 1.0 - 1.0 / (x.shape[0] * x.shape[2])
        out = F.batch_norm(x, self.running_mean, self.running_var, self.weight * math.sqrt(keep), self.bias,
                           True, self.momentum, self.eps * keep)
        return out.transpose(1, 2)


class WaveNet(nn.Module):
    """The lecture's hierarchical model, written with torch.nn."""

    def __init__(self, vocab, n_embd=24, n_hidden=128, block=8):
        super().__init__()
        layers, width = [nn.Embedding(vocab, n_embd)], n_embd
        while block > 1:
            layers += [FlattenConsecutive(2), nn.Linear(width * 2, n_hidden, bias=False),
                       ChannelsLastBatchNorm(n_hidden), nn.Tanh()]
            width, block = n_hidden, block // 2
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(n_hidden, vocab)

    def forward(self, x):
        return self.head(self.body(x).squeeze(1))


class Gated(nn.Module):
    def __init__(self, hidden, skip, dilation):
        super().__init__()
        self.dilation = dilation
        self.filter = nn.Conv1d(hidden, hidden, 2, dilation=dilation)
        self.gate = nn.Conv1d(hidden, hidden, 2, dilation=dilation)
        self.residual = nn.Conv1d(hidden, hidden, 1)
        self.skip = nn.Conv1d(hidden, skip, 1)

    def forward(self, x):
        padded = F.pad(x, (self.dilation, 0))
        z = torch.tanh(self.filter(padded)) * torch.sigmoid(self.gate(padded))
        return x + self.residual(z), self.skip(z)


class WaveNetConv(nn.Module):
    """Dilated causal convolutions, gated, with residual and skip connections."""

    def __init__(self, vocab, n_embd=24, n_hidden=48, block=8):
        super().__init__()
        self.embedding = nn.Embedding(vocab, n_embd)
        self.input = nn.Conv1d(n_embd, n_hidden, 1)
        self.layers = nn.ModuleList(Gated(n_hidden, n_hidden, 2 ** i) for i in range(block.bit_length() - 1))
        self.out = nn.Sequential(nn.ReLU(), nn.Conv1d(n_hidden, n_hidden, 1), nn.ReLU(), nn.Conv1d(n_hidden, vocab, 1))

    def forward(self, x):
        x = self.input(self.embedding(x).transpose(1, 2))
        skips = 0
        for layer in self.layers:
            x, skip = layer(x)
            skips = skips + skip
        return self.out(skips)[:, :, -1]


class Bigram(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.table = nn.Parameter(torch.zeros(vocab, vocab))

    def forward(self, x):
        return self.table[x[:, -1]]


def examples(words, stoi, block):
    xs, ys = [], []
    for w in words:
        context = [0] * block
        for ch in w + ".":
            xs.append(context)
            ys.append(stoi[ch])
            context = context[1:] + [stoi[ch]]
    return torch.tensor(xs), torch.tensor(ys)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("names")
    parser.add_argument("--model", choices=["wavenet", "wavenet-conv", "bigram"], default="wavenet")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    synchronize = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    torch.set_num_threads(args.threads)
    torch.manual_seed(42)
    random.seed(42)

    words = open(args.names).read().splitlines()
    chars = sorted(set("".join(words)))
    stoi = {c: i + 1 for i, c in enumerate(chars)}
    stoi["."] = 0
    vocab = len(stoi)
    random.shuffle(words)
    n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))
    xtr, ytr = (t.to(device) for t in examples(words[:n1], stoi, 8))
    xval, yval = (t.to(device) for t in examples(words[n1:n2], stoi, 8))

    model, optimizer, lr = {
        "wavenet": (WaveNet, torch.optim.SGD, 0.1),
        "wavenet-conv": (WaveNetConv, torch.optim.AdamW, 3e-3),
        "bigram": (Bigram, torch.optim.AdamW, 1e-2),
    }[args.model]
    model = model(vocab).to(device)
    optimizer = optimizer(model.parameters(), lr=lr)
    forward = torch.compile(model) if args.compile else model

    def step():
        ix = torch.randint(0, xtr.shape[0], (args.batch_size,), device=device)
        loss = F.cross_entropy(forward(xtr[ix]), ytr[ix])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(args.warmup):
        step()
    synchronize()
    started = time.perf_counter()
    for _ in range(args.steps):
        step()
    synchronize()
    steps_per_sec = args.steps / (time.perf_counter() - started)
    model.eval()
    with torch.no_grad():
        F.cross_entropy(forward(xval), yval).item()  # .item() waits for the GPU
        started = time.perf_counter()
        F.cross_entropy(forward(xval), yval).item()
        eval_seconds = time.perf_counter() - started
    name = "pytorch-compile" if args.compile else "pytorch"
    print(json.dumps({"impl": name, "model": args.model, "device": args.device, "batch_size": args.batch_size,
                      "threads": args.threads,
                      "steps_per_sec": steps_per_sec,
                      "eval_seconds": eval_seconds, "params": sum(p.numel() for p in model.parameters())}))


if __name__ == "__main__":
    main()
