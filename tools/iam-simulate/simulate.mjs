// Evaluate a batch of IAM requests with @cloud-copilot/iam-simulate (strict mode).
// stdin: a JSON array of Simulation objects (the library's own input shape).
// stdout: a JSON array, one entry per simulation, in order:
//   {result: 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied' | 'Error', errors?, denials?}
import { getDenialReasons, runSimulation } from '@cloud-copilot/iam-simulate'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const simulations = JSON.parse(Buffer.concat(chunks).toString('utf8'))
const results = []
for (const simulation of simulations) {
  const response = await runSimulation(
    { serviceControlPolicies: [], resourceControlPolicies: [], ...simulation },
    { simulationMode: 'Strict' }
  )
  if (response.resultType === 'error') {
    results.push({ result: 'Error', errors: response.errors })
    continue
  }
  const entry = { result: response.overallResult }
  if (response.overallResult !== 'Allowed' && response.resultType === 'single') {
    try {
      entry.denials = getDenialReasons(response.result.analysis)
    } catch (error) {
      entry.denials = String(error)
    }
  }
  results.push(entry)
}
process.stdout.write(JSON.stringify(results))
