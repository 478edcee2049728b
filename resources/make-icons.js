#!/usr/bin/env node
// Draws the application icon (the console's favicon, three stacked shard bars, on a rounded tile) at every size
// electron-builder needs and writes icon.png (1024), icons/NxN.png (Linux), icon.ico (Windows) and icon.icns
// (macOS) beside this script. Plain Node with zlib, so no image tools are needed: `node resources/make-icons.js`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const here = fileURLToPath(new URL('.', import.meta.url));
const TILE = { color: [0x10, 0x2a, 0x43], inset: 100 / 1024, radius: 185 / 1024 };
// The favicon's bars in its 22-unit view box (src/renderer/public/favicon.svg), colours top to bottom.
const BARS = [
  { y: 3, color: [0x74, 0xc0, 0xfc] },
  { y: 9, color: [0x22, 0x8b, 0xe6] },
  { y: 15, color: [0x4d, 0xab, 0xf7] },
];

/** Signed distance from (x, y) to a rounded rectangle; negative inside. */
function roundedRectDistance(x, y, left, top, width, height, radius) {
  const dx = Math.abs(x - (left + width / 2)) - (width / 2 - radius);
  const dy = Math.abs(y - (top + height / 2)) - (height / 2 - radius);
  return Math.hypot(Math.max(dx, 0), Math.max(dy, 0)) + Math.min(Math.max(dx, dy), 0) - radius;
}

/** RGBA pixels of the icon at size × size, edges anti-aliased by the distance to each shape. */
function draw(size) {
  const pixels = new Uint8Array(size * size * 4);
  const inset = TILE.inset * size;
  const tile = size - 2 * inset;
  // The bars fill the tile as the favicon's fill its view box, with a little more margin.
  const unit = (tile * 0.78) / 18;
  const barsLeft = (size - 18 * unit) / 2;
  const barsTop = (size - 16 * unit) / 2 - 3 * unit;
  for (let row = 0; row < size; row++) {
    for (let column = 0; column < size; column++) {
      const x = column + 0.5;
      const y = row + 0.5;
      const coverage = (distance) => Math.min(1, Math.max(0, 0.5 - distance));
      let alpha = coverage(roundedRectDistance(x, y, inset, inset, tile, tile, TILE.radius * size));
      let [r, g, b] = TILE.color;
      for (const bar of BARS) {
        const a = coverage(roundedRectDistance(x, y, barsLeft, barsTop + bar.y * unit, 18 * unit, 4 * unit, 1.5 * unit));
        r += (bar.color[0] - r) * a;
        g += (bar.color[1] - g) * a;
        b += (bar.color[2] - b) * a;
        alpha = Math.max(alpha, a);
      }
      pixels.set([Math.round(r), Math.round(g), Math.round(b), Math.round(alpha * 255)], (row * size + column) * 4);
    }
  }
  return pixels;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type, data) {
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'latin1');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}

function png(size) {
  const pixels = draw(size);
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let row = 0; row < size; row++) Buffer.from(pixels.buffer, row * size * 4, size * 4).copy(rows, row * (size * 4 + 1) + 1);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(rows, { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A Windows icon holding PNG images (what Windows Vista and later read), 256 first. */
function ico(images) {
  const header = Buffer.alloc(6 + 16 * images.length);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(images.length, 4);
  let offset = header.length;
  images.forEach(({ size, data }, index) => {
    const entry = 6 + 16 * index;
    header.writeUInt8(size >= 256 ? 0 : size, entry);
    header.writeUInt8(size >= 256 ? 0 : size, entry + 1);
    header.writeUInt16LE(1, entry + 4);
    header.writeUInt16LE(32, entry + 6);
    header.writeUInt32LE(data.length, entry + 8);
    header.writeUInt32LE(offset, entry + 12);
    offset += data.length;
  });
  return Buffer.concat([header, ...images.map((image) => image.data)]);
}

/** A macOS icon with PNG images under the element types that hold them. */
function icns(images) {
  const elements = images.map(({ type, data }) => {
    const head = Buffer.alloc(8);
    head.write(type, 0, 'latin1');
    head.writeUInt32BE(data.length + 8, 4);
    return Buffer.concat([head, data]);
  });
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'latin1');
  head.writeUInt32BE(8 + elements.reduce((total, element) => total + element.length, 0), 4);
  return Buffer.concat([head, ...elements]);
}

const sizes = [16, 24, 32, 48, 64, 128, 256, 512, 1024];
const pngs = new Map(sizes.map((size) => [size, png(size)]));
mkdirSync(join(here, 'icons'), { recursive: true });
writeFileSync(join(here, 'icon.png'), pngs.get(1024));
for (const size of [16, 32, 48, 64, 128, 256, 512, 1024]) writeFileSync(join(here, 'icons', `${size}x${size}.png`), pngs.get(size));
writeFileSync(join(here, 'icon.ico'), ico([256, 128, 64, 48, 32, 24, 16].map((size) => ({ size, data: pngs.get(size) }))));
const icnsTypes = { icp4: 16, icp5: 32, icp6: 64, ic07: 128, ic08: 256, ic09: 512, ic10: 1024 };
writeFileSync(join(here, 'icon.icns'), icns(Object.entries(icnsTypes).map(([type, size]) => ({ type, data: pngs.get(size) }))));
