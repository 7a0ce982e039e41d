// Run exported models on onnxruntime-node (tests/test_onnx.c):
//   node onnx-run.js MODEL IMAGES OUT [MODEL IMAGES OUT]...
// IMAGES is an IDX image file (gzipped or not); each image's pixels are scaled
// by 1/255 as train scales them. Writes OUT.probabilities and OUT.logits (raw
// little-endian float32, one row per image) and prints one JSON line per
// model: its input and output names and shapes as the runtime read them.
// The runtime is found in $ORT_NODE_DIR (the onnxruntime-node package folder).
'use strict';
const fs = require('fs');
const zlib = require('zlib');
const ort = require(process.env.ORT_NODE_DIR);

function readIdx(path) {
    let b = fs.readFileSync(path);
    if (b[0] === 0x1f && b[1] === 0x8b)
        b = zlib.gunzipSync(b);
    if (b[2] !== 0x08 || b[3] !== 3)
        throw new Error(`${path}: not an IDX file of uint8 images`);
    const n = b.readUInt32BE(4), rows = b.readUInt32BE(8), cols = b.readUInt32BE(12);
    return { n, dim: rows * cols, pixels: b.subarray(16, 16 + n * rows * cols) };
}

async function run(model, images, out) {
    const im = readIdx(images);
    const session = await ort.InferenceSession.create(model);
    const probs = [], logits = [];
    // batches of 999: the last one is short, so the batch dimension must be free
    const step = 999;
    for (let from = 0; from < im.n; from += step) {
        const nb = Math.min(step, im.n - from);
        const x = new Float32Array(nb * im.dim);
        for (let i = 0; i < x.length; i++)
            x[i] = im.pixels[from * im.dim + i] / 255;
        const r = await session.run({ pixels: new ort.Tensor('float32', x, [nb, im.dim]) });
        probs.push(Buffer.from(r.probabilities.data.buffer, r.probabilities.data.byteOffset,
                               r.probabilities.data.byteLength));
        logits.push(Buffer.from(r.logits.data.buffer, r.logits.data.byteOffset,
                                r.logits.data.byteLength));
        if (from === 0)
            var shape = r.probabilities.dims;
    }
    fs.writeFileSync(out + '.probabilities', Buffer.concat(probs));
    fs.writeFileSync(out + '.logits', Buffer.concat(logits));
    console.log(JSON.stringify({ inputs: session.inputNames, outputs: session.outputNames,
                                 n: im.n, dim: im.dim, outputs_per_image: shape[1] }));
}

async function main() {
    const a = process.argv.slice(2);
    for (let i = 0; i + 2 < a.length; i += 3)
        await run(a[i], a[i + 1], a[i + 2]);
}

main().catch((err) => { console.error(`onnx-run: ${err.message}`); process.exit(1); });
