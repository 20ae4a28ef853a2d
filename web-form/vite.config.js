// One build, three outputs: the support page (/support), the operator console (/console) and,
// with `--mode widget`, the embeddable widget.js (one self-contained classic script).
import { resolve } from 'node:path';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const here = import.meta.dirname;

const pages = {
  build: {
    rollupOptions: {
      input: { support: resolve(here, 'support.html'), console: resolve(here, 'console.html') },
    },
  },
};

const widget = {
  // Library mode leaves process.env.NODE_ENV to the host page; React reads it.
  define: { 'process.env.NODE_ENV': JSON.stringify('production') },
  build: {
    emptyOutDir: false, // the pages were built first into the same folder
    lib: {
      entry: resolve(here, 'src/support/widget.jsx'),
      formats: ['iife'],
      name: 'FteSupportWidget',
      fileName: () => 'widget.js',
    },
  },
};

export default defineConfig(({ mode }) => ({
  plugins: [react()],
  // `npm run dev` against a running `make run` stack.
  server: { proxy: { '/api': process.env.FTE_API ?? 'http://127.0.0.1:8000' } },
  ...(mode === 'widget' ? widget : pages),
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{js,jsx}'],
    setupFiles: ['src/test-setup.js'],
    restoreMocks: true,
    unstubGlobals: true,
  },
}));
