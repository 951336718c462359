# The PyTorch side of `npm run bench:torch`: the same models, batch and
# optimizer as bench/loops.ts (Adam lr 1e-3; MNIST-size inputs, batch 128;
# the ResNet on 32x32x3, batch 32), one training step timed at a time with the
# loss read back (as anchorage's loop does when it logs every step). Prints
# one JSON line: {"model": ..., "threads": ..., "blas": ..., "ms": [per-step ms],
# "cpuPerWall": process CPU time over wall time of the timed steps}.
#   python3 bench/pytorch-step.py MODEL STEPS WARMUP THREADS [OPTIMIZER]
# OPTIMIZER: adam (default; torch.optim.Adam, lr 1e-3) or ftp: the FTP
# authors' AdamP (lr 1e-3, weight decay 0, k 1, every tensor projected, the
# initial weights as anchor), imported at run time from util/FTP.py of their
# repository's checkout named by ANCHORAGE_FTP_REFERENCE (never copied here).
import importlib.util
import json
import os
import sys
import time

model_name, steps, warmup, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
# torch.set_num_threads sets torch's own pools only: Debian's torch multiplies through OpenBLAS, whose pthread build
# starts a thread per core when it loads unless told otherwise (then a "one-thread" step multiplies on every core).
# The BLAS libraries read these once, at load: set before torch is imported.
for variable in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
    os.environ[variable] = str(threads)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

optimizer_name = sys.argv[5] if len(sys.argv) > 5 else 'adam'
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
    fixture = os.path.join(here, '..', 'test', 'fixtures', 'resnet-torch.py')
    spec = importlib.util.spec_from_file_location('resnet_torch', fixture)
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


def authors_ftp(model):
    root = os.environ.get('ANCHORAGE_FTP_REFERENCE')
    path = os.path.join(root or '', 'util', 'FTP.py')
    if not root or not os.path.isfile(path):
        sys.exit('optimizer ftp: ANCHORAGE_FTP_REFERENCE must name a checkout of the FTP authors\' repository '
                 f'(GT-RIPL/FTP) with util/FTP.py; got {root!r}')
    spec = importlib.util.spec_from_file_location('ftp_reference', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    params = [p for _, p in named]
    group = {'params': params, 'pre': [p.detach().clone() for p in params], 'name': [n for n, _ in named]}
    return module.AdamP([group], lr=1e-3, weight_decay=0.0, k=1, exclude_set=set())


if optimizer_name == 'adam':
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
elif optimizer_name == 'ftp':
    opt = authors_ftp(net)
else:
    sys.exit(f'unknown optimizer {optimizer_name!r}: adam or ftp')
loss_fn = nn.CrossEntropyLoss()
times = []
cpu_ms = 0.0
for t in range(steps + warmup):
    start = time.perf_counter()
    cpu_start = time.process_time()
    k = (t % 4) * batch
    opt.zero_grad()
    loss = loss_fn(net(x[k:k + batch]), y[k:k + batch])
    loss.backward()
    opt.step()
    loss.item()
    if t >= warmup:
        times.append((time.perf_counter() - start) * 1000)
        cpu_ms += (time.process_time() - cpu_start) * 1000


def blas_in_use():
    # Debian's torch calls whichever libblas.so.3 the alternatives system points at: the reference BLAS
    # (libblas3, ~25x slower matrix products here) unless OpenBLAS is installed. Read what was loaded.
    with open('/proc/self/maps') as maps:
        libs = {line.split()[-1] for line in maps if 'blas' in line.rsplit('/', 1)[-1]}
    return ', '.join(sorted(os.path.realpath(lib) for lib in libs)) or 'none found'


print(json.dumps({
    'model': model_name, 'optimizer': optimizer_name, 'threads': threads, 'torch': torch.__version__,
    'blas': blas_in_use(), 'ms': times,
    # The cores the timed steps kept busy: about `threads` when the thread count held.
    'cpuPerWall': cpu_ms / sum(times),
}))
