import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// Served at /app/ (make run, CloudFront). config.json is not part of the build: the local
// stack generates it, `make deploy-web` writes it from the stack outputs.
export default defineConfig({
  base: "/app/",
  plugins: [react()],
  build: { outDir: "dist", sourcemap: false, chunkSizeWarningLimit: 300 },
});
