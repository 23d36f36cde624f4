#!/usr/bin/python3
"""PyTorch training-step peer of bench-model-scoring (bench/EdgeProfile.Bench.ModelScoring).

Builds the same MMoE as EdgeProfile.Training.MmoeModule (experts: Linear+ReLU stacks; one softmax gate per task over
the inputs; one tower per task: Linear+ReLU stack, then a Linear to the task's outputs) with the same parameter names
(experts.E.I.weight, gates.T.weight, towers.T.I.weight, ...), loads the initial weights and the standardised batches
the C# bench wrote, and times forward + loss + backward + Adam step, the way the bench times TorchSharp:
BCE-with-logits (mean) for binary and multi-label tasks, MSE (mean) for regression tasks, summed over tasks; Adam,
learning rate 1e-3; batch k is batch (k mod batches).

Input directory (written by the bench): manifest.json (spec, parameter names/shapes, batch shapes), params.bin
(float32 parameters in manifest order), features.bin [batches, batch, inputs] float32 and labels_T.bin
[batches, batch, outputs_T] float32 per task.

Prints one JSON object: mean/p50/p99 ms per step, steps/s, the first step's loss (the bench compares it with its own
to show both sides train the same model on the same data) and the settings.

Needs Debian's python3-torch (1.13). Set OMP_WAIT_POLICY=PASSIVE and OPENBLAS_NUM_THREADS/OMP_NUM_THREADS to the
thread count (the bench does) and install libopenblas0-pthread (Debian's reference BLAS is ~10x slower).
Usage: /usr/bin/python3 bench/models/torch_train_step.py DIR [--threads 2] [--warmup 5] [--steps 40] [--seed 42]
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn


def stack(inputs, hidden, outputs):
    layers = []
    width = inputs
    for h in hidden:
        layers.append(nn.Linear(width, h))
        layers.append(nn.ReLU())
        width = h
    if outputs is not None:
        layers.append(nn.Linear(width, outputs))
    return nn.Sequential(*layers)


class Mmoe(nn.Module):
    def __init__(self, spec):
        super().__init__()
        inputs = spec["inputs"]
        hidden = spec["expertHidden"]
        expert_outputs = hidden[-1] if hidden else inputs
        self.experts = nn.ModuleList(
            [stack(inputs, hidden, None) if hidden else nn.Identity() for _ in range(spec["experts"])])
        self.gates = nn.ModuleList([nn.Linear(inputs, spec["experts"]) for _ in spec["tasks"]])
        self.towers = nn.ModuleList(
            [stack(expert_outputs, spec["towerHidden"], t["outputs"]) for t in spec["tasks"]])

    def forward(self, x):
        stacked = torch.stack([e(x) for e in self.experts], 1)
        logits = []
        for gate, tower in zip(self.gates, self.towers):
            g = torch.softmax(gate(x), 1).unsqueeze(2)
            logits.append(tower((g * stacked).sum(1)))
        return logits


def blas_library():
    """The BLAS this process actually mapped (Debian's torch links libblas.so.3, chosen by alternatives)."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as f:
            paths = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
        return ", ".join(sorted(os.path.realpath(p) for p in paths)) or "none mapped"
    except OSError:
        return "unknown"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    with open(os.path.join(args.dir, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    spec = manifest["spec"]
    model = Mmoe(spec)

    flat = np.fromfile(os.path.join(args.dir, "params.bin"), dtype=np.float32)
    state = {}
    offset = 0
    for p in manifest["parameters"]:
        count = int(np.prod(p["shape"]))
        state[p["name"]] = torch.from_numpy(flat[offset:offset + count].reshape(p["shape"]).copy())
        offset += count
    if offset != flat.size:
        sys.exit(f"params.bin holds {flat.size} values, the manifest {offset}")
    model.load_state_dict(state, strict=True)

    batches, batch = manifest["batches"], manifest["batch"]
    x = torch.from_numpy(
        np.fromfile(os.path.join(args.dir, "features.bin"), dtype=np.float32).reshape(batches, batch, spec["inputs"]))
    ys = []
    for t, task in enumerate(spec["tasks"]):
        y = np.fromfile(os.path.join(args.dir, f"labels_{t}.bin"), dtype=np.float32)
        ys.append(torch.from_numpy(y.reshape(batches, batch, task["outputs"])))
    regression = [task["kind"] == "Regression" for task in spec["tasks"]]

    optimizer = torch.optim.Adam(model.parameters(), lr=manifest["learningRate"])
    model.train()

    def step(k):
        b = k % batches
        optimizer.zero_grad()
        logits = model(x[b])
        loss = None
        for t, out in enumerate(logits):
            task_loss = (nn.functional.mse_loss(out, ys[t][b]) if regression[t]
                         else nn.functional.binary_cross_entropy_with_logits(out, ys[t][b]))
            loss = task_loss if loss is None else loss + task_loss
        loss.backward()
        optimizer.step()
        return loss.item()

    first_loss = None
    for k in range(args.warmup):
        value = step(k)
        if k == 0:
            first_loss = value
    times = []
    for k in range(args.warmup, args.warmup + args.steps):
        start = time.perf_counter()
        value = step(k)
        times.append((time.perf_counter() - start) * 1000.0)
        if first_loss is None:
            first_loss = value
    times_sorted = sorted(times)
    p99 = times_sorted[min(len(times_sorted) - 1, int(round(0.99 * (len(times_sorted) - 1))))]
    mean = statistics.fmean(times)
    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "blas": blas_library(),
        "steps": len(times),
        "warmup": args.warmup,
        "mean_ms": mean,
        "p50_ms": statistics.median(times),
        "p99_ms": p99,
        "steps_per_s": 1000.0 / mean,
        "first_loss": first_loss,
        "parameters": sum(p.numel() for p in model.parameters()),
    }))


if __name__ == "__main__":
    main()
