import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", "vitrine-data/", ".cache/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        Buffer: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
        URL: "readonly",
        AbortController: "readonly",
        AbortSignal: "readonly",
      },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  // The core owns its ports: it imports only itself, node:crypto and node:stream — an allowlist,
  // so a new library (a driver, a metrics client, node:os) cannot slip in. A relative import
  // that climbs out of src/core is refused, whatever depth the importing file sits at.
  ...[
    ["src/core/*.ts", "^\\.\\./"],
    ["src/core/*/*.ts", "^\\.\\./\\.\\./"],
    ["src/core/*/*/*.ts", "^\\.\\./\\.\\./\\.\\./"],
  ].map(([files, outside]) => ({
    files: [files],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { regex: outside, message: "src/core imports only src/core: declare a port in src/core/ports." },
            {
              regex: "^(?!\\.|node:crypto$|node:stream$)",
              message:
                "src/core imports only itself, node:crypto and node:stream: declare a port in src/core/ports and implement it outside.",
            },
          ],
        },
      ],
    },
  })),
  {
    // Dialects speak to the core only: never to the stores or the workers behind it.
    files: ["src/api/**/*.ts", "src/auth/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "^(\\.\\./)+(storage|worker)/",
              message: "Go through the core (src/core) instead of its implementations.",
            },
            { regex: "^(kysely|better-sqlite3)$", message: "No SQL outside src/storage." },
          ],
        },
      ],
    },
  },
  {
    // The command line reads the catalog through src/storage, never with SQL of its own.
    files: ["src/cli/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "^(kysely|better-sqlite3|pg)$",
              message: "No SQL outside src/storage: add a query there.",
            },
          ],
        },
      ],
    },
  },
  {
    // Tests read JSON responses whose shape is what they assert on.
    files: ["test/**/*.ts", "bench/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
