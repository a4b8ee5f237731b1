#!/usr/bin/env bash
# Train a music model from scratch on a lent GPU (the workplace's `device` tool), from a data
# cache made here: what two CPU cores cannot do in a sitting. Nothing in vemidi depends on it.
#
#   here:   scripts/train_on_device.sh prepare runs/vemidi-small/data.pkl
#           -> runs/device/data.pkl.gz (~8 MB): the one ignored path the GPU run needs (carry it)
#   there:  scripts/train_on_device.sh run [MINUTES] [SIZE] [MORE_SHARE]
#           (defaults 9, small, 0.5; device tool, carry runs/device)
#           -> $OUT/vemidi-SIZE-gpu.pt, $OUT/log.csv, $OUT/train.txt
#   here:   vemidi evaluate --model <the fetched .pt> --data runs/vemidi-small/data.pkl
# small keeps today's decoding speed on the CPU; medium decodes at 2.5x the cost per token.
# A rehearsal here: DEVICE=cpu OUT=/tmp/out scripts/train_on_device.sh run 0.5
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  prepare)
    src="${2:?usage: $0 prepare PATH/data.pkl}"
    mkdir -p runs/device
    gzip -c "$src" > runs/device/data.pkl.gz
    ls -l runs/device/data.pkl.gz
    ;;
  run)
    minutes="${2:-9}" size="${3:-small}" share="${4:-0.5}"
    out="${OUT:?run it through the device tool, which sets OUT}"
    export PYTHONPATH="$PWD" PYTHONUNBUFFERED=1
    device="${DEVICE:-cuda}"
    if [ "$device" = cuda ]; then
      python3 -c 'import torch; assert torch.cuda.is_available(), "no GPU"; print(torch.cuda.get_device_name())'
    fi
    python3 -m vemidi train --run-dir /tmp/vemidi-device --data runs/device/data.pkl.gz \
      --device "$device" --size "$size" --dropout 0.1 --more-share "$share" --batch-size 64 \
      --lr 6e-4 --steps 1000000 --minutes "$minutes" --checkpoint-every 60 --threads 8 \
      --export "$out/vemidi-$size-gpu.pt" 2>&1 | tr '\r' '\n' | grep -v '^training:' | tee "$out/train.txt"
    cp /tmp/vemidi-device/log.csv "$out/log.csv"
    ;;
  *)
    echo "usage: $0 prepare PATH/data.pkl | run [MINUTES] [small|medium] [MORE_SHARE]" >&2
    exit 2
    ;;
esac
