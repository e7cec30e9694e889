// The adaptive quality controller with simulated time: a simulated server that processes
// at most `capacityFps` (a frame sent faster waits, so the round trip grows, as in a queue)
// and optionally refuses past `capFps` (as `--max-fps` does), and a client that sends as
// fast as the controller allows.  The simulated server is a pipeline: it takes frames
// in every 1/capacityFps, and a frame's round trip is its wait for that plus a fixed time.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { AdaptiveController, AdaptReason, ADAPT_DEFAULTS } from '../js/adapt.js';

/**
 * Runs `seconds` of simulated time from `t0` in 10 ms ticks; `server(t)` says the
 * conditions at time t: `{ capacityFps, capFps, baseLatencyMs }`. Returns the frames sent
 * per second over the last `tailSeconds`, the median latency there, and the time `t` reached.
 */
function simulate(ctl, seconds, server, { t0 = 0, tailSeconds = 3 } = {}) {
  let lastSend = -Infinity;
  let busyUntil = t0; // the simulated server's queue
  let capWindow = { start: t0, count: 0 };
  let hintWindow = { start: t0, in: 0, out: 0 };
  const sends = [];
  const latencies = [];
  for (let t = t0; t < t0 + seconds * 1000; t += 10) {
    const { capacityFps = Infinity, capFps = Infinity, baseLatencyMs = 20 } = server(t);
    if (ctl.allows(t, lastSend)) {
      lastSend = t;
      ctl.sent(t);
      sends.push(t);
      if (t - capWindow.start >= 1000) capWindow = { start: t, count: 0 };
      capWindow.count += 1;
      if (capWindow.count > capFps) {
        if (capWindow.count === Math.floor(capFps) + 1) ctl.hint(); // rate_limited
      } else {
        const start = Math.max(t, busyUntil);
        busyUntil = start + 1000 / capacityFps;
        const latency = start - t + baseLatencyMs; // queueing, then a fixed time
        ctl.latency(latency);
        latencies.push([t, latency]);
        hintWindow.in += 1;
        hintWindow.out += 1;
      }
    }
    // The server's rate hint: more in than it processes in a second.
    if (t - hintWindow.start >= 1000) {
      const processed = Math.min(hintWindow.out, capacityFps);
      if (hintWindow.in > 1.2 * processed && processed > 0) ctl.hint(processed);
      hintWindow = { start: t, in: 0, out: 0 };
    }
    ctl.update(t);
  }
  const end = t0 + seconds * 1000;
  const tail = (list) => list.filter((x) => (Array.isArray(x) ? x[0] : x) >= end - tailSeconds * 1000);
  const tailLatencies = tail(latencies).map(([, l]) => l).sort((a, b) => a - b);
  return {
    sentFps: tail(sends).length / tailSeconds,
    latencyMs: tailLatencies[Math.floor(tailLatencies.length / 2)] ?? NaN,
    end,
  };
}

test('starts at the best quality and the highest rate', () => {
  const ctl = new AdaptiveController();
  assert.equal(ctl.quality, ADAPT_DEFAULTS.maxQuality);
  assert.equal(ctl.targetFps, ADAPT_DEFAULTS.maxFps);
  assert.ok(ctl.allows(1000, 1000 - 1000 / 30));
  assert.ok(!ctl.allows(1000, 1000 - 10));
});

test('a hint backs off the rate below the hint and lowers the quality', () => {
  const ctl = new AdaptiveController({}, 0);
  for (let t = 0; t < 1000; t += 40) ctl.sent(t); // 25 fps
  ctl.hint(12);
  assert.equal(ctl.update(600), AdaptReason.HINT);
  assert.ok(ctl.targetFps <= 12 * ADAPT_DEFAULTS.backoff + 1e-9, `${ctl.targetFps}`);
  assert.ok(ctl.quality < ADAPT_DEFAULTS.maxQuality);
  assert.equal(ctl.update(700), null, 'one decision per interval');
});

