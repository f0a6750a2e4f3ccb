// A private Xvfb for one bench run. -displayfd lets the server pick a free display number itself,
// so parallel runs (and other engineers' tests) never collide.
export async function startXvfb(procs, { width = 1920, height = 1080, depth = 24 } = {}) {
  const child = procs.spawn('Xvfb', 'Xvfb', ['-displayfd', '3', '-screen', '0', `${width}x${height}x${depth}`, '-nolisten', 'tcp', '-noreset', '+extension', 'DAMAGE', '+extension', 'RANDR'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  const display = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`Xvfb did not report a display in 10 s: ${child.log.join(' | ')}`)), 10_000);
    child.stdio[3].on('data', (d) => {
      buf += d;
      const m = /^(\d+)\n/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(`:${m[1]}`);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited (${code}): ${child.log.join(' | ')}`));
    });
  });
  return { display, pid: child.pid, child };
}
