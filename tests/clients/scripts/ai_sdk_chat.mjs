// The Vercel AI SDK's OpenAI provider in chat mode (openai.chat(...)) against Drafter,
// one case per run: node ai_sdk_chat.mjs generate|stream
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, streamText } from "ai";

import { API_KEY, BASE_URL, MODEL, recordingFetch, runCase } from "./drafter.mjs";

const openai = createOpenAI({ apiKey: API_KEY, baseURL: BASE_URL, fetch: recordingFetch });

async function generate() {
  const answer = await generateText({
    model: openai.chat(MODEL),
    system: "Be brief.",
    prompt: "Hello from the AI SDK",
    maxOutputTokens: 100,
  });
  return { text: answer.text, finish_reason: answer.finishReason, usage: answer.usage };
}

async function stream() {
  const answer = streamText({ model: openai.chat(MODEL), prompt: "Stream to the AI SDK" });
  const parts = [];
  for await (const part of answer.textStream) parts.push(part);
  return {
    parts,
    text: await answer.text,
    finish_reason: await answer.finishReason,
    usage: await answer.usage,
  };
}

await runCase({ generate, stream });
