'use strict';
/*
 * The only timers of the browser tests. Nothing sleeps a fixed time to let
 * something happen: a test waits for the condition itself, with a deadline
 * (waitFor), or, where it must show that nothing happens for a while, says
 * so and bounds it (holdsFor). Deadlines are generous (a loaded 2-core
 * machine, an ASan build): a latency worth knowing is printed with note(),
 * not asserted tightly.
 */

const POLL_MS = 25;

function tick(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/* Polls fn until it returns something truthy, which is returned; fails
 * after timeoutMs. */
async function waitFor(fn, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() >= deadline) {
      throw new Error('timed out after ' + timeoutMs + ' ms waiting for ' + (what || fn));
    }
    await tick(Math.min(POLL_MS, Math.max(1, deadline - Date.now())));
  }
}

/* "Nothing happens for ms": fn stays truthy all that time (checked every
 * POLL_MS and at the end); fails as soon as it is not. Returns its last
 * value. */
async function holdsFor(fn, ms, what) {
  const start = Date.now();
  const end = start + ms;
  for (;;) {
    const value = await fn();
    if (!value) {
      throw new Error('did not hold for ' + ms + ' ms (broke after ' + (Date.now() - start) + ' ms): ' +
        (what || fn));
    }
    if (Date.now() >= end) return value;
    await tick(Math.min(POLL_MS, Math.max(1, end - Date.now())));
  }
}

/* A promise that must settle within ms (a request that could hang). */
async function within(promise, ms, what) {
  let timer;
  const late = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error('not within ' + ms + ' ms: ' + what)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

module.exports = { waitFor, holdsFor, within };
