# SPDX-License-Identifier: MIT
"""torch_zoo.py - a wider sweep of what PyTorch users run, each checked
against the CPU (or against itself where the CPU has no such op): reduced
precision GEMMs, attention, convolutions and RNNs (cuDNN), sorting and
scans (CUB), FFTs (cuFFT), random numbers, pinned memory with streams and
events, torch.compile (Triton's kernels through the driver API) when the
machine can compile.  Run natively and through vgpu by
tests/torch/run-gpu.sh; one line per check, "zoo: PASS|FAIL|SKIP name
detail", exit status 0 when nothing failed.
"""
import sys
import time

import torch

DEV = torch.device("cuda:0")
results = []


def check(name, fn):
    """fn returns (ok, detail); ok None: skipped (detail says why)."""
    try:
        ok, detail = fn()
        verdict = "SKIP" if ok is None else "PASS" if ok else "FAIL"
    except Exception as e:  # noqa: BLE001 - any failure is the verdict
        verdict, detail = "FAIL", f"{type(e).__name__}: {e}".splitlines()[0][:160]
    results.append((name, verdict, detail))
    print(f"zoo: {verdict} {name}: {detail}", flush=True)


def close(a, b, rtol, atol):
    a, b = a.detach().float().cpu(), b.detach().float().cpu()
    err = (a - b).abs().max().item() if a.numel() else 0.0
    return torch.allclose(a, b, rtol=rtol, atol=atol), f"max abs err {err:.2e}"


def gen(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def half_gemm(dtype):
    def run():
        a, b = gen(256, 128, seed=1), gen(128, 64, seed=2)
        c = (a.to(DEV, dtype) @ b.to(DEV, dtype)).float()
        return close(c, a.to(dtype).float() @ b.to(dtype).float(), 2e-2, 2e-1)
    return run


def attention():
    q, k, v = (gen(2, 4, 64, 32, seed=s) for s in (3, 4, 5))
    out = torch.nn.functional.scaled_dot_product_attention(
        q.to(DEV, torch.float16), k.to(DEV, torch.float16), v.to(DEV, torch.float16))
    ref = torch.nn.functional.scaled_dot_product_attention(q, k, v)
    return close(out, ref, 2e-2, 2e-2)


def conv_fp16():
    torch.manual_seed(6)
    conv = torch.nn.Conv2d(16, 32, 3, padding=1)
    x = gen(8, 16, 28, 28, seed=7)
    ref = conv(x)
    out = conv.to(DEV, torch.float16)(x.to(DEV, torch.float16))
    return close(out, ref, 5e-2, 5e-2)


def lstm():
    torch.manual_seed(8)
    rnn = torch.nn.LSTM(16, 32, num_layers=2, batch_first=True)
    x = gen(4, 10, 16, seed=9)
    ref, _ = rnn(x)
    out, _ = rnn.to(DEV)(x.to(DEV))
    return close(out, ref, 1e-3, 1e-3)


def sort_scan():
    x = gen(100000, seed=10)
    s, i = x.to(DEV).sort()
    c = x.to(DEV).cumsum(0)
    ok1, d1 = close(s, x.sort()[0], 0, 0)
    # float32 draws repeat, and ties may come in either order: the indices must pick the values
    ok2 = torch.equal(x[i.cpu()], s.cpu())
    ok3, d3 = close(c, x.double().cumsum(0), 1e-3, 1e-1)
    return ok1 and ok2 and ok3, f"sort {d1}, indices {'right' if ok2 else 'wrong'}, cumsum {d3}"


def fft():
    x = gen(4, 1024, seed=11)
    return close(torch.fft.rfft(x.to(DEV)).abs(), torch.fft.rfft(x).abs(), 1e-3, 1e-2)


def random_numbers():
    g1 = torch.Generator(device=DEV).manual_seed(12)
    g2 = torch.Generator(device=DEV).manual_seed(12)
    a = torch.rand(1 << 20, device=DEV, generator=g1)
    b = torch.rand(1 << 20, device=DEV, generator=g2)
    m = a.mean().item()
    return torch.equal(a, b) and abs(m - 0.5) < 0.01, f"mean {m:.4f}, reproducible"


def pinned_streams():
    x = gen(1 << 22, seed=13).pin_memory()
    s = torch.cuda.Stream()
    e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    with torch.cuda.stream(s):
        e0.record()
        d = x.to(DEV, non_blocking=True)
        y = (d * 2).to("cpu", non_blocking=True)
        e1.record()
    s.synchronize()
    ms = e0.elapsed_time(e1)
    return torch.equal(y, x * 2), f"{ms:.2f} ms for 16 MiB there and back"


def embedding_backward():
    torch.manual_seed(14)
    emb = torch.nn.Embedding(1000, 64)
    idx = torch.randint(0, 1000, (512,), generator=torch.Generator().manual_seed(15))
    emb(idx).pow(2).sum().backward()
    ref = emb.weight.grad.clone()
    emb.zero_grad()
    embd = emb.to(DEV)
    embd(idx.to(DEV)).pow(2).sum().backward()
    return close(embd.weight.grad, ref, 1e-4, 1e-4)


def amp_training():
    torch.manual_seed(16)
    net = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.GELU(),
                              torch.nn.Linear(256, 10)).to(DEV)
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    scaler = torch.amp.GradScaler("cuda")
    x, y = gen(256, 64, seed=17).to(DEV), torch.randint(0, 10, (256,)).to(DEV)
    first = last = None
    for _ in range(50):
        opt.zero_grad()
        with torch.autocast("cuda", dtype=torch.float16):
            loss = torch.nn.functional.cross_entropy(net(x), y)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        first = loss.item() if first is None else first
        last = loss.item()
    return last < first, f"loss {first:.3f} -> {last:.3f}"


def compiled():
    try:
        import triton  # noqa: F401
    except ImportError:
        return None, "no triton"

    def f(x):
        return torch.sin(x) * torch.cos(x) + x.pow(2)

    x = gen(4096, seed=18)
    out = torch.compile(f)(x.to(DEV))
    return close(out, f(x), 1e-5, 1e-5)


CHECKS = [
    ("fp16 GEMM (cuBLASLt)", half_gemm(torch.float16)),
    ("bf16 GEMM", half_gemm(torch.bfloat16)),
    ("scaled dot-product attention fp16", attention),
    ("conv2d fp16 (cuDNN)", conv_fp16),
    ("LSTM (cuDNN RNN)", lstm),
    ("sort and cumsum (CUB)", sort_scan),
    ("rfft (cuFFT)", fft),
    ("random numbers (Philox)", random_numbers),
    ("pinned memory, streams, events", pinned_streams),
    ("embedding backward (atomics)", embedding_backward),
    ("AMP training (GradScaler)", amp_training),
    ("torch.compile (Triton)", compiled),
]


def main():
    t0 = time.time()
    for name, fn in CHECKS:
        check(name, fn)
    passed = sum(r[1] == "PASS" for r in results)
    fails = sum(r[1] == "FAIL" for r in results)
    print(f"zoo: {passed} passed, {fails} failed, {len(results) - passed - fails} skipped "
          f"in {time.time() - t0:.1f} s ({torch.cuda.get_device_name(0)})")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