test('latency over the budget backs off; far over it, two quality steps', () => {
  const ctl = new AdaptiveController({ budgetMs: 100 }, 0);
  for (let t = 0; t < 1000; t += 50) ctl.sent(t); // 20 fps
  ctl.latency(150);
  assert.equal(ctl.update(1000), AdaptReason.LATENCY);
  assert.ok(Math.abs(ctl.targetFps - 16) < 1e-9, `${ctl.targetFps}`);
  assert.ok(Math.abs(ctl.quality - 0.85) < 1e-9);
  ctl.latency(300);
  assert.equal(ctl.update(1500), null, 'no second decrease within the cooldown');
  ctl.latency(300);
  assert.equal(ctl.update(2000), AdaptReason.LATENCY);
  assert.ok(Math.abs(ctl.quality - 0.75) < 1e-9, `${ctl.quality}`);
});

test('quality and rate stay within their bounds', () => {
  const ctl = new AdaptiveController({ budgetMs: 10 }, 0);
  for (let t = 0; t < 30_000; t += 500) {
    ctl.sent(t);
    ctl.latency(1000);
    ctl.update(t);
  }
  assert.equal(ctl.quality, ADAPT_DEFAULTS.minQuality);
  assert.equal(ctl.targetFps, ADAPT_DEFAULTS.minFps);
  for (let t = 30_000; t < 200_000; t += 100) {
    ctl.sent(t);
    ctl.latency(1);
    ctl.update(t);
  }
  assert.equal(ctl.quality, ADAPT_DEFAULTS.maxQuality);
  assert.ok(ctl.targetFps <= ADAPT_DEFAULTS.maxFps);
});

test('no increase while a hint is recent, then additive probing', () => {
  const ctl = new AdaptiveController({}, 0);
  for (let t = 0; t < 1000; t += 100) ctl.sent(t);
  ctl.hint(10);
  ctl.update(1000);
  const after = ctl.targetFps;
  for (let t = 1000; t <= 2500; t += 100) {
    ctl.sent(t);
    ctl.latency(20);
    ctl.update(t);
  }
  assert.equal(ctl.targetFps, after, 'held');
  for (let t = 2600; t <= 4000; t += 100) {
    ctl.sent(t);
    ctl.latency(20);
    ctl.update(t);
  }
  assert.ok(ctl.targetFps > after, 'probing');
  assert.ok(ctl.targetFps - after <= 4 * 1.5 + 1e-9, `additive: ${after} -> ${ctl.targetFps}`);
});

test('behind a 10 fps cap the rate settles at or under 10 fps, and climbs back when the cap is lifted', () => {
  const ctl = new AdaptiveController({}, 0);
  const capped = simulate(ctl, 30, () => ({ capFps: 10, capacityFps: 40 }));
  assert.ok(capped.sentFps <= 10.5, `sent ${capped.sentFps} fps behind the cap`);
  assert.ok(capped.sentFps >= 6, `sent ${capped.sentFps} fps behind the cap (uses it)`);
  const lifted = simulate(ctl, 15, () => ({ capacityFps: 40 }), { t0: capped.end });
  console.log('simulated cap:', JSON.stringify({ capped, lifted, now: ctl.snapshot() }));
  assert.ok(lifted.sentFps > 15, `sent ${lifted.sentFps} fps once lifted`);
});

test('a slow server: latency kept under the budget, and the rate recovers when it speeds up', () => {
  const ctl = new AdaptiveController({ budgetMs: 150 }, 0);
  const slow = simulate(ctl, 30, () => ({ capacityFps: 8, baseLatencyMs: 60 }));
  assert.ok(slow.latencyMs <= 150, `median latency ${slow.latencyMs} ms with a slow server`);
  assert.ok(slow.sentFps >= 4, `sent ${slow.sentFps} fps with a slow server (uses it)`);
  const fast = simulate(ctl, 20, () => ({ capacityFps: 60, baseLatencyMs: 60 }), { t0: slow.end });
  console.log('simulated slow server:', JSON.stringify({ slow, fast, now: ctl.snapshot() }));
  assert.ok(fast.sentFps > 15, `sent ${fast.sentFps} fps once fast`);
  assert.ok(fast.latencyMs <= 150, `median latency ${fast.latencyMs} ms`);
});

/**
 * H.264 over a simulated uplink of `linkBps(t)` bits a second: a 30 fps camera, each frame
 * `bitrate / fps` bits (a keyframe every 3 s, six times that), sent whenever the controller
 * allows and the send buffer holds under 150 ms of video (as PoseStream does, which tells
 * the controller `congested()` when a frame waits for it); a frame's result arrives after the
 * link carried it and the server took `serverMs`, and only then does the controller hear
 * its round trip. Returns the tail's sent fps, median and p95 latency, and the mean bitrate.
 */
