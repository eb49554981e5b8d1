// LangChain JS's ChatOpenAI against Drafter's chat completions, one case per run:
// node langchain_chat.mjs invoke|stream|tools
import { HumanMessage, SystemMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { ChatOpenAI } from "@langchain/openai";
import { z } from "zod";

import { API_KEY, BASE_URL, MODEL, recordingFetch, runCase } from "./drafter.mjs";

const chat = new ChatOpenAI({
  model: MODEL,
  apiKey: API_KEY,
  configuration: { baseURL: BASE_URL, fetch: recordingFetch },
});

const weather = tool(async ({ city }) => `sunny in ${city}`, {
  name: "weather",
  description: "Weather in a city",
  schema: z.object({ city: z.string().describe("the city") }),
});

async function invoke() {
  const answer = await chat.invoke([
    new SystemMessage("Be brief."),
    new HumanMessage("Hello from LangChain"),
  ]);
  return {
    content: answer.content,
    usage: answer.usage_metadata,
    finish_reason: answer.response_metadata.finish_reason,
  };
}

async function stream() {
  let content = "";
  let chunks = 0;
  let usage = null;
  for await (const chunk of await chat.stream("Stream to LangChain")) {
    chunks += 1;
    content += chunk.content;
    usage = chunk.usage_metadata ?? usage;
  }
  return { content, chunks, usage };
}

async function tools() {
  // bindTools as applications call it: `strict` left unset
  const answer = await chat.bindTools([weather]).invoke("Weather in Paris?");
  return { content: answer.content, tool_calls: answer.tool_calls };
}

await runCase({ invoke, stream, tools });
