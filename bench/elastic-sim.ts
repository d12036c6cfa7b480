/**
 * The bench's job trace generator; the simulated cluster it runs on is server/elastic/simulate.ts
 * (shared with POST …/elasticity/simulate).
 */
import { type Job, prng } from '../server/elastic/simulate';

export { ClusterSim, type Job, type SimVm, prng } from '../server/elastic/simulate';

const H = 3600_000;
const MIN = 60_000;

/**
 * A bursty 24-hour trace: campaigns of 10–150 jobs submitted over 1–5 minutes, about every
 * 75 minutes in working hours (08–20) and every 4 hours at night, plus a daytime trickle of
 * single jobs. Run times are log-normal (median 20 min, 2–120 min).
 */
export function generateTrace(seed: number, hours = 24): Job[] {
  const r = prng(seed);
  const exp = (mean: number) => -Math.log(1 - r()) * mean;
  const normal = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const runtime = (median: number) => Math.min(120 * MIN, Math.max(2 * MIN, median * Math.exp(0.6 * normal())));
  const day = (t: number) => { const h = (t / H) % 24; return h >= 8 && h < 20; };
  const jobs: Job[] = [];
  let id = 0;
  for (let t = exp(60 * MIN); t < hours * H; t += exp(day(t) ? 75 * MIN : 240 * MIN)) {
    const size = 10 + Math.floor(r() ** 2 * 140);
    const spread = (1 + r() * 4) * MIN;
    const median = (10 + r() * 20) * MIN;
    for (let i = 0; i < size; i++) jobs.push({ id: id++, submit: Math.round(t + r() * spread), runtime: Math.round(runtime(median)) });
  }
  for (let t = 8 * H; t < hours * H; t += exp(10 * MIN)) {
    if (day(t)) jobs.push({ id: id++, submit: Math.round(t), runtime: Math.round(runtime(15 * MIN)) });
  }
  return jobs.sort((a, b) => a.submit - b.submit || a.id - b.id);
}
