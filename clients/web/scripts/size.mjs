// What the package adds to a frontend's bundle, minified and gzipped (npm run size, after build:lib):
// every export of the fetch-only entry with aws-amplify, and the same with the sign-in gate
// (React itself left out: the app has it anyway).
import { build } from "esbuild";
import { gzipSync } from "node:zlib";

const entries = {
  "fetch-only entry (.)": 'export * from "./lib/index.js";',
  "with the gate (. and ./react)": 'export * from "./lib/index.js"; export * from "./lib/react.js";',
};

for (const [name, contents] of Object.entries(entries)) {
  const { outputFiles } = await build({
    stdin: { contents, resolveDir: process.cwd(), loader: "js" },
    bundle: true, minify: true, write: false, format: "esm", platform: "browser", target: "es2020",
    external: ["react", "react-dom", "react/jsx-runtime"],
  });
  const code = outputFiles[0].contents;
  const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
  console.log(`${name}: ${kb(code.length)} minified, ${kb(gzipSync(code).length)} gzipped`);
}
