// What every client script shares: where Drafter is (DRAFTER_BASE_URL, the /api/v1 root),
// the key (DRAFTER_API_KEY) and model (DRAFTER_MODEL), a fetch that records each HTTP attempt
// a client makes, and the one JSON line a script prints for the test to read.

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

export const BASE_URL = required("DRAFTER_BASE_URL");
export const API_KEY = required("DRAFTER_API_KEY");
export const MODEL = process.env.DRAFTER_MODEL ?? "claude-haiku-4-5";

// "POST /api/v1/chat/completions" for each request the client sent, retries included.
export const attempts = [];

export async function recordingFetch(input, init) {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const method = init?.method ?? (input instanceof Request ? input.method : "GET");
  attempts.push(`${method} ${url.pathname}`);
  return fetch(input, init);
}

// An SDK error as the test asserts it: its class and what the SDK parsed from the answer.
export function errorFields(error) {
  return {
    class: error.constructor.name,
    status: error.status ?? null,
    type: error.type ?? null,
    code: error.code ?? null,
    param: error.param ?? null,
    message: error.message,
    headers: error.headers ? Object.fromEntries(new Headers(error.headers)) : null,
  };
}

// Runs the case named by the first argument and prints its result with the attempts made;
// an exception the case did not expect ends the script with a non-zero exit.
export async function runCase(cases) {
  const name = process.argv[2];
  if (!(name in cases)) throw new Error(`unknown case ${name}; one of ${Object.keys(cases)}`);
  const result = await cases[name]();
  console.log(JSON.stringify({ result, attempts }));
}
