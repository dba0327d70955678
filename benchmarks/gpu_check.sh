#!/usr/bin/env bash
# Issue 12's GPU figures with PyTorch alone (no TensorRT): huge IMU/thermal latency at batch 1 and 32 in fp32, fp16
# and bf16 (eager and CUDA graph), the cosine of each precision to fp32, and distill/train steps/s and peak memory
# with bf16 autocast (huge IMU teacher -> imu-small). Needs a CUDA build of PyTorch and edgebind installed
# (pip install -e .). Stops after 7.5 minutes at most; a few minutes on a recent GPU.
#   bash benchmarks/gpu_check.sh            # figures on GPU 0
#   bash benchmarks/gpu_check.sh --json     # the same as JSON
#   bash benchmarks/gpu_check.sh --tiny --device cpu   # tiny configs on the CPU: checks the script runs
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
fi
exec timeout 450 python benchmarks/gpu_check.py "$@"
