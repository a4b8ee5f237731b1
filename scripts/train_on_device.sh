#!/usr/bin/env bash
# Train the medium music model on a lent GPU (the workplace's `device` tool), from a data cache
# made here. Two CPU cores cannot train it in a sitting; nothing in vemidi depends on it.
#
#   here:   scripts/train_on_device.sh prepare runs/vemidi-small/data.pkl
#           -> runs/device/data.pkl.gz (~8 MB): the one ignored path the GPU run needs (carry it)
#   there:  scripts/train_on_device.sh run [MINUTES]   (default 9; device tool, carry runs/device)
#           -> $OUT/vemidi-medium.pt, $OUT/log.csv, $OUT/train.txt
#   here:   vemidi evaluate --model <the fetched vemidi-medium.pt> --data runs/vemidi-small/data.pkl
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
    minutes="${2:-9}"
    out="${OUT:?run it through the device tool, which sets OUT}"
    export PYTHONPATH="$PWD" PYTHONUNBUFFERED=1
    python3 -c 'import torch; assert torch.cuda.is_available(), "no GPU"; print(torch.cuda.get_device_name())'
    python3 -m vemidi train --run-dir /tmp/vemidi-device --data runs/device/data.pkl.gz \
      --device cuda --size medium --batch-size 64 --lr 6e-4 --steps 1000000 \
      --minutes "$minutes" --checkpoint-every 60 --threads 8 \
      --export "$out/vemidi-medium.pt" 2>&1 | tr '\r' '\n' | grep -v '^training:' | tee "$out/train.txt"
    cp /tmp/vemidi-device/log.csv "$out/log.csv"
    ;;
  *)
    echo "usage: $0 prepare PATH/data.pkl | run [MINUTES]" >&2
    exit 2
    ;;
esac
