// Polls URLs until each answers 200 (or the time runs out, or a watched process dies).
// Usage: node src/wait-ready.js <timeout-seconds> <pid,pid> <url> [url...]
const [timeout, pids, ...urls] = process.argv.slice(2);
const deadline = Date.now() + Number(timeout) * 1000;
const alive = (pid) => {
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch {
    return false;
  }
};
for (const url of urls) {
  for (;;) {
    const dead = pids.split(',').filter((p) => p && !alive(p));
    if (dead.length) {
      console.error(`wait-ready: process ${dead.join(', ')} exited`);
      process.exit(1);
    }
    const ok = await fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      console.error(`wait-ready: ${url} not ready after ${timeout}s`);
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
