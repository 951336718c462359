# The PyTorch side of `npm run bench:torch`: the same models, batch and
# optimizer as bench/loops.ts (Adam lr 1e-3; MNIST-size inputs, batch 128;
# the ResNet on 32x32x3, batch 32), one training step timed at a time with the
# loss read back (as anchorage's loop does when it logs every step). Prints
# one JSON line: {"model": ..., "threads": ..., "ms": [per-step ms]}.
#   python3 bench/pytorch-step.py MODEL STEPS WARMUP THREADS
import importlib.util
import json
import os
import sys
import time

import torch
import torch.nn as nn

model_name, steps, warmup, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
torch.manual_seed(0)


def mlp(width):
    return nn.Sequential(nn.Linear(784, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 10))


def cnn():
    return nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(7 * 7 * 32, 128), nn.ReLU(), nn.Linear(128, 10),
    )


def resnet18():
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location('resnet_torch', os.path.join(here, '..', 'test', 'fixtures', 'resnet-torch.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    net = module.ResNet(20, [2, 2, 2, 2], 10, 3)
    return nn.Sequential(nn.Unflatten(1, (3, 32, 32)), net)


builders = {'mlp': lambda: mlp(400), 'mlp256': lambda: mlp(256), 'cnn': cnn, 'resnet18': resnet18}
net = builders[model_name]()
net.train()
batch, size = (32, 3072) if model_name == 'resnet18' else (128, 784)
x = torch.rand(batch * 4, size)
y = torch.randint(0, 10, (batch * 4,))
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()
times = []
for t in range(steps + warmup):
    start = time.perf_counter()
    k = (t % 4) * batch
    opt.zero_grad()
    loss = loss_fn(net(x[k:k + batch]), y[k:k + batch])
    loss.backward()
    opt.step()
    loss.item()
    if t >= warmup:
        times.append((time.perf_counter() - start) * 1000)
print(json.dumps({'model': model_name, 'threads': threads, 'torch': torch.__version__, 'ms': times}))
