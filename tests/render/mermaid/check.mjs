// Parse each Mermaid file named on the command line with Mermaid's own parser.
// Prints one JSON object per file: {"file", "ok", "type"} or {"file", "ok": false, "error"}.
// Mermaid expects a DOM; jsdom provides one without a browser.
import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!DOCTYPE html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });

let failed = false;
for (const file of process.argv.slice(2)) {
  try {
    const result = await mermaid.parse(readFileSync(file, "utf8"));
    console.log(JSON.stringify({ file, ok: true, type: result.diagramType }));
  } catch (error) {
    failed = true;
    console.log(JSON.stringify({ file, ok: false, error: String(error.message ?? error) }));
  }
}
process.exit(failed ? 1 : 0);
