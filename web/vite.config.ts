// The dashboard is plain TypeScript modules bundled by Vite into dist/ (or
// the --outDir CMake passes: build/web, beside the binary that serves it).
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  build: {
    target: 'es2020',
    sourcemap: false,
    chunkSizeWarningLimit: 200,
  },
});
