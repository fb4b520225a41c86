#!/usr/bin/env node
// Build tvmjs.bundle.js (UMD, global `tvmjs`) from a copy of the TVM wheel's web tree.
//
//   node web/build_tvmjs.mjs --tvm-web <dir> --out <dir>
//
// <dir> given to --tvm-web holds the wheel's `src/*.ts` plus `src/tvmjs_runtime_wasi.js`
// (emcc's runtime JS decorated by `decorate_as_wasi.py ... es`, produced by the Python
// toolchain). All build tools come from this package's node_modules, so the tree can live
// anywhere (e.g. ~/.cache/pytest-wasm-tune/<key>/tvm/web) and is never written to.
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import commonjs from "@rollup/plugin-commonjs";
import resolve from "@rollup/plugin-node-resolve";
import typescript from "@rollup/plugin-typescript";
import { rollup } from "rollup";
import ignore from "rollup-plugin-ignore";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const NODE_MODULES = path.join(HERE, "node_modules");

function fail(message) {
  console.error(`build_tvmjs: ${message}`);
  process.exit(1);
}

function parseCli(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      "tvm-web": { type: "string" },
      out: { type: "string" },
      sourcemap: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log("usage: node build_tvmjs.mjs --tvm-web <tvm web tree> --out <output dir> [--sourcemap]");
    process.exit(0);
  }
  if (!values["tvm-web"] || !values.out) fail("both --tvm-web and --out are required (see --help)");
  return {
    tvmWeb: path.resolve(values["tvm-web"]),
    outDir: path.resolve(values.out),
    sourcemap: values.sourcemap,
  };
}

function checkTree(tvmWeb) {
  const src = path.join(tvmWeb, "src");
  const required = ["index.ts", "runtime.ts", "rpc_server.ts", "tvmjs_runtime_wasi.d.ts"];
  for (const name of required) {
    if (!existsSync(path.join(src, name))) fail(`${path.join(src, name)} is missing: not a TVM web tree`);
  }
  if (!existsSync(path.join(src, "tvmjs_runtime_wasi.js"))) {
    fail(
      `${path.join(src, "tvmjs_runtime_wasi.js")} is missing: generate it first with ` +
        "`python emcc/decorate_as_wasi.py <tvmjs_runtime.js> src/tvmjs_runtime_wasi.js es`",
    );
  }
  if (!existsSync(NODE_MODULES)) fail(`${NODE_MODULES} is missing: run \`npm ci\` in ${HERE}`);
  return src;
}

// TypeScript options: our own, not the tree's tsconfig.json, so that type roots resolve to this
// package's node_modules wherever the tree is. They go into a throwaway tsconfig with absolute
// paths: the plugin takes its program's files from a tsconfig (or else globs the cwd). ES2017
// keeps native async/await; TS `private` members stay plain properties, which the page relies on.
function writeTsconfig(src, sourcemap, tmpDir) {
  const tsconfig = {
    compilerOptions: {
      target: "es2017",
      module: "esnext",
      moduleResolution: "bundler",
      lib: ["es2020", "dom"],
      rootDir: src,
      typeRoots: [path.join(NODE_MODULES, "@types"), NODE_MODULES],
      types: ["node", "@webgpu/types"],
      declaration: false,
      sourceMap: sourcemap,
      skipLibCheck: true,
      importHelpers: false,
      noEmitOnError: false,
    },
    include: [path.join(src, "*.ts")],
  };
  const file = path.join(tmpDir, "tsconfig.json");
  writeFileSync(file, JSON.stringify(tsconfig, null, 2));
  return file;
}

async function build({ tvmWeb, outDir, sourcemap }) {
  const src = checkTree(tvmWeb);
  const started = Date.now();
  const tmpDir = mkdtempSync(path.join(os.tmpdir(), "build-tvmjs-"));
  try {
    await bundleTo(src, outDir, sourcemap, writeTsconfig(src, sourcemap, tmpDir));
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
  const file = path.join(outDir, "tvmjs.bundle.js");
  const kib = (statSync(file).size / 1024).toFixed(0);
  console.log(`build_tvmjs: wrote ${file} (${kib} KiB) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function bundleTo(src, outDir, sourcemap, tsconfig) {
  const bundle = await rollup({
    input: path.join(src, "index.ts"),
    // Node-only modules reached from runtime code paths the browser never takes.
    external: ["ws", "perf_hooks"],
    plugins: [
      ignore(["fs", "path", "crypto"]),
      resolve({ browser: true, preferBuiltins: false, rootDir: HERE, modulePaths: [NODE_MODULES] }),
      commonjs(),
      typescript({ tsconfig, filterRoot: src, include: [path.join(src, "*.ts")] }),
    ],
    onwarn(warning) {
      // Circular imports inside tvmjs are benign; everything else is shown.
      if (warning.code !== "CIRCULAR_DEPENDENCY") console.warn(`build_tvmjs: warning: ${warning.message}`);
    },
  });
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, "tvmjs.bundle.js");
  await bundle.write({
    file,
    format: "umd",
    name: "tvmjs",
    exports: "named",
    globals: { ws: "ws", perf_hooks: "perf_hooks" },
    sourcemap,
  });
  await bundle.close();
}

build(parseCli(process.argv.slice(2))).catch((err) => fail(err && err.stack ? err.stack : String(err)));
