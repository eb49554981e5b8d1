// The Vercel AI SDK's default OpenAI provider (openai(model): the Responses API) against
// Drafter, with a tool the SDK runs itself, one case per run:
// node ai_sdk_responses.mjs generate|stream
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, stepCountIs, streamText, tool } from "ai";
import { z } from "zod";

import { API_KEY, BASE_URL, MODEL, recordingFetch, runCase } from "./drafter.mjs";

const openai = createOpenAI({ apiKey: API_KEY, baseURL: BASE_URL, fetch: recordingFetch });

// The weather tool the model is offered; what it was called with is recorded.
const calls = [];
const weather = tool({
  description: "The weather in a city.",
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }) => {
    calls.push(city);
    return { city, forecast: "sunny" };
  },
});

const request = {
  model: openai(MODEL),
  system: "Be brief.",
  tools: { weather },
  stopWhen: stepCountIs(3),
  maxOutputTokens: 200,
};

function summary(steps) {
  return steps.map((step) => ({
    finish_reason: step.finishReason,
    text: step.text,
    tool_calls: step.toolCalls.map((c) => ({ name: c.toolName, input: c.input })),
  }));
}

async function generate() {
  const answer = await generateText({ ...request, prompt: "Weather in Paris?" });
  return {
    text: answer.text,
    finish_reason: answer.finishReason,
    usage: answer.totalUsage,
    steps: summary(answer.steps),
    calls,
  };
}

async function stream() {
  const answer = streamText({ ...request, prompt: "Stream the weather in Rome" });
  const parts = [];
  for await (const part of answer.textStream) parts.push(part);
  return {
    parts,
    text: await answer.text,
    finish_reason: await answer.finishReason,
    usage: await answer.totalUsage,
    steps: summary(await answer.steps),
    calls,
  };
}

await runCase({ generate, stream });
