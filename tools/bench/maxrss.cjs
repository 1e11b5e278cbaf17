// Preloaded into a measured process (NODE_OPTIONS=--require): records its peak RSS (KiB) at exit.
process.on('exit', () => {
  if (process.env.BENCH_RSS_FILE) require('node:fs').writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS));
});