function simulateUplink(ctl, seconds, linkBps, { t0 = 0, tailSeconds = 5, serverMs = 25, cameraFps = 30 } = {}) {
  let lastSend = -Infinity;
  let lastCamera = -Infinity;
  let lastKey = -Infinity;
  let linkFreeAt = t0;
  const pending = []; // [arrival ms, latency ms]
  const sends = [];
  const latencies = [];
  const bitrates = [];
  for (let t = t0; t < t0 + seconds * 1000; t += 5) {
    while (pending.length > 0 && pending[0][0] <= t) ctl.latency(pending.shift()[1]);
    const camera = t - lastCamera >= 1000 / cameraFps;
    if (camera) lastCamera = t;
    const backlogBits = Math.max(0, linkFreeAt - t) / 1000 * linkBps(t);
    const limitBits = Math.max(16 * 1024 * 8, ctl.bitrate * 0.15);
    const wanted = camera && ctl.allows(t, lastSend);
    if (wanted && backlogBits >= limitBits) ctl.congested();
    if (wanted && backlogBits < limitBits) {
      lastSend = t;
      ctl.sent(t);
      sends.push(t);
      const key = t - lastKey >= 3000;
      if (key) lastKey = t;
      const bits = (ctl.bitrate / Math.min(cameraFps, ctl.targetFps)) * (key ? 6 : 1);
      const arrival = Math.max(t, linkFreeAt) + (bits / linkBps(t)) * 1000;
      linkFreeAt = arrival;
      const latency = arrival - t + serverMs;
      pending.push([t + latency, latency]);
      latencies.push([t, latency]);
      bitrates.push([t, ctl.bitrate]);
    }
    ctl.update(t);
  }
  const end = t0 + seconds * 1000;
  const tail = (list) => list.filter((x) => (Array.isArray(x) ? x[0] : x) >= end - tailSeconds * 1000);
  const tailLatencies = tail(latencies).map(([, l]) => l).sort((a, b) => a - b);
  const tailBitrates = tail(bitrates).map(([, b]) => b);
  return {
    sentFps: tail(sends).length / tailSeconds,
    latencyMs: tailLatencies[Math.floor(tailLatencies.length / 2)] ?? NaN,
    p95Ms: tailLatencies[Math.floor(tailLatencies.length * 0.95)] ?? NaN,
    bitrate: tailBitrates.reduce((a, b) => a + b, 0) / Math.max(1, tailBitrates.length),
    end,
  };
}

test('H.264 starts at its start bitrate; JPEG ignores the bitrate', () => {
  const ctl = new AdaptiveController({ video: true }, 0);
  assert.equal(ctl.bitrate, ADAPT_DEFAULTS.startBitrate);
  assert.equal(ctl.snapshot().bitrate, ADAPT_DEFAULTS.startBitrate);
  const jpeg = new AdaptiveController({}, 0);
  for (let t = 0; t < 1000; t += 33) jpeg.sent(t);
  jpeg.latency(400);
  assert.equal(jpeg.update(1000), AdaptReason.LATENCY);
  assert.equal(jpeg.bitrate, ADAPT_DEFAULTS.startBitrate, 'JPEG: the quality moved, not the bitrate');
  assert.ok(jpeg.quality < ADAPT_DEFAULTS.maxQuality);
});

test('H.264: latency over the budget lowers the bitrate and keeps the rate', () => {
  const ctl = new AdaptiveController({ video: true, budgetMs: 100 }, 0);
  for (let t = 0; t < 1000; t += 33) ctl.sent(t);
  ctl.latency(150);
  assert.equal(ctl.update(1000), AdaptReason.LATENCY);
  assert.ok(Math.abs(ctl.bitrate - 700_000) < 1, `${ctl.bitrate}`);
  assert.equal(ctl.targetFps, ADAPT_DEFAULTS.maxFps);
  ctl.latency(500);
  assert.equal(ctl.update(1500), null, 'cooling down');
  ctl.latency(500);
  assert.equal(ctl.update(2100), AdaptReason.LATENCY);
  assert.ok(Math.abs(ctl.bitrate - 343_000) < 1, `far over the budget: two steps, ${ctl.bitrate}`);
  // A send buffer that fills says the same without a round trip.
  ctl.congested();
  assert.equal(ctl.update(3200), AdaptReason.CONGESTION);
  assert.equal(ctl.bitrate, ADAPT_DEFAULTS.minBitrate, 'never under its floor');
  // At the floor, the rate gives way.
  ctl.congested();
  assert.equal(ctl.update(4300), AdaptReason.LATENCY);
  assert.ok(ctl.targetFps < ADAPT_DEFAULTS.maxFps, `${ctl.targetFps}`);
});

