"""Precision modes: what autocast, TF32 and loss scaling each one means, with fallbacks for older torch."""

import contextlib

import torch


def set_matmul_precision(precision, device_type):
    """TF32 on for ``tf32`` and the autocast modes (their fp32 islands), off for strict ``fp32``."""
    allow = precision != "fp32"
    try:
        if hasattr(torch, "set_float32_matmul_precision"):
            torch.set_float32_matmul_precision("high" if allow else "highest")
        if device_type == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = allow
            torch.backends.cudnn.allow_tf32 = allow
    except RuntimeError:
        # Newer torch may refuse the legacy switches once its fp32_precision API is in use.
        torch.backends.cuda.matmul.fp32_precision = "tf32" if allow else "ieee"
        torch.backends.cudnn.conv.fp32_precision = "tf32" if allow else "ieee"


def autocast(precision, device_type):
    if precision == "bf16":
        return torch.autocast(device_type=device_type, dtype=torch.bfloat16)
    if precision == "fp16":
        return torch.autocast(device_type=device_type, dtype=torch.float16)
    return contextlib.nullcontext()


def supports(precision, device_type):
    """None when the precision runs on this device with this torch, else why not."""
    if precision == "fp16" and device_type == "cpu":
        import warnings

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # torch 1.13 only warns, then silently disables autocast
                with torch.autocast(device_type="cpu", dtype=torch.float16):
                    pass
                torch.amp.GradScaler("cpu")
        except Exception:
            return "fp16 with loss scaling needs a CUDA device with torch %s; on CPU use bf16 or fp32" % (
                torch.__version__)
    return None


def grad_scaler(precision, device_type):
    """A GradScaler for fp16 (None otherwise): ``torch.amp.GradScaler`` where it exists, else the CUDA one."""
    if precision != "fp16":
        return None
    amp = getattr(torch, "amp", None)
    if amp is not None and hasattr(amp, "GradScaler"):
        return amp.GradScaler(device_type)
    return torch.cuda.amp.GradScaler()
