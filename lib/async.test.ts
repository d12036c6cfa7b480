import { mapInSlices } from './async';

test('mapInSlices lets the event loop run between slices and keeps the order', async () => {
  let done = 0;
  const seen: number[] = [];
  // queued before the work: runs as soon as the loop is free, i.e. after the first slice
  setImmediate(() => seen.push(done));
  const out = await mapInSlices(Array.from({ length: 250 }, (_, i) => i), (x) => { done++; return x * 2; }, 100);
  expect(seen).toEqual([100]);
  expect(out).toEqual(Array.from({ length: 250 }, (_, i) => i * 2));
  expect(await mapInSlices([], (x: number) => x)).toEqual([]);
});