test('H.264: the server\'s hint lowers the rate and keeps the bitrate', () => {
  const ctl = new AdaptiveController({ video: true }, 0);
  for (let t = 0; t < 1000; t += 33) ctl.sent(t);
  ctl.hint(12);
  assert.equal(ctl.update(1000), AdaptReason.HINT);
  assert.ok(ctl.targetFps <= 12 * ADAPT_DEFAULTS.backoff + 1e-9);
  assert.equal(ctl.bitrate, ADAPT_DEFAULTS.startBitrate);
});

for (const linkMbps of [0.8, 2, 4]) {
  test(`H.264 over a ${linkMbps} Mbit/s uplink: the bitrate settles under it, 30 fps, latency under the budget`, () => {
    const ctl = new AdaptiveController({ video: true, budgetMs: 150 }, 0);
    const run = simulateUplink(ctl, 60, () => linkMbps * 1e6);
    console.log(`simulated ${linkMbps} Mbit/s uplink:`, JSON.stringify({ run, now: ctl.snapshot() }));
    assert.ok(run.sentFps >= 27, `sent ${run.sentFps} fps`);
    assert.ok(run.latencyMs <= 150, `median latency ${run.latencyMs} ms`);
    assert.ok(run.bitrate <= linkMbps * 1e6, `bitrate ${run.bitrate}`);
    assert.ok(run.bitrate >= Math.min(0.4 * linkMbps * 1e6, ADAPT_DEFAULTS.maxBitrate * 0.5), `uses the link: ${run.bitrate}`);
  });
}

test('H.264: the uplink narrows, then widens: the bitrate follows both ways', () => {
  const ctl = new AdaptiveController({ video: true }, 0);
  const wide = simulateUplink(ctl, 30, () => 8e6);
  const narrow = simulateUplink(ctl, 30, () => 0.6e6, { t0: wide.end });
  const again = simulateUplink(ctl, 60, () => 8e6, { t0: narrow.end });
  console.log('simulated uplink 8 -> 0.6 -> 8 Mbit/s:', JSON.stringify({ wide, narrow, again }));
  assert.ok(narrow.bitrate < 0.6e6, `${narrow.bitrate} on 0.6 Mbit/s`);
  assert.ok(narrow.latencyMs <= 150, `${narrow.latencyMs} ms on 0.6 Mbit/s`);
  assert.ok(again.bitrate > 1.5e6, `${again.bitrate} once wide again`);
});

test('H.264: probing slows near the bitrate at which the uplink filled, and forgets it once past', () => {
  const ctl = new AdaptiveController({ video: true, startBitrate: 1_500_000 }, 0);
  for (let t = 0; t < 1000; t += 33) ctl.sent(t);
  ctl.congested();
  assert.equal(ctl.update(1000), AdaptReason.CONGESTION);
  assert.equal(ctl.snapshot().limitBitrate, 1_500_000);
  // Far under the limit: the full probe (8% a second); within 15% of it: a quarter of that.
  const probeFrom = (bitrate, t) => {
    ctl.bitrate = bitrate;
    ctl.latency(20);
    assert.equal(ctl.update(t), AdaptReason.PROBE);
    return ctl.bitrate / bitrate - 1;
  };
  assert.ok(Math.abs(probeFrom(1_000_000, 3500) - 0.08) < 1e-9);
  assert.ok(Math.abs(probeFrom(1_400_000, 4500) - 0.02) < 1e-9);
  // Past the limit by 10%: forgotten, full probes again.
  probeFrom(1_640_000, 5500);
  assert.equal(ctl.snapshot().limitBitrate, Infinity);
  assert.ok(Math.abs(probeFrom(1_700_000, 6500) - 0.08) < 1e-9);
});
