"""What the GPU can do and is doing: dense peak TFLOP/s (for MFU) and utilisation sampling."""

import time

import torch

# Dense (no sparsity) peak TFLOP/s by precision. NVIDIA H100 datasheet (SXM5; PCIe), A100 datasheet,
# L4 / L40S / A10G datasheets. fp32 is the non-tensor-core rate.
_PEAKS = (
    ("H100 PCIe", {"fp32": 51.2, "tf32": 378.0, "bf16": 756.0, "fp16": 756.0}),
    ("H100", {"fp32": 66.9, "tf32": 494.7, "bf16": 989.4, "fp16": 989.4}),
    ("H200", {"fp32": 66.9, "tf32": 494.7, "bf16": 989.4, "fp16": 989.4}),
    ("A100", {"fp32": 19.5, "tf32": 156.0, "bf16": 312.0, "fp16": 312.0}),
    ("L40S", {"fp32": 91.6, "tf32": 183.0, "bf16": 362.0, "fp16": 362.0}),
    ("L4", {"fp32": 30.3, "tf32": 60.0, "bf16": 121.0, "fp16": 121.0}),
    ("A10G", {"fp32": 31.2, "tf32": 62.5, "bf16": 125.0, "fp16": 125.0}),
)


def peak_tflops(device, precision):
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    for key, peaks in _PEAKS:
        if key in name:
            return peaks.get(precision)
    return None


class GpuMonitor:
    """Utilisation (percent, via NVML when installed) sampled at most every ``interval`` seconds, and peak
    allocated memory; both None without a GPU."""

    def __init__(self, device, interval=5.0):
        self.device = device
        self.interval = interval
        self._last = None
        self._last_at = 0.0
        self._nvml = device.type == "cuda"

    def utilization(self):
        if not self._nvml:
            return None
        now = time.monotonic()
        if self._last is None or now - self._last_at >= self.interval:
            try:
                self._last = float(torch.cuda.utilization(self.device))
            except Exception:  # no pynvml, or NVML unavailable in this container
                self._nvml = False
                return None
            self._last_at = now
        return self._last

    def memory_gib(self):
        if self.device.type != "cuda":
            return None
        return torch.cuda.max_memory_allocated(self.device) / 2 ** 30
