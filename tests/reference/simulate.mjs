// Reads one simulation per line on stdin (`{"id": ..., "simulation": {...}}`, the input of
// @cloud-copilot/iam-simulate's runSimulation) and prints one line per input:
// `{"id": ..., "decision": "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied"}` or
// `{"id": ..., "error": "..."}` when the simulator rejects the input. Driven by
// tests/cli/reference.rs; see docs/testing.md.
import { createInterface } from 'node:readline'
import { runSimulation } from '@cloud-copilot/iam-simulate'

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of lines) {
  if (line.trim() === '') continue
  const { id, simulation } = JSON.parse(line)
  let out
  try {
    const response = await runSimulation(simulation, {})
    if (response.resultType === 'error') {
      out = { id, error: JSON.stringify(response.errors) }
    } else {
      out = { id, decision: response.overallResult }
    }
  } catch (e) {
    out = { id, error: String(e && e.stack ? e.stack : e) }
  }
  process.stdout.write(JSON.stringify(out) + '\n')
}
