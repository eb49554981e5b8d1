// The @anthropic-ai/sdk Node SDK against Drafter's Messages API, one case per run:
// node anthropic_messages.mjs create|stream
// DRAFTER_BASE_URL is Drafter's root here (the SDK adds /v1/messages itself).
import Anthropic from "@anthropic-ai/sdk";

import { API_KEY, BASE_URL, MODEL, recordingFetch, runCase } from "./drafter.mjs";

const client = new Anthropic({ apiKey: API_KEY, baseURL: BASE_URL, fetch: recordingFetch });

async function create() {
  const message = await client.messages.create({
    model: MODEL,
    max_tokens: 64,
    messages: [{ role: "user", content: "Hello from Node" }],
  });
  return {
    model: message.model,
    text: message.content.map((block) => block.text ?? "").join(""),
    usage: message.usage,
  };
}

async function stream() {
  const events = client.messages.stream({
    model: MODEL,
    max_tokens: 64,
    messages: [{ role: "user", content: "Stream to Node" }],
  });
  let deltas = 0;
  events.on("text", () => {
    deltas += 1;
  });
  const message = await events.finalMessage();
  return {
    text: message.content.map((block) => block.text ?? "").join(""),
    deltas,
    stop_reason: message.stop_reason,
  };
}

await runCase({ create, stream });
