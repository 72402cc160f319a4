#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""torch_check.py - PyTorch on whatever libcuda.so.1 the process loads.

Run once natively and once through vgpu (tests/torch/run-gpu.sh); each run
checks itself against the CPU and writes a JSON record (--out) with the
device it saw and the loss curve of a small MLP, which run-gpu.sh compares
between the two runs.

  tensors   creation, arithmetic, reductions, indexing, copies both ways
  matmul    torch.matmul (cuBLAS) fp32 and fp64 against the CPU
  cnn       a small Conv2d/BatchNorm/ReLU/pool/Linear net (cuDNN) forward and
            backward against the CPU
  graph     torch.cuda.graph: a captured step replayed, against eager results
            (exercises stream capture and graph launch)
  mlp       an MLP trained for --steps steps on a fixed synthetic task; the
            loss must fall, and the curve goes to the record
With PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True in the environment
PyTorch's allocator maps its memory with the driver's VMM calls.
Prints "torch: OK ..." or "torch: FAIL ..." last; exit status 0 only on OK.
"""
import argparse
import json
import sys
import time

import torch


def check(name, cond, detail=""):
    if not cond:
        raise AssertionError(f"{name} {detail}")


def close(name, a, b, rtol, atol):
    a, b = a.detach().double().cpu(), b.detach().double().cpu()
    err = (a - b).abs().max().item()
    check(name, torch.allclose(a, b, rtol=rtol, atol=atol), f"max abs err {err:.3g}")
    return err


def t_tensors(dev):
    x = torch.arange(1000, dtype=torch.float32, device=dev)
    y = torch.ones_like(x) * 2
    z = (x * y + 1).sqrt()
    close("elementwise", z, (torch.arange(1000.0) * 2 + 1).sqrt(), 1e-6, 1e-6)
    check("sum", abs(x.sum().item() - 499500.0) < 1e-3)
    check("max", x.max().item() == 999.0)
    i = torch.tensor([3, 1, 4, 1, 5], device=dev)
    check("index", x[i].tolist() == [3.0, 1.0, 4.0, 1.0, 5.0])
    h = torch.randn(4096, generator=torch.Generator().manual_seed(1))
    check("roundtrip", torch.equal(h.to(dev).cpu(), h))
    r = torch.randn(64, 64, device=dev)
    check("randn", abs(r.mean().item()) < 0.1 and abs(r.std().item() - 1) < 0.1)
    check("cat", torch.cat([x[:10], x[-10:]]).sum().item() == 45 + 9945)


def t_matmul(dev):
    g = torch.Generator().manual_seed(2)
    a = torch.randn(257, 129, generator=g)
    b = torch.randn(129, 65, generator=g)
    close("matmul fp32", torch.matmul(a.to(dev), b.to(dev)), a @ b, 1e-3, 1e-3)
    ad, bd = a.double(), b.double()
    close("matmul fp64", ad.to(dev) @ bd.to(dev), ad @ bd, 1e-10, 1e-10)
    bt = torch.randn(8, 33, 17, generator=g)
    ct = torch.randn(8, 17, 9, generator=g)
    close("bmm", torch.bmm(bt.to(dev), ct.to(dev)), torch.bmm(bt, ct), 1e-4, 1e-4)


def t_graph(dev):
    """A captured step (matmul + elementwise + reduction) replayed three times."""
    g = torch.Generator().manual_seed(6)
    a = torch.randn(64, 64, generator=g).to(dev)
    x = torch.randn(64, 64, generator=g).to(dev)
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):          # warm-up outside the capture, as PyTorch asks
        y = torch.tanh(a @ x).sum(dim=1)
    torch.cuda.current_stream().wait_stream(s)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        y = torch.tanh(a @ x).sum(dim=1)
    for k in range(3):
        x.copy_(torch.randn(64, 64, generator=g).to(dev))
        graph.replay()
        torch.cuda.synchronize()
        close(f"graph replay {k}", y, torch.tanh(a.cpu() @ x.cpu()).sum(dim=1), 1e-4, 1e-4)


class Cnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(8)
        self.c2 = torch.nn.Conv2d(8, 16, 3, stride=2)
        self.fc = torch.nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        x = torch.relu(self.bn(self.c1(x)))
        x = torch.nn.functional.max_pool2d(x, 2)
        x = torch.relu(self.c2(x))
        return self.fc(x.flatten(1))


def t_cnn(dev):
    torch.manual_seed(3)
    net = Cnn()
    x = torch.randn(4, 3, 32, 32)
    ref = net(x)
    ref.sum().backward()
    gref = net.c1.weight.grad.clone()
    net.zero_grad()
    netd = net.to(dev)
    out = netd(x.to(dev))
    out.sum().backward()
    close("cnn forward", out, ref, 1e-3, 1e-3)
    close("cnn backward", netd.c1.weight.grad, gref, 1e-3, 1e-3)


def t_mlp(dev, steps):
    torch.manual_seed(4)
    g = torch.Generator().manual_seed(5)
    x = torch.randn(512, 32, generator=g)
    w = torch.randn(32, 1, generator=g)
    y = torch.sin(x @ w) + 0.1 * (x[:, :1] ** 2)
    x, y = x.to(dev), y.to(dev)
    net = torch.nn.Sequential(torch.nn.Linear(32, 128), torch.nn.Tanh(),
                              torch.nn.Linear(128, 128), torch.nn.Tanh(),
                              torch.nn.Linear(128, 1)).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    curve = []
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(net(x), y)
        loss.backward()
        opt.step()
        curve.append(loss.item())
    check("mlp learns", curve[-1] < 0.5 * curve[0], f"{curve[0]:.4f} -> {curve[-1]:.4f}")
    return curve


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--out")
    args = ap.parse_args()
    rec = {"ok": False}
    try:
        check("cuda available", torch.cuda.is_available())
        dev = torch.device("cuda:0")
        free, total = torch.cuda.mem_get_info(0)
        rec.update(torch=torch.__version__, cuda=torch.version.cuda,
                   cudnn=torch.backends.cudnn.version(),
                   devices=torch.cuda.device_count(),
                   name=torch.cuda.get_device_name(0), free=free, total=total)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        t0 = time.time()
        for name, fn in (("tensors", t_tensors), ("matmul", t_matmul), ("cnn", t_cnn),
                         ("graph", t_graph)):
            fn(dev)
            print(f"  {name}: ok", flush=True)
        rec["curve"] = t_mlp(dev, args.steps)
        rec["seconds"] = time.time() - t0
        rec["ok"] = True
        print(f"torch: OK {rec['name']} ({rec['devices']} device(s), "
              f"{total >> 20} MiB) mlp loss {rec['curve'][0]:.4f} -> "
              f"{rec['curve'][-1]:.4f} in {rec['seconds']:.1f} s")
    except Exception as e:  # noqa: BLE001 - any failure is the verdict
        rec["error"] = f"{type(e).__name__}: {e}"
        print(f"torch: FAIL {rec['error']}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rec, f)
    return 0 if rec["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
