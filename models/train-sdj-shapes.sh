#!/usr/bin/env bash
# Reproduces models/sdj-shapes.safetensors, sdj's own small text-to-image model (issue 18), on a CPU:
# the shapes dataset, the VAE from random weights, then the UNet and the text encoder from random weights
# with the VAE frozen, then an fp16 copy. Every step is seeded; training took 60 minutes (VAE 27, UNet 33)
# on 2 cores shared with other work.
#
#   models/train-sdj-shapes.sh [WORK_DIR]      (default: sdj-shapes-work; the result replaces models/sdj-shapes.safetensors)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-sdj-shapes-work}
config=models/sdj-shapes.json

# 1. 4000 captioned 64x64 images ("a red circle on a blue background"): 6 colours x 5 backgrounds x 3 shapes
./sdj data shapes --count 4000 --seed 0 --out "$work/shapes"

# 2. The KL autoencoder, f=8, 4 latent channels: L1 + 1e-6 KL (LDM's loss without LPIPS/GAN)
./sdj train vae --model-config "$config" --train-data-dir "$work/shapes" --output-dir "$work/vae" \
  --train-batch-size 8 --learning-rate 1e-3 --lr-scheduler cosine --lr-warmup-steps 50 --max-train-steps 1000 \
  --checkpointing-steps 200 --seed 1 --validation-images 8
#    ... and 400 more steps on a longer cosine (the first 1000 left green reconstructed as yellow)
./sdj train vae --model-config "$config" --train-data-dir "$work/shapes" --output-dir "$work/vae" \
  --train-batch-size 8 --learning-rate 1e-3 --lr-scheduler cosine --lr-warmup-steps 50 --max-train-steps 1400 \
  --checkpointing-steps 200 --seed 1 --validation-images 8 --resume-from-checkpoint latest

# 3. The UNet and the text encoder from random weights (a random text encoder has nothing to keep, and training it
#    lets the words' embeddings separate), 10% empty captions for classifier-free guidance, EMA of the weights,
#    Min-SNR-5 loss weights (the noisy steps, which decide shape and colours, count fully) and offset noise 0.1 (a
#    flat background is the latents' mean, which plain noise never fully hides), each image's latents encoded once
./sdj train text-to-image --model-config "$config" --vae "$work/vae/vae.safetensors" --train-data-dir "$work/shapes" \
  --output-dir "$work/unet" --resolution 64 --center-crop --cache-latents --train-batch-size 16 --learning-rate 5e-4 \
  --lr-scheduler cosine --lr-warmup-steps 100 --max-train-steps 3000 --caption-dropout-rate 0.1 --snr-gamma 5 \
  --noise-offset 0.1 --train-text-encoder --use-ema --ema-decay 0.995 --checkpointing-steps 500 --seed 2

# 4. fp16 (half the size; the config and scale_factor travel in the file's metadata)
./sdj convert --dtype f16 "$work/unet/model.safetensors" models/sdj-shapes.safetensors
./sdj evaluate
