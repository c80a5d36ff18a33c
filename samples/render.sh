#!/usr/bin/env bash
# Render samples/scripts/epN.txt -> samples/audio/epN.mp3 with espeak-ng + lame.
# Needs Debian packages: espeak-ng lame
# Usage: samples/render.sh [ep1 ep2 ...]   (default: every scripts/*.txt)
set -euo pipefail

cd "$(dirname "$0")"
SPEED="${SPEED:-160}"      # words per minute
VOICE="${VOICE:-en-us}"
BITRATE="${BITRATE:-48}"   # kbps, mono CBR
RATE_KHZ=22.05             # espeak-ng native output rate

for tool in espeak-ng lame; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y espeak-ng lame)" >&2; exit 1; }
done

mkdir -p audio
if [ "$#" -gt 0 ]; then
  names=("$@")
else
  names=()
  for f in scripts/*.txt; do names+=("$(basename "$f" .txt)"); done
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

for name in "${names[@]}"; do
  src="scripts/$name.txt"
  [ -f "$src" ] || { echo "no such script: $src" >&2; exit 1; }
  espeak-ng -v "$VOICE" -s "$SPEED" -g 4 -f "$src" -w "$tmp/$name.wav"
  # -m m: mono, CBR, resample to 22.05 kHz; no ID3 tags so output is reproducible
  lame --quiet -m m -b "$BITRATE" --resample "$RATE_KHZ" --noreplaygain \
       "$tmp/$name.wav" "audio/$name.mp3"
  bytes=$(stat -c %s "audio/$name.mp3")
  echo "audio/$name.mp3 $bytes bytes"
done
