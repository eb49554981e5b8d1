// Imports each pinned client as a test would and prints the installed versions and node's.
import { readFileSync } from "node:fs";

const PACKAGES = [
  "openai",
  "@anthropic-ai/sdk",
  "@langchain/openai",
  "@langchain/core",
  "ai",
  "@ai-sdk/openai",
  "@ai-sdk/anthropic",
];

const versions = {};
for (const name of PACKAGES) {
  await import(name);
  const manifest = new URL(`../node_modules/${name}/package.json`, import.meta.url);
  versions[name] = JSON.parse(readFileSync(manifest, "utf8")).version;
}
console.log(JSON.stringify({ node: process.versions.node, versions }));
