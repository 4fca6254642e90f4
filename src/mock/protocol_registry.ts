/**
 * The mock server's protocols by name (`llmperf mock --protocol NAME`). Each is a
 * {@link ProtocolAdapter}; adding one is a file with its adapter and an entry here.
 *
 * @module
 */
import { dashscopeProtocol } from "./dashscope.ts";
import { openaiProtocol } from "./openai.ts";
import type { ProtocolAdapter } from "./protocol_adapter.ts";
import { tritonProtocol } from "./triton.ts";
import { zhipuProtocol } from "./zhipu.ts";

/** Every protocol the mock speaks; `openai` is the default. */
export const MOCK_PROTOCOL_NAMES = ["openai", "dashscope", "zhipu", "triton"] as const;

/** A protocol name. */
export type MockProtocolName = typeof MOCK_PROTOCOL_NAMES[number];

/** Every protocol's adapter, by name. */
export const MOCK_PROTOCOLS: Readonly<Record<MockProtocolName, ProtocolAdapter>> = Object.freeze({
  openai: openaiProtocol,
  dashscope: dashscopeProtocol,
  zhipu: zhipuProtocol,
  triton: tritonProtocol,
});
