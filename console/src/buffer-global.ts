// The format inspectors (src/inspect) are written for Node's Buffer; in the browser the `buffer`
// package stands in for it. esbuild injects this module wherever a file names `Buffer` unbound.
export { Buffer } from "buffer";
