// The openai Node SDK against Drafter's chat completions, one case per run:
// node openai_chat.mjs completion|stream|tools|error
import OpenAI from "openai";

import { API_KEY, BASE_URL, MODEL, errorFields, recordingFetch, runCase } from "./drafter.mjs";

// The SDK's defaults (2 retries, its own backoff), as an application would construct it.
const client = new OpenAI({ apiKey: API_KEY, baseURL: BASE_URL, fetch: recordingFetch });

const WEATHER = {
  type: "function",
  function: {
    name: "weather",
    description: "Weather in a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

async function completion() {
  const answer = await client.chat.completions.create({
    model: MODEL,
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hello from Node" },
    ],
    max_completion_tokens: 64,
  });
  const choice = answer.choices[0];
  return {
    object: answer.object,
    model: answer.model,
    content: choice.message.content,
    finish_reason: choice.finish_reason,
    usage: answer.usage,
  };
}

async function stream() {
  const chunks = await client.chat.completions.create({
    model: MODEL,
    messages: [{ role: "user", content: "Stream to Node" }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let content = "";
  let finishReason = null;
  const usage = [];
  let count = 0;
  for await (const chunk of chunks) {
    count += 1;
    for (const choice of chunk.choices) {
      content += choice.delta.content ?? "";
      finishReason = choice.finish_reason ?? finishReason;
    }
    if (chunk.usage) usage.push({ choices: chunk.choices.length, usage: chunk.usage });
  }
  return { content, finish_reason: finishReason, usage, chunks: count };
}

async function tools() {
  const messages = [{ role: "user", content: "Weather in Paris?" }];
  const first = await client.chat.completions.create({ model: MODEL, messages, tools: [WEATHER] });
  const message = first.choices[0].message;
  messages.push(message);
  for (const call of message.tool_calls ?? []) {
    messages.push({ role: "tool", tool_call_id: call.id, content: "sunny, 21 °C" });
  }
  const second = await client.chat.completions.create({ model: MODEL, messages, tools: [WEATHER] });
  return {
    finish_reason: first.choices[0].finish_reason,
    tool_calls: message.tool_calls,
    answer: second.choices[0].message.content,
  };
}

async function error() {
  try {
    await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "This should fail" }],
    });
  } catch (caught) {
    if (!(caught instanceof OpenAI.APIError)) throw caught;
    return errorFields(caught);
  }
  throw new Error("the request succeeded");
}

await runCase({ completion, stream, tools, error });
