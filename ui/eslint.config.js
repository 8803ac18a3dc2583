import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules", "src/api/schema.d.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.{ts,tsx}"],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { "react-hooks": reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      // Server text is rendered as text, always.
      "no-restricted-syntax": [
        "error",
        {
          selector: "JSXAttribute[name.name='dangerouslySetInnerHTML']",
          message: "Render server text as text; never as HTML.",
        },
      ],
    },
  },
  {
    files: ["e2e/**/*.{js,mjs,ts}", "scripts/**/*.{js,mjs,ts}", "*.config.{js,ts}"],
    // Playwright scripts run in Node and hand functions to the page.
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
);
