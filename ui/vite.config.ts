import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The build goes inside the Python package, which `tidings serve` serves at `/`.
const outDir = fileURLToPath(new URL("../src/tidings/console", import.meta.url));

export default defineConfig({
  plugins: [react()],
  build: {
    outDir,
    emptyOutDir: true,
    // Hashed names only under assets/: the server caches those for a year.
    assetsDir: "assets",
    // Inlined assets would become data: URLs in CSS or scripts; keep every asset a file.
    assetsInlineLimit: 0,
    sourcemap: false,
    // Rolldown's note on slow plugins is noise on a shared 2-core machine.
    rolldownOptions: { checks: { pluginTimings: false } },
  },
  server: {
    // `npm run dev` against a `tidings serve` on the default port.
    proxy: { "/api": "http://127.0.0.1:8000" },
  },
  test: {
    environment: "happy-dom",
    setupFiles: ["./src/test/setup.ts"],
    css: false,
  },
});
