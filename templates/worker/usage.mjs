// Usage: one event per `tools/call`, sent to the USAGE_QUEUE binding after the answer has gone out
// (ctx.waitUntil), and the queue consumer that writes each event as one usage_logs row (POST /usage_logs).
//
// Each event carries an `event_id` minted when the call is made; the consumer sends it with the row. A table
// with a unique index on event_id (mcpdeploy's usage_logs schema) then refuses a second copy, which the consumer
// counts as stored: so a write whose answer was lost (Xano stored the row, the connection dropped) and is
// retried does not become two rows.

import { callXano, xanoConfig } from "./xano.mjs";

// Queue messages are limited to 128 KB: params and results above this size are kept as a preview.
const MAX_JSON_CHARS = 16_000;
// Workers allow six connections open at once per invocation; more would only wait.
const CONCURRENCY = 6;

function bounded(value) {
  if (value === undefined) return null;
  const text = JSON.stringify(value);
  if (text === undefined || text.length <= MAX_JSON_CHARS) return value ?? null;
  return { truncated: true, chars: text.length, preview: text.slice(0, MAX_JSON_CHARS) };
}

function errorText(message) {
  if (!message) return null;
  if (message.error) return String(message.error.message ?? "error");
  if (message.result?.isError) {
    const texts = (message.result.content ?? []).filter((c) => c?.type === "text").map((c) => c.text);
    return texts.join("\n").slice(0, 2000) || "the tool reported an error";
  }
  return null;
}

// The usage_logs row for one tools/call: `call` is the JSON-RPC request, `answer` the response message (or
// undefined when none was seen), `who` the caller.
export function usageEvent(call, answer, who, startedMs, finishedMs) {
  const params = call.params ?? {};
  const meta = params._meta ?? {};
  return {
    event_id: crypto.randomUUID(),
    session_id: who.sessionId,
    user_id: who.userId,
    tool_name: typeof params.name === "string" ? params.name : "",
    params: bounded(params.arguments ?? {}),
    result: answer && !answer.error ? bounded(answer.result) : null,
    error: answer ? errorText(answer) : "no answer (the client went away or the Worker failed)",
    duration: Math.max(0, Math.round(finishedMs - startedMs)),
    timestamp: startedMs,
    ip_address: who.ip,
    // MCP has no field for the model behind a client: a client may name it in _meta; else the client's name.
    ai_model: typeof meta.ai_model === "string" ? meta.ai_model : (who.clientName ?? ""),
    cost: who.costOf(params.name),
  };
}

// The JSON-RPC messages of an MCP answer, JSON or SSE, read to the end; `onMessage(message, atMs)` is called
// as each arrives (the time is when the answer to a call was ready).
export async function readMessages(response, onMessage) {
  const type = response.headers.get("Content-Type") || "";
  if (!response.body) return;
  if (type.includes("application/json")) {
    const body = await response.json().catch(() => null);
    for (const message of [body].flat()) if (message) onMessage(message, Date.now());
    return;
  }
  if (!type.includes("text/event-stream")) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (value) buffer += value;
    const events = buffer.split(/\r?\n\r?\n/);
    buffer = done ? "" : events.pop();
    for (const event of events) {
      const data = event.split(/\r?\n/).filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, "")).join("\n");
      if (!data) continue;
      try {
        onMessage(JSON.parse(data), Date.now());
      } catch {
        // not JSON: a keep-alive or priming event
      }
    }
    if (done) return;
  }
}

// Send one event per tools/call in `calls` once their answers are known. Runs inside ctx.waitUntil.
export async function recordUsage(env, calls, response, who, startedMs) {
  const answers = new Map();
  try {
    await readMessages(response, (message, atMs) => {
      if (message && message.id !== undefined && !answers.has(message.id)) answers.set(message.id, { message, atMs });
    });
  } catch (error) {
    console.warn(`usage: could not read the answer (${error.message}); recording the calls without it`);
  }
  const events = calls.map((call) => {
    const seen = answers.get(call.id);
    return usageEvent(call, seen?.message, who, startedMs, seen?.atMs ?? Date.now());
  });
  if (events.length === 0) return;
  if (!env.USAGE_QUEUE) {
    console.error("usage: no USAGE_QUEUE binding (run `mcpdeploy provision`): events not recorded");
    return;
  }
  try {
    await env.USAGE_QUEUE.sendBatch(events.map((body) => ({ body })));
  } catch (error) {
    console.error(`usage: ${events.length} event(s) could not be queued: ${error.message}`);
  }
}

function isDuplicate(answer) {
  const message = answer.body && typeof answer.body.message === "string" ? answer.body.message : "";
  return answer.status === 400 && /duplicate record/i.test(message) && /event_id/i.test(message);
}

// The queue consumer: each message is one usage_logs row. A row Xano stored (or already holds) is acked; any
// other outcome is retried, alone, with a growing delay, so nothing is lost and nothing stored is sent again.
export async function consumeUsage(batch, env) {
  let config;
  try {
    config = await xanoConfig(env);
  } catch (error) {
    console.error(`usage consumer: ${error.message}; retrying the batch`);
    batch.retryAll({ delaySeconds: 30 });
    return;
  }
  const pending = [...batch.messages];
  const worker = async () => {
    for (let message = pending.shift(); message; message = pending.shift()) {
      await writeOne(config, message);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, pending.length) }, worker));
}

async function writeOne(config, message) {
  const delaySeconds = Math.min(60, 2 ** Math.max(0, (message.attempts ?? 1) - 1));
  try {
    const answer = await callXano(config, "POST", "usage_logs", message.body);
    if ((answer.status >= 200 && answer.status < 300) || isDuplicate(answer)) {
      message.ack();
      return;
    }
    console.warn(`usage consumer: Xano answered ${answer.status} for event ${message.body?.event_id}; retrying`);
  } catch (error) {
    console.warn(`usage consumer: event ${message.body?.event_id} not written (${error.message}); retrying`);
  }
  message.retry({ delaySeconds });
}
