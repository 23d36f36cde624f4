#!/usr/bin/python3
"""PyTorch peer of bench-fl-paper's local training step (bench/EdgeProfile.Bench.FederatedPaper).

NIID-Bench's SimpleCNNMNIST (conv 6@5x5, ReLU, max-pool 2; conv 16@5x5, ReLU, max-pool 2; FC 256-120-84-10 with
ReLU), SGD lr 0.01, momentum 0.9, weight decay 1e-5, cross-entropy, batches of 64 random 28x28 images: the step
bench-fl-paper times in TorchSharp, timed the same way (zero_grad, forward, loss, backward, step; after a warm-up).

Prints one JSON object: microseconds per sample (wall and process CPU) and the settings.
Needs Debian's python3-torch (1.13) and libopenblas0-pthread; the bench sets OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and
OMP_WAIT_POLICY=PASSIVE to the thread count.
Usage: /usr/bin/python3 bench/models/torch_lenet_step.py [--threads 1] [--warmup 20] [--steps 300] [--seed 0]
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F
from torch import nn


class SimpleCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 4 * 4, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, 16 * 4 * 4)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = SimpleCnn()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-5)
    x = torch.rand(64, 1, 28, 28)
    y = torch.randint(0, 10, (64,))

    def step():
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()

    for _ in range(args.warmup):
        step()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(args.steps):
        step()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    samples = args.steps * 64
    print(json.dumps({
        "us_per_sample": wall / samples * 1e6,
        "cpu_us_per_sample": cpu / samples * 1e6,
        "threads": args.threads,
        "steps": args.steps,
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
